"""The HTTP service: `create_app` builds the ASGI application that ``dedup serve`` runs.

Routes: ``POST /v1/check`` (the JSON report, or the HTML or SARIF one), ``PUT`` and ``DELETE
/v1/archive/{id}`` (publish and withdraw; a bearer token when the server has one),
``GET /v1/archive/stats``, the editor's page at ``/``, ``GET /livez`` and ``GET /readyz``
(ready once the archive index is open and passes its integrity check), and the OpenAPI spec
at ``/openapi.json``.

The engine never runs on the event loop: checks, publishes, withdrawals and stats are jobs of
`pool.EnginePool` (worker processes in two lanes, so a large draft cannot hold up small ones;
a bounded queue and a time budget per request). This process reads and validates requests
and passes the workers' rendered replies on.

Every error is JSON ``{"message": ...}`` with its status (408 body not received in time, 413
body too large, 422 malformed input, 401 token, 404, 503 busy (with Retry-After) or index not
ready or unavailable, 504 over the time budget); an unexpected error is logged with its
traceback on the server and answered with 500 and no detail.
"""
from __future__ import annotations

import hmac
import logging
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any, AsyncIterator, Callable

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi import Path as FastAPIPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Match

from .. import __version__
from ..archive import integrity
from ..archive.index import DEFAULT_LOCATION, Index
from ..archive.store import ArchiveError
from ..config import Config
from . import jobs
from .jobs import EngineSettings, Reply
from .limits import BodyLimit
from .models import (ID_PATTERN, MAX_ID_LENGTH, ArchivedOut, ArchiveDocumentIn, CheckRequest, DocumentId, Health,
                     Problem, ReportOut)
from .page import editor_page
from .pool import Busy, EnginePool, LaneSpec, OverBudget, WorkerFailed

log = logging.getLogger("dedup.service")
DEFAULT_MAX_BODY = 5 * 1024 * 1024
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
PAGE_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "img-src data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SMALL, LARGE = "small", "large"
# An id in a path: the spec says what `_check_id` accepts (it checks, for a clear message).
PathId = Annotated[str, FastAPIPath(description="The document's id (slashes allowed).",
                                    json_schema_extra={"pattern": ID_PATTERN, "minLength": 1,
                                                       "maxLength": MAX_ID_LENGTH})]
FIRST_CHECK_WAIT = 1.0  # seconds /readyz waits for the index's first integrity check


@dataclass(frozen=True)
class ServiceSettings:
    """What a server is started with. `config` gives the detector settings, the kinds and
    severities; `root` is where its per-file-ignores globs start; `token`, when set, is the
    bearer token the archive-changing routes require.

    Engine work runs in `small_processes` worker processes, or in `large_processes` for a
    request whose texts hold more than `large_chars` characters; up to `queue` (`large_queue`)
    requests wait for a process, more are answered 503 with Retry-After. A request gets
    `time_budget` seconds in all (504 past it); a body must arrive within `read_timeout`
    seconds (408). `/readyz` reruns the index's integrity check every `integrity_interval`
    seconds. `engine_processes=False` runs the engine on threads of this process instead (an
    application embedded in a test client: a job past its budget is then abandoned, not stopped)."""

    index: str = DEFAULT_LOCATION
    config: Config = field(default_factory=Config)
    root: Path | None = None
    token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    small_processes: int = 1
    large_processes: int = 1
    large_chars: int = 50_000
    queue: int = 64
    large_queue: int = 4
    time_budget: float = 30.0
    read_timeout: float = 10.0
    integrity_interval: float = 10.0
    engine_processes: bool = True


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
        except Exception:  # reported as not ready; the traceback goes to the log
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


