"""What the service's worker processes run: the engine and the index, answered as `Reply`.

Each worker keeps one `WorkerState` (its own connection to the archive index, opened on first
use, and the detectors for the settings asked). A job is a top-level function
``job(state, ...) -> Reply`` (picklable, for `pool.EnginePool`): the reply is rendered in the
worker (JSON, HTML or SARIF bytes), so the server's process only passes bytes on. Expected
failures are replies too (422 unreadable input, 404, 503 the index cannot be used); anything
else is raised, logged by the server and answered 500.
"""
from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..archive.index import Index
from ..archive.store import ArchiveError
from ..config import Config, fails, filter_findings, finding_level
from ..detector import Detector
from ..formats import FormatContext, get_formatter
from ..model import Document, Report, count_kinds
from ..readers import READERS, InputError
from .models import ArchiveDocumentIn, CheckRequest, DocumentIn

JSON_TYPE = "application/json"
log = logging.getLogger("dedup.service")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    media_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineSettings:
    """What a worker needs (picklable): the index location, the configuration, the root that
    per-file-ignores globs start from."""

    index: str
    config: Config
    root: Path | None


class WorkerState:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self._index: Index | None = None

    def index(self) -> Index:
        if self._index is None:
            self._index = Index.open(self.settings.index, create=True, **self.settings.config.detector_settings())
        return self._index


def make_state(settings: EngineSettings) -> WorkerState:
    """A worker's state, warmed up: the engine has run once (its lazy imports and caches) and
    the index is open (or will be opened by the first job that needs it, which then reports
    why it cannot be)."""
    state = WorkerState(settings)
    try:
        _detector(settings.config, None).check_many([Document("warm-up", "The engine warms up. The engine warms up.")])
        state.index()
    except Exception as err:  # noqa: BLE001 - the first job that needs what failed reports it
        log.debug("warm-up failed: %s", err)
    return state


def problem(status: int, message: str) -> Reply:
    return Reply(status, json.dumps({"message": message}).encode())


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _replying(work: Any) -> Reply:
    try:
        return work()
    except _Refused as refused:
        return refused.reply
    except ArchiveError as err:
        return problem(503, f"archive index: {err}")


def check(state: WorkerState, request: CheckRequest) -> Reply:
    return _replying(lambda: _checked(state, request))


def publish(state: WorkerState, doc_id: str, body: ArchiveDocumentIn) -> Reply:
    def work() -> Reply:
        document = _read(DocumentIn(id=doc_id, text=body.text, format=body.format))
        passages = state.index().add(doc_id, document, body.metadata)
        return Reply(200, json.dumps({"id": doc_id, "passages": passages}).encode())
    return _replying(work)


def withdraw(state: WorkerState, doc_id: str) -> Reply:
    def work() -> Reply:
        if not state.index().remove(doc_id):
            return problem(404, f"no archived document {doc_id!r}")
        return Reply(204, b"")
    return _replying(work)


def stats(state: WorkerState) -> Reply:
    return _replying(lambda: Reply(200, json.dumps(state.index().stats()).encode()))


def _checked(state: WorkerState, request: CheckRequest) -> Reply:
    """The response to a check: read, run the engine, filter as configured, write the report."""
    config = state.settings.config
    documents = [_read(doc) for doc in request.inputs()]
    index = state.index() if request.options.archive else None
    report = _detector(config, request.options.min_words).check_many(documents, index=index)
    kinds = tuple(request.options.kinds) if request.options.kinds else config.kinds
    findings = filter_findings(report.findings, replace(config, kinds=kinds), state.settings.root)
    report = Report(findings, {**report.stats, "findings": len(findings), "by_kind": count_kinds(findings)})
    headers = {"x-dedup-findings": str(len(findings))}
    if request.report == "json":
        body = report.to_dict()
        for finding, out in zip(findings, body["findings"]):
            out["severity"] = finding_level(finding, config)
        body["fails"] = fails(findings, config)
        return Reply(200, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), headers=headers)
    out = io.StringIO()
    get_formatter(request.report).write(report, out, FormatContext({d.id: d.text for d in documents}, config.severity))
    media_type = "text/html; charset=utf-8" if request.report == "html" else "application/sarif+json"
    return Reply(200, out.getvalue().encode(), media_type=media_type, headers=headers)


def _read(doc: DocumentIn) -> Document:
    try:
        return READERS[doc.format](doc.id, doc.text)
    except InputError as err:
        raise _Refused(problem(422, str(err))) from None


@lru_cache(maxsize=16)
def _cached_detector(settings: tuple[tuple[str, Any], ...]) -> Detector:
    return Detector(**dict(settings))


def _detector(config: Config, min_words: int | None) -> Detector:
    """A Detector with the server's settings (and the request's `min_words`), shared between
    requests: a Detector keeps no state between calls."""
    if min_words is not None:
        config = replace(config, min_words=min_words)
    return _cached_detector(tuple(sorted(config.detector_settings().items())))
