"""The service's request and response bodies, as pydantic models (they make the OpenAPI spec).

Requests are strict: unknown keys, wrong types and out-of-range values are refused with 422.
Responses mirror the ``dedup.report/1`` schema (docs/report.md), plus ``fails``.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..model import SCHEMA

Kind = Literal["exact", "normalized", "near", "contained", "conflict"]
Scope = Literal["document", "corpus", "archive"]
SourceFormat = Literal["text", "markdown", "html"]
ReportFormat = Literal["json", "html", "sarif"]

MAX_DOCUMENTS = 10_000
MAX_ID_LENGTH = 1024


def _encodable(text: str) -> str:
    """Refuse strings UTF-8 cannot carry (lone surrogates: JSON allows them, text does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"contains a lone surrogate (U+{ord(text[err.start]):04X}) at offset {err.start}") from None
    return text


def _whole(value: Any) -> Any:
    """13.0 is an integer in JSON (and JSON Schema); strict validation would refuse it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Characters a document id may not hold: C0 and C1 control characters (NUL, tab, line breaks,
# escape, ...), the line and paragraph separators, and the bidirectional embeddings, overrides
# and isolates (they would make an id read differently from what it is).
UNPRINTABLE = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
ID_PATTERN = rf"^[^{UNPRINTABLE}]*[^\s{UNPRINTABLE}][^{UNPRINTABLE}]*$"  # and not blank
_UNPRINTABLE_CHAR = re.compile(f"[{UNPRINTABLE}]")


def _printable_id(doc_id: str) -> str:
    """A document id is printable (`UNPRINTABLE`) and not blank."""
    _encodable(doc_id)
    bad = _UNPRINTABLE_CHAR.search(doc_id)
    if bad is not None:
        char = bad.group()
        raise ValueError(f"must be printable: U+{ord(char):04X} ({unicodedata.name(char, 'a control character')}) "
                         f"at offset {bad.start()}")
    if not doc_id.strip():
        raise ValueError("must not be blank (only spaces)")
    return doc_id


Text = Annotated[str, AfterValidator(_encodable)]
MinWords = Annotated[int, Field(ge=1, le=100), BeforeValidator(_whole)]  # constraints first: see JSON schema
DocumentId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, json_schema_extra={"pattern": ID_PATTERN}),
                       AfterValidator(_printable_id)]


class Strict(BaseModel):
    """No unknown keys, and no coercion: ``"5"`` is not a number and ``0`` is not a boolean."""

    model_config = ConfigDict(extra="forbid", strict=True)


class DocumentIn(Strict):
    """One document to check."""

    id: DocumentId = Field(description="The document's id in the report (a path, a slug).")
    text: Text = Field(description="The text as written.")
    format: SourceFormat = Field("text", description="How to read `text`: plain text, Markdown or HTML "
                                                     "(markup and code are not checked; offsets stay the source's).")


class CheckOptions(Strict):
    kinds: list[Kind] | None = Field(None, min_length=1, description="Kinds to report (default: the server's).")
    min_words: MinWords | None = Field(None, description="Passages under this many words are matched "
                                                                   "only as exact repeats (default: the server's).")
    archive: bool = Field(True, description="Also check against the archive index.")


class CheckRequest(Strict):
    """One text (`text`, named `id`) or a list of `documents`, checked together."""

    # Absent rather than null: the schema says "exactly one of text and documents" (oneOf below).
    text: Text = Field(None, description="One text to check (give this or `documents`).")  # type: ignore[assignment]
    id: DocumentId = Field("draft", description="The id of `text` in the report.")
    format: SourceFormat = Field("text", description="How to read `text`.")
    documents: list[DocumentIn] = Field(None, min_length=1, max_length=MAX_DOCUMENTS,  # type: ignore[assignment, arg-type]
                                        description="Documents checked together (give this or `text`).")
    options: CheckOptions = Field(default_factory=CheckOptions)
    report: ReportFormat = Field("json", description="json (this schema), html (a page for editors) or sarif.")

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["documents"]}]})

    @model_validator(mode="after")
    def _one_input(self) -> "CheckRequest":
        if (self.text is None) == (self.documents is None):
            raise ValueError("give exactly one of `text` and `documents`")
        if self.documents is not None:
            seen: set[str] = set()
            for doc in self.documents:
                if doc.id in seen:
                    raise ValueError(f"document id {doc.id!r} is given twice")
                seen.add(doc.id)
        return self

    def inputs(self) -> list[DocumentIn]:
        if self.documents is not None:
            return self.documents
        return [DocumentIn(id=self.id, text=self.text or "", format=self.format)]


class ArchiveDocumentIn(Strict):
    """A published document to archive under the id in the path."""

    text: Text
    format: SourceFormat = "text"
    metadata: dict[str, Any] | None = Field(None, description="Stored with the document (JSON object).")


class SpanOut(BaseModel):
    doc: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    line: int = Field(ge=1)
    column: int = Field(ge=1)
    text: str


class FindingOut(BaseModel):
    kind: Kind
    scope: Scope
    score: float = Field(ge=0, le=1)
    sentence: SpanOut
    match: SpanOut
    group: int = Field(ge=0)
    severity: Literal["error", "warning", "info"]


class ReportOut(BaseModel):
    report_schema: Literal["dedup.report/1"] = Field(SCHEMA, alias="schema", serialization_alias="schema")
    findings: list[FindingOut]
    stats: dict[str, Any]
    fails: bool = Field(description="True when a finding is at or above the server's fail-on severity.")

    model_config = ConfigDict(populate_by_name=True)


class ArchivedOut(BaseModel):
    id: str
    passages: int = Field(ge=0, description="Sentences stored for the lookup.")


class Problem(BaseModel):
    message: str = Field(description="What went wrong, in one line.")
    errors: list[dict[str, Any]] | None = Field(None, description="Each invalid field (422 only).")


class Health(BaseModel):
    status: Literal["ok", "ready", "starting", "failed"]
    index: str | None = None
    error: str | None = None