class IndexHealth:
    """The index's integrity check (`archive.integrity.problems`), run on a background thread at
    most every `interval` seconds; `problems` answers at once from the last finished run (None
    before the first), starting a new run when that one is stale."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._result: tuple[float, list[str]] | None = None  # (finished at, problems)
        self._running = False
        self._done = threading.Event()

    def problems(self, index: Index) -> list[str] | None:
        with self._lock:
            stale = self._result is None or time.monotonic() - self._result[0] >= self.interval
            if stale and not self._running:
                self._running = True
                self._done.clear()
                threading.Thread(target=self._run, args=(index,), name="dedup-index-check", daemon=True).start()
            return None if self._result is None else self._result[1]

    def wait(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def _run(self, index: Index) -> None:
        try:
            found = integrity.problems(index)
        except Exception as err:  # a check that cannot run is a failed check
            log.exception("the index's integrity check failed to run")
            found = [f"the integrity check could not run: {err}"]
        if found:
            log.error("the archive index fails its integrity check: %s", "; ".join(found))
        with self._lock:
            self._result = (time.monotonic(), found)
            self._running = False
            self._done.set()


class Problems(Exception):
    """An error answered with `status` and `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(settings: ServiceSettings) -> FastAPI:
    """The ASGI application for `settings` (run it with uvicorn, or ``dedup serve``)."""
    opener = IndexOpener(lambda: Index.open(settings.index, create=True, **settings.config.detector_settings()))
    engine = EngineSettings(index=settings.index, config=settings.config, root=settings.root)
    pool = EnginePool([LaneSpec(SMALL, settings.small_processes, settings.queue),
                       LaneSpec(LARGE, settings.large_processes, settings.large_queue)],
                      partial(jobs.make_state, engine), settings.time_budget, processes=settings.engine_processes)
    health = IndexHealth(settings.integrity_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opener.start()
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            opener.close()

    app = FastAPI(title="dedup", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Find repeated and garbled near-duplicate sentences in drafts, "
                              "inside them and against the archive of what was published.",
                  responses={408: {"model": Problem, "description": "The body did not arrive in time"},
                             422: {"model": Problem, "description": "Malformed input"},
                             413: {"model": Problem, "description": "Body over the size limit"},
                             503: {"model": Problem, "description": "Busy (retry after Retry-After seconds), "
                                                                   "or the archive index is not open"},
                             504: {"model": Problem, "description": "The request ran past the time budget"}})
    app.state.opener = opener
    app.state.pool = pool
    app.state.health = health
    _add_error_handlers(app)
    _add_routes(app, settings, opener, pool, health)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, read_timeout=settings.read_timeout)
    return app


def _add_routes(app: FastAPI, settings: ServiceSettings, opener: IndexOpener, pool: EnginePool,
                health: IndexHealth) -> None:
    def lane(characters: int) -> str:
        return LARGE if characters > settings.large_chars else SMALL

    async def engine(lane_name: str, job: Callable[..., Reply], *args: Any) -> Response:
        """Run `job` in a worker process of the lane and answer with its reply."""
        reply: Reply = await pool.run(lane_name, job, *args)
        return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)

    bearer = HTTPBearer(auto_error=False, description="Required for the archive-changing routes when the "
                                                      "server has a token (dedup serve --token-file).")

    def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if settings.token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), settings.token.encode()):
            raise StarletteHTTPException(401, "missing or wrong bearer token", headers={"www-authenticate": "Bearer"})

    guarded = [Depends(authorized)] if settings.token is not None else []
    busy: dict[int | str, dict[str, Any]] = {503: {"model": Problem, "description": "Busy (Retry-After), or the archive index is not open"},
            504: {"model": Problem, "description": "The request ran past the time budget"}}

    @app.get("/", response_class=HTMLResponse, summary="The editor's page: paste a draft, see its report")
    async def page() -> HTMLResponse:
        return HTMLResponse(editor_page(), headers={"content-security-policy": PAGE_CSP})

    @app.get("/livez", response_model=Health, summary="The process is up")
    async def livez() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health,
             summary="Ready once the archive index is open and passes its integrity check",
             responses={503: {"model": Health, "description": "Starting, or the index could not be opened or "
                                                             "fails its integrity check"}})
    async def readyz() -> Any:
        if opener.index is None:
            status = "failed" if opener.error else "starting"
            return JSONResponse(Health(status=status, index=settings.index, error=opener.error).model_dump(),
                                status_code=503)
        if not pool.ready():
            return JSONResponse(Health(status="starting", index=settings.index,
                                       error="the engine processes are starting").model_dump(), status_code=503)
        problems = health.problems(opener.index)
        if problems is None:  # the first check is running: a small index is checked at once
            await anyio.to_thread.run_sync(health.wait, FIRST_CHECK_WAIT)
            problems = health.problems(opener.index)
        if problems is None:
            return JSONResponse(Health(status="starting", index=settings.index).model_dump(), status_code=503)
        if problems:
            return JSONResponse(Health(status="failed", index=settings.index,
                                       error="the index fails its integrity check: " + "; ".join(problems))
                                .model_dump(), status_code=503)
        return Health(status="ready", index=settings.index)

    @app.post("/v1/check", response_model=ReportOut, summary="Check a text or documents for repeats",
              responses={200: {"content": {"text/html": {}, "application/sarif+json": {}},
                               "description": "The report: JSON (dedup.report/1), or HTML or SARIF when asked"},
                         **busy})
    async def check(request: CheckRequest) -> Any:
        if request.options.archive:
            opener.require()
        return await engine(lane(sum(len(doc.text) for doc in request.inputs())), jobs.check, request)

    @app.get("/v1/archive/stats", summary="Documents, passages, size and settings of the archive index",
             responses=busy)
    async def archive_stats() -> dict[str, Any]:  # the OpenAPI response: a JSON object
        opener.require()
        return await engine(SMALL, jobs.stats)  # type: ignore[return-value]

    @app.put("/v1/archive/{doc_id:doc_id}", response_model=ArchivedOut, dependencies=guarded,
             summary="Publish: archive a document under an id (replacing one stored there)",
             responses={401: {"model": Problem}, **busy})
    async def publish(doc_id: PathId, body: ArchiveDocumentIn) -> Any:
        _check_id(doc_id)
        opener.require()
        return await engine(lane(len(body.text)), jobs.publish, doc_id, body)

    @app.delete("/v1/archive/{doc_id:doc_id}", status_code=204, dependencies=guarded,
                summary="Withdraw an archived document",
                responses={401: {"model": Problem}, 404: {"model": Problem}, **busy})
    async def withdraw(doc_id: PathId) -> Response:
        _check_id(doc_id)
        opener.require()
        return await engine(SMALL, jobs.withdraw, doc_id)


class DocumentIdConvertor(Convertor[str]):
    """A document id in a path: any characters (slashes too; `_check_id` then refuses what a
    document id may not hold), except the route names beside it (``stats``)."""

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


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unparsed = _unparsable_body(exc)
        if unparsed is not None:
            return JSONResponse({"message": unparsed, "errors": [{"location": ["body"], "message": unparsed,
                                                                  "type": "body_invalid"}]}, status_code=422)
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

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=503, headers={"retry-after": str(exc.retry_after)})

    @app.exception_handler(OverBudget)
    async def over_budget(request: Request, exc: OverBudget) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=504)

    @app.exception_handler(WorkerFailed)
    async def worker_failed(request: Request, exc: WorkerFailed) -> JSONResponse:
        return JSONResponse({"message": "internal server error"}, status_code=500)

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


def _unparsable_body(exc: StarletteHTTPException) -> str | None:
    """FastAPI answers 400 when the body cannot be decoded at all (not UTF-8, nested past
    Python's recursion limit, an integer too long to convert); the message for the 422 we
    answer instead, or None for any other error."""
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    if isinstance(cause, UnicodeDecodeError):
        return f"request body is not valid UTF-8 (byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "request body is not valid JSON: nested too deeply"
    if isinstance(cause, ValueError):
        return f"request body is not valid JSON: {str(cause).splitlines()[0][:200]}"
    return None


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
