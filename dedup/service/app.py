"""The HTTP service: `create_app` builds the ASGI application that ``dedup serve`` runs.

Routes: ``POST /v1/check`` (the JSON report, or the HTML or SARIF one), ``PUT`` and ``DELETE
/v1/archive/{id}`` (publish and withdraw; a bearer token when the server has one),
``GET /v1/archive/stats``, the editor's page at ``/``, ``GET /livez`` and ``GET /readyz``
(ready once the archive index is open), and the OpenAPI spec at ``/openapi.json``.

Every error is JSON ``{"message": ...}`` with its status (413 body too large, 422 malformed
input, 401 token, 404, 503 index not ready or unavailable); an unexpected error is logged
with its traceback on the server and answered with 500 and no detail.
"""
from __future__ import annotations

import hmac
import io
import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Match

from .. import __version__
from ..archive.index import DEFAULT_LOCATION, Index
from ..archive.store import ArchiveError
from ..config import Config, fails, filter_findings, finding_level
from ..detector import Detector
from ..formats import FormatContext, get_formatter
from ..model import Document, Report, count_kinds
from ..readers import READERS, InputError
from .limits import BodyLimit
from .models import ArchivedOut, ArchiveDocumentIn, CheckRequest, DocumentId, DocumentIn, Health, Problem, ReportOut
from .page import editor_page

log = logging.getLogger("dedup.service")
DEFAULT_MAX_BODY = 5 * 1024 * 1024
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
PAGE_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "img-src data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class ServiceSettings:
    """What a server is started with. `config` gives the detector settings, the kinds and
    severities; `root` is where its per-file-ignores globs start; `token`, when set, is the
    bearer token the archive-changing routes require."""

    index: str = DEFAULT_LOCATION
    config: Config = field(default_factory=Config)
    root: Path | None = None
    token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    checks_at_once: int = 1  # engine calls run at once in one process (they are CPU-bound: scale with workers)


class IndexOpener:
    """Opens the archive index on a background thread, so the server answers /livez (and
    /readyz with 503) while a large index opens; `index` once ready."""

    def __init__(self, open_index: Callable[[], Index]) -> None:
        self._open_index = open_index
        self._thread = threading.Thread(target=self._run, name="dedup-open-index", daemon=True)
        self.index: Index | None = None
        self.error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.index = self._open_index()
        except (ArchiveError, OSError, ValueError) as err:
            self.error = str(err)
            log.error("cannot open the archive index: %s", err)
        except Exception:  # noqa: BLE001 - reported as not ready; the traceback goes to the log
            self.error = "the archive index could not be opened (see the server log)"
            log.exception("cannot open the archive index")

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def close(self) -> None:
        self._thread.join()
        if self.index is not None:
            self.index.close()

    def require(self) -> Index:
        if self.index is None:
            raise StarletteHTTPException(503, self.error or "the archive index is not open yet; retry shortly",
                                         headers={"retry-after": "1"} if self.error is None else None)
        return self.index


class Problems(Exception):
    """An error answered with `status` and `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(settings: ServiceSettings) -> FastAPI:
    """The ASGI application for `settings` (run it with uvicorn, or ``dedup serve``)."""
    opener = IndexOpener(lambda: Index.open(settings.index, create=True, **settings.config.detector_settings()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opener.start()
        yield
        opener.close()

    app = FastAPI(title="dedup", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Find repeated and garbled near-duplicate sentences in drafts, "
                              "inside them and against the archive of what was published.",
                  responses={400: {"model": Problem, "description": "A body that cannot be decoded"},
                             422: {"model": Problem, "description": "Malformed input"},
                             413: {"model": Problem, "description": "Body over the size limit"}})
    app.state.opener = opener
    _add_error_handlers(app)
    _add_routes(app, settings, opener)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def _add_routes(app: FastAPI, settings: ServiceSettings, opener: IndexOpener) -> None:
    engine = anyio.CapacityLimiter(settings.checks_at_once)

    async def in_engine(work: Callable[[], Any]) -> Any:
        """Run `work` (the engine, the index) on a worker thread, at most `checks_at_once` at a
        time: more would only contend for the GIL and the index's connection, and every
        request would finish later."""
        return await anyio.to_thread.run_sync(work, limiter=engine)
    bearer = HTTPBearer(auto_error=False, description="Required for the archive-changing routes when the "
                                                      "server has a token (dedup serve --token-file).")

    def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if settings.token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), settings.token.encode()):
            raise StarletteHTTPException(401, "missing or wrong bearer token", headers={"www-authenticate": "Bearer"})

    guarded = [Depends(authorized)] if settings.token is not None else []

    @app.get("/", response_class=HTMLResponse, summary="The editor's page: paste a draft, see its report")
    async def page() -> HTMLResponse:
        return HTMLResponse(editor_page(), headers={"content-security-policy": PAGE_CSP})

    @app.get("/livez", response_model=Health, summary="The process is up")
    async def livez() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, summary="Ready once the archive index is open",
             responses={503: {"model": Health, "description": "Starting, or the index could not be opened"}})
    async def readyz() -> Any:
        if opener.index is not None:
            return Health(status="ready", index=settings.index)
        status = "failed" if opener.error else "starting"
        return JSONResponse(Health(status=status, index=settings.index, error=opener.error).model_dump(),
                            status_code=503)

    @app.post("/v1/check", response_model=ReportOut, summary="Check a text or documents for repeats",
              responses={200: {"content": {"text/html": {}, "application/sarif+json": {}},
                               "description": "The report: JSON (dedup.report/1), or HTML or SARIF when asked"},
                         503: {"model": Problem, "description": "The archive index is not open"}})
    async def check(request: CheckRequest) -> Any:
        index = opener.require() if request.options.archive else None
        return await in_engine(lambda: _checked(request, index, settings))

    @app.get("/v1/archive/stats", summary="Documents, passages, size and settings of the archive index",
             responses={503: {"model": Problem}})
    async def archive_stats() -> dict[str, Any]:
        return await in_engine(opener.require().stats)

    @app.put("/v1/archive/{doc_id:doc_id}", response_model=ArchivedOut, dependencies=guarded,
             summary="Publish: archive a document under an id (replacing one stored there)",
             responses={401: {"model": Problem}, 503: {"model": Problem}})
    async def publish(doc_id: str, body: ArchiveDocumentIn) -> ArchivedOut:
        _check_id(doc_id)
        index = opener.require()
        source = DocumentIn(id=doc_id, text=body.text, format=body.format)
        passages = await in_engine(lambda: index.add(doc_id, _read(source), body.metadata))
        return ArchivedOut(id=doc_id, passages=passages)

    @app.delete("/v1/archive/{doc_id:doc_id}", status_code=204, dependencies=guarded,
                summary="Withdraw an archived document",
                responses={401: {"model": Problem}, 404: {"model": Problem}, 503: {"model": Problem}})
    async def withdraw(doc_id: str) -> Response:
        _check_id(doc_id)
        index = opener.require()
        if not await in_engine(lambda: index.remove(doc_id)):
            raise StarletteHTTPException(404, f"no archived document {doc_id!r}")
        return Response(status_code=204)


def _checked(request: CheckRequest, index: Index | None, settings: ServiceSettings) -> Response:
    """The response to a check: read, run the engine, filter as configured, write the report."""
    config = settings.config
    documents = [_read(doc) for doc in request.inputs()]
    report = _detector(config, request.options.min_words).check_many(documents, index=index)
    kinds = tuple(request.options.kinds) if request.options.kinds else config.kinds
    findings = filter_findings(report.findings, replace(config, kinds=kinds), settings.root)
    report = Report(findings, {**report.stats, "findings": len(findings), "by_kind": count_kinds(findings)})
    headers = {"x-dedup-findings": str(len(findings))}
    if request.report == "json":
        body = report.to_dict()
        for finding, out in zip(findings, body["findings"]):
            out["severity"] = finding_level(finding, config)
        body["fails"] = fails(findings, config)
        return JSONResponse(body, headers=headers)
    out = io.StringIO()
    get_formatter(request.report).write(report, out, FormatContext({d.id: d.text for d in documents}, config.severity))
    if request.report == "html":
        return HTMLResponse(out.getvalue(), headers=headers)
    return Response(out.getvalue(), media_type="application/sarif+json", headers=headers)


class DocumentIdConvertor(Convertor[str]):
    """A document id in a path: any characters (slashes and line breaks too), except the
    route names beside it (``stats``)."""

    regex = r"(?!stats\Z)[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("doc_id", DocumentIdConvertor())


_DOCUMENT_ID = TypeAdapter(DocumentId)


def _check_id(doc_id: str) -> None:
    """The id in a path obeys the rules of a document id in a body (`models.DocumentId`)."""
    try:
        _DOCUMENT_ID.validate_python(doc_id)
    except ValidationError as err:
        raise Problems(422, f"document id: {_field_error(err.errors()[0])['message']}") from None


def _read(doc: DocumentIn) -> Document:
    try:
        return READERS[doc.format](doc.id, doc.text)
    except InputError as err:
        raise Problems(422, str(err)) from None


@lru_cache(maxsize=16)
def _cached_detector(settings: tuple[tuple[str, Any], ...]) -> Detector:
    return Detector(**dict(settings))


def _detector(config: Config, min_words: int | None) -> Detector:
    """A Detector with the server's settings (and the request's `min_words`), shared between
    requests: a Detector keeps no state between calls."""
    if min_words is not None:
        config = replace(config, min_words=min_words)
    return _cached_detector(tuple(sorted(config.detector_settings().items())))


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = {name: value for name, value in (exc.headers or {}).items() if name.lower() != "allow"}
        if exc.status_code == 405:
            headers["allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(e) for e in exc.errors()]
        return JSONResponse({"message": _validation_message(exc.errors(), request), "errors": errors}, status_code=422)

    @app.exception_handler(Problems)
    async def problem(request: Request, exc: Problems) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=exc.status)

    @app.exception_handler(ArchiveError)
    async def archive_unavailable(request: Request, exc: ArchiveError) -> JSONResponse:
        log.error("archive index: %s", exc)
        return JSONResponse({"message": f"archive index: {exc}"}, status_code=503)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"message": "internal server error"}, status_code=500)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _field_error(error: Any) -> dict[str, Any]:
    return {"location": [str(part) for part in error.get("loc", ())],
            "message": str(error.get("msg", "")).removeprefix("Value error, "), "type": error.get("type", "")}


def _validation_message(errors: Any, request: Request) -> str:
    """One line saying what is wrong with the request (its first problem)."""
    if not errors:
        return "invalid request"
    first = errors[0]
    location = [str(part) for part in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        return f"request body is not valid JSON (at character {location[-1]})" if len(location) > 1 \
            else "request body is not valid JSON"
    content_type = request.headers.get("content-type", "")
    if location == ["body"] and first.get("type") in ("model_attributes_type", "dict_type") \
            and "json" not in content_type:
        return f"send the request body as a JSON object with content-type: application/json (not {content_type or 'none'})"
    message = _field_error(first)["message"]
    return f"{'.'.join(location)}: {message}" if location else message
