"""The output formats: each one's positions land on the repeated passage in the source.

Reports come from the real engine over Arabic and English texts whose repeats start mid-line,
after Arabic text and emoji (astral characters: 2 UTF-16 units, 4 UTF-8 bytes) and in CRLF
files, so a wrong column unit moves every position off its passage.
"""
from __future__ import annotations

import io
import json
import re
from urllib.parse import unquote

import jsonschema
import pytest

import dedup
from dedup.fingerprint import fingerprint
from dedup.formats import DEFAULT_SEVERITY, FORMATS, FormatContext, get_formatter
from dedup.formats.github import escape_data, escape_property
from dedup.formats.messages import summary
from dedup.formats.positions import CODE_POINTS, UTF8, UTF16, Locator, width
from dedup.formats.rules import RULES, rule_for
from dedup.formats.sarif import artifact_uri
from dedup.model import SCHEMA, Finding, Report, Span

RATE = ("The central bank raised its main interest rate by half a point on Tuesday "
        "to fight persistent inflation")
TAX = "قال وزير المالية إن الحكومة ستخفض الضرائب على الشركات الصغيرة في العام المقبل."
HARVEST = "Farmers in the northern valley expect a record wheat harvest after months of {} rainfall."

TEXT_A = (f"نشرة الصباح من غرفة الأخبار 📰. {RATE}.\r\n"
          f"{HARVEST.format('steady')}\r\n"
          f"{TAX}\r\n"
          f"تحديث المساء من المحررين 🔔. {RATE}!\r\n")
TEXT_B = ("A small museum in the harbour district opened an exhibition of medieval maps and globes.\n"
          f"موجز الأنباء 🗞️. {TAX}\n"
          f"Engineers finished repairing the old railway bridge 🌉. {HARVEST.format('heavy')}\n")
SOURCES = {"news/a.md": TEXT_A, "news/b.md": TEXT_B}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def report() -> Report:
    result = dedup.Detector().check_many(list(SOURCES.items()))
    kinds = {f.kind for f in result.findings}
    assert {"exact", "normalized", "near"} <= kinds, result.findings
    # the premise of every position test: repeats start mid-line, after non-ASCII text
    assert all(f.sentence.column > 1 for f in result.findings)
    assert all(not line_of(SOURCES[f.sentence.doc], f.sentence.line)[: f.sentence.column - 1].isascii()
               for f in result.findings)
    assert any(f.match.column > 1 for f in result.findings)
    return result


@pytest.fixture
def ctx() -> FormatContext:
    return FormatContext(sources=SOURCES)


def render(name: str, report: Report, ctx: FormatContext) -> str:
    out = io.StringIO()
    get_formatter(name).write(report, out, ctx)
    return out.getvalue()


def line_of(source: str, line: int) -> str:
    """Line `line` (1-based) of `source`, lines ending at "\\n" (a CRLF line keeps its "\\r")."""
    return source.split("\n")[line - 1]


def utf16_slice(line: str, start_column: int, end_column: int) -> str:
    units = line.encode("utf-16-le")
    return units[2 * (start_column - 1): 2 * (end_column - 1)].decode("utf-16-le")


def utf8_slice(line: str, start_column: int, end_column: int) -> str:
    return line.encode("utf-8")[start_column - 1: end_column - 1].decode("utf-8")


def archive_finding() -> Finding:
    """A finding whose match lives in a stored index: its document is in no `sources`."""
    sentence_start = TEXT_B.index(TAX)
    sentence = Span("news/b.md", sentence_start, sentence_start + len(TAX), 2, 18, TAX)
    match = Span("archive:2023/07/tax.md", 4000, 4000 + len(TAX), 41, 7, TAX)
    return Finding("exact", "archive", 1.0, sentence, match)


def multiline_finding() -> Finding:
    """A passage that runs over a CRLF line break, after an emoji."""
    text = "مقدمة 🌾 Farmers expect a record wheat\r\nharvest this year.\r\n"
    start = text.index("Farmers")
    passage = text[start:text.index(".") + 1]
    return Finding("near", "document", 0.9, Span("news/c.md", start, start + len(passage), 1, 9, passage),
                   Span("news/c.md", 0, 5, 1, 1, text[:5]))


# --- positions -----------------------------------------------------------------------------

def test_widths_of_arabic_emoji_and_crlf() -> None:
    assert [width("سلام", unit) for unit in (CODE_POINTS, UTF16, UTF8)] == [4, 4, 8]
    assert [width("📰", unit) for unit in (CODE_POINTS, UTF16, UTF8)] == [1, 2, 4]
    assert [width("\r\n", unit) for unit in (CODE_POINTS, UTF16, UTF8)] == [2, 2, 2]


def test_region_after_arabic_and_emoji_in_each_unit() -> None:
    text = "line one\r\nسلام 👋 hello world\r\n"
    start = text.index("hello")
    span = Span("t", start, start + 5, 2, 8, "hello")
    locator = Locator({"t": text})
    # "سلام 👋 " is 7 code points, 8 UTF-16 units, 14 UTF-8 bytes
    for unit, column in ((CODE_POINTS, 8), (UTF16, 9), (UTF8, 15)):
        region = locator.region(span, unit)
        assert (region.start_line, region.start_column) == (2, column)
        assert (region.end_line, region.end_column) == (2, column + 5)
        assert region.length == 5
    assert locator.region(span, UTF16).offset == 10 + 8  # "line one\r\n" then the prefix
    assert locator.region(span, UTF8).offset == 10 + 14


def test_region_of_a_passage_over_a_crlf_line_break() -> None:
    finding = multiline_finding()
    text = "مقدمة 🌾 Farmers expect a record wheat\r\nharvest this year.\r\n"
    region = Locator({"news/c.md": text}).region(finding.sentence, UTF16)
    assert (region.start_line, region.start_column) == (1, 10)  # "مقدمة 🌾 ": 8 code points, the emoji 2 units
    assert (region.end_line, region.end_column) == (2, len("harvest this year.") + 1)
    assert region.offset == 9 and region.length == len(finding.sentence.text)


def test_region_falls_back_to_the_span_when_the_source_is_missing_or_differs() -> None:
    span = Span("gone.md", 100, 107, 5, 3, "ab📰\r\ncd")
    for sources in ({}, {"gone.md": "something else entirely"}):
        region = Locator(sources).region(span, UTF16)
        assert (region.start_line, region.start_column, region.end_line, region.end_column) == (5, 3, 6, 3)
        assert region.offset is None and region.length == 8
    one_line = Span("gone.md", 0, 3, 2, 4, "a📰b")
    region = Locator({}).region(one_line, UTF8)
    assert (region.end_line, region.end_column, region.length) == (2, 4 + 6, 6)


# --- the interface -------------------------------------------------------------------------

def test_formats_are_registered_under_their_names() -> None:
    assert set(FORMATS) == {"text", "concise", "json", "jsonl", "sarif", "github", "rdjsonl", "gitlab", "junit", "html"}
    for name, formatter in FORMATS.items():
        assert formatter.name == name and get_formatter(name) is formatter


def test_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'") as err:
        get_formatter("xml")
    for name in FORMATS:
        assert name in str(err.value)


def test_context_defaults_and_rejects_unknown_severities() -> None:
    ctx = FormatContext(sources={})
    assert ctx.severity == DEFAULT_SEVERITY and not ctx.color and ctx.version == dedup.__version__
    assert FormatContext(sources={}, severity={"near": "info"}).severity_of("exact") == "error"
    with pytest.raises(ValueError, match="severity"):
        FormatContext(sources={}, severity={"near": "fatal"})


def test_every_format_writes_an_archived_match_and_an_empty_report(ctx: FormatContext) -> None:
    archived = Report([archive_finding(), multiline_finding()])
    for name in FORMATS:
        assert render(name, archived, ctx)
        render(name, Report([]), ctx)
    sarif = json.loads(render("sarif", archived, ctx))
    related = sarif["runs"][0]["results"][0]["relatedLocations"][0]["physicalLocation"]
    assert related["region"]["startLine"] == 41 and related["region"]["startColumn"] == 7
    assert "charOffset" not in related["region"]
    assert json.loads(render("sarif", Report([]), ctx))["runs"][0]["results"] == []


# --- text and concise ----------------------------------------------------------------------

TEXT_LINE = re.compile(r'^(?P<doc>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<kind>\w+): "(?P<text>.+)" '
                       r"\(repeats (?:(?P<mdoc>[^:]+):)?(?P<mline>\d+):(?P<mcol>\d+), score (?P<score>[01]\.\d\d)\)$")


def assert_code_point_place(span: Span, line: str | int, column: str | int) -> None:
    source_line = line_of(SOURCES[span.doc], int(line))
    assert source_line[int(column) - 1:].startswith(span.text)


def test_text_lines_point_at_the_passages(report: Report, ctx: FormatContext) -> None:
    lines = render("text", report, ctx).splitlines()
    assert len(lines) == len(report.findings)
    for line, finding in zip(lines, report.findings):
        m = TEXT_LINE.match(line)
        assert m, line
        assert (m["doc"], m["kind"], float(m["score"])) == (finding.sentence.doc, finding.kind, round(finding.score, 2))
        assert finding.sentence.text.startswith(m["text"].rstrip("…"))
        assert_code_point_place(finding.sentence, m["line"], m["col"])
        match_doc = m["mdoc"] or finding.sentence.doc
        assert (m["mdoc"] is None) == (finding.match.doc == finding.sentence.doc)
        assert_code_point_place(Span(match_doc, 0, 0, 0, 0, finding.match.text), m["mline"], m["mcol"])


def test_text_is_coloured_only_when_asked(report: Report, ctx: FormatContext) -> None:
    plain = render("text", report, ctx)
    coloured = render("text", report, FormatContext(sources=SOURCES, color=True))
    assert not ANSI.search(plain)
    assert ANSI.search(coloured) and ANSI.sub("", coloured) == plain
    assert "\x1b[1;31mexact\x1b[0m" in coloured and "\x1b[1;33mnear\x1b[0m" in coloured


def test_text_blanks_control_characters_of_the_passage(ctx: FormatContext) -> None:
    span = Span("x.txt", 0, 20, 1, 1, "evil \x1b[2J passage\nhere")
    out = render("text", Report([Finding("exact", "document", 1.0, span, span)]), ctx)
    assert "\x1b" not in out and out.count("\n") == 1


def test_concise_lines_point_at_both_passages(report: Report, ctx: FormatContext) -> None:
    pattern = re.compile(r"^([^:]+):(\d+):(\d+): (\w+) \(repeats ([^:]+):(\d+):(\d+)\)$")
    lines = render("concise", report, ctx).splitlines()
    assert len(lines) == len(report.findings)
    for line, finding in zip(lines, report.findings):
        m = pattern.match(line)
        assert m, line
        assert (m[1], m[4], m[5]) == (finding.sentence.doc, finding.kind, finding.match.doc)
        assert_code_point_place(finding.sentence, m[2], m[3])
        assert_code_point_place(finding.match, m[6], m[7])


# --- json and jsonl ------------------------------------------------------------------------

def test_json_is_the_report_schema_streamed_one_finding_a_line(report: Report, ctx: FormatContext) -> None:
    out = render("json", report, ctx)
    data = json.loads(out)
    assert set(data) == {"schema", "findings", "stats"} and data["schema"] == SCHEMA
    assert data["findings"] == [f.to_dict() for f in report.findings]
    assert data["stats"] == json.loads(json.dumps(report.stats))
    finding_lines = [line for line in out.splitlines() if line.startswith("  {")]
    assert [json.loads(line.rstrip(",")) for line in finding_lines] == data["findings"]
    for finding in data["findings"]:
        assert set(finding) >= {"kind", "scope", "score", "sentence", "match"}
        for span in (finding["sentence"], finding["match"]):
            assert set(span) == {"doc", "start", "end", "line", "column", "text"}
            assert SOURCES[span["doc"]][span["start"]:span["end"]] == span["text"]
    assert "\\u" not in out  # Arabic written as itself


def test_jsonl_is_one_finding_object_a_line(report: Report, ctx: FormatContext) -> None:
    lines = render("jsonl", report, ctx).splitlines()
    assert [json.loads(line) for line in lines] == [f.to_dict() for f in report.findings]


# --- sarif ---------------------------------------------------------------------------------

# The part of SARIF 2.1.0 that GitHub code scanning reads, written from its documentation.
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {
                        "name": {"type": "string"}, "version": {"type": "string"},
                        "informationUri": {"type": "string", "format": "uri"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id"],
                            "properties": {
                                "id": {"type": "string"}, "name": {"type": "string"},
                                "shortDescription": {"$ref": "#/$defs/message"},
                                "fullDescription": {"$ref": "#/$defs/message"},
                                "help": {"$ref": "#/$defs/message"},
                                "defaultConfiguration": {
                                    "type": "object", "properties": {"level": {"$ref": "#/$defs/level"}}},
                            }}},
                    }}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["message", "locations", "ruleId"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": 0},
                        "level": {"$ref": "#/$defs/level"},
                        "message": {"$ref": "#/$defs/message"},
                        "locations": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/location"}},
                        "relatedLocations": {"type": "array", "items": {"allOf": [
                            {"$ref": "#/$defs/location"}, {"required": ["id"]}]}},
                        "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
                        "properties": {"type": "object"},
                    }}},
            }}},
    },
    "$defs": {
        "level": {"enum": ["none", "note", "warning", "error"]},
        "message": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
        "location": {"type": "object", "required": ["physicalLocation"], "properties": {
            "id": {"type": "integer", "minimum": -1},
            "message": {"$ref": "#/$defs/message"},
            "physicalLocation": {"type": "object", "required": ["artifactLocation", "region"], "properties": {
                "artifactLocation": {"type": "object", "required": ["uri"], "properties": {"uri": {"type": "string"}}},
                "region": {"type": "object", "required": ["startLine"], "properties": {
                    "startLine": {"type": "integer", "minimum": 1},
                    "startColumn": {"type": "integer", "minimum": 1},
                    "endLine": {"type": "integer", "minimum": 1},
                    "endColumn": {"type": "integer", "minimum": 1},
                    "charOffset": {"type": "integer", "minimum": 0},
                    "charLength": {"type": "integer", "minimum": 0},
                }},
            }},
        }},
    },
}


def assert_utf16_location(physical: dict, span: Span) -> None:
    """The region, read in UTF-16 units of the source, is exactly the span's text."""
    assert unquote(physical["artifactLocation"]["uri"]) == span.doc
    region = physical["region"]
    source = SOURCES[span.doc]
    assert region["startLine"] == region["endLine"] == span.line
    line = line_of(source, span.line)
    assert utf16_slice(line, region["startColumn"], region["endColumn"]) == span.text
    units = source.encode("utf-16-le")
    start, length = region["charOffset"], region["charLength"]
    assert units[2 * start: 2 * (start + length)].decode("utf-16-le") == span.text


def test_sarif_has_what_github_code_scanning_requires(report: Report, ctx: FormatContext) -> None:
    sarif = json.loads(render("sarif", report, ctx))
    jsonschema.validate(sarif, SARIF_SUBSET, format_checker=jsonschema.FormatChecker())
    assert sarif["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert run["columnKind"] == "utf16CodeUnits"
    driver = run["tool"]["driver"]
    assert driver["name"] == "dedup" and driver["version"] == dedup.__version__
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in RULES]
    assert len(run["results"]) == len(report.findings)
    assert any(not f.sentence.text.isascii() for f in report.findings)  # an Arabic finding is among them
    for result, finding in zip(run["results"], report.findings):
        assert result["ruleId"] == rule_for(finding.kind).id == driver["rules"][result["ruleIndex"]]["id"]
        assert result["level"] == {"error": "error", "warning": "warning"}[DEFAULT_SEVERITY[finding.kind]]
        assert "[earlier occurrence](1)" in result["message"]["text"]
        assert_utf16_location(result["locations"][0]["physicalLocation"], finding.sentence)
        (related,) = result["relatedLocations"]
        assert related["id"] == 1 and related["message"]["text"]
        assert_utf16_location(related["physicalLocation"], finding.match)
        assert result["partialFingerprints"] == {"dedupContent/v1": fingerprint(finding)}
        assert result["properties"] == {"kind": finding.kind, "score": finding.score, "scope": finding.scope}


def test_sarif_columns_differ_from_code_points_after_emoji(report: Report, ctx: FormatContext) -> None:
    run = json.loads(render("sarif", report, ctx))["runs"][0]
    starts = [r["locations"][0]["physicalLocation"]["region"]["startColumn"] for r in run["results"]]
    assert any(column != f.sentence.column for column, f in zip(starts, report.findings))


def test_sarif_levels_follow_the_context(report: Report) -> None:
    ctx = FormatContext(sources=SOURCES, severity={"near": "info", "exact": "warning"})
    run = json.loads(render("sarif", report, ctx))["runs"][0]
    levels = {result["properties"]["kind"]: result["level"] for result in run["results"]}
    assert levels["near"] == "note" and levels["exact"] == "warning" and levels["normalized"] == "error"
    rule_levels = {rule["id"]: rule["defaultConfiguration"]["level"] for rule in run["tool"]["driver"]["rules"]}
    assert rule_levels[rule_for("near").id] == "note"


def test_sarif_uris_are_relative_forward_slashed_and_percent_encoded() -> None:
    assert artifact_uri("news/a.md") == "news/a.md"
    assert artifact_uri("./news/my story#2.md") == "news/my%20story%232.md"
    assert artifact_uri("news\\أخبار.md") == "news/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1.md"
    assert artifact_uri("/srv/news/a b.md") == "file:///srv/news/a%20b.md"
    assert artifact_uri("C:\\news\\a.md") == "file:///C:/news/a.md"


# --- github --------------------------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<command>error|warning|notice) (?P<properties>[^:]+)::(?P<message>[^\r\n]*)$")


def unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, line
    properties = dict(item.split("=", 1) for item in m["properties"].split(","))
    return m["command"], {key: unescape(value) for key, value in properties.items()}, unescape(m["message"])


def test_github_commands_point_at_the_passages_in_code_points(report: Report, ctx: FormatContext) -> None:
    lines = render("github", report, ctx).splitlines()
    assert len(lines) == len(report.findings)
    for line, finding in zip(lines, report.findings):
        command, properties, message = parse_command(line)
        assert command == DEFAULT_SEVERITY[finding.kind]
        assert set(properties) == {"file", "line", "col", "endLine", "endColumn", "title"}
        assert properties["file"] == finding.sentence.doc
        assert properties["title"].startswith(f"dedup {rule_for(finding.kind).id}: ")
        source_line = line_of(SOURCES[finding.sentence.doc], int(properties["line"]))
        assert source_line[int(properties["col"]) - 1: int(properties["endColumn"]) - 1] == finding.sentence.text
        assert message == summary(finding)


def test_github_escapes_messages_and_properties() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("C:\\dir,1 50%\n") == "C%3A\\dir%2C1 50%25%0A"
    tricky = Span("odd: name, 100%.md", 0, 10, 1, 1, "some text")
    finding = Finding("contained", "document", 0.5, tricky, tricky)
    line = render("github", Report([finding]), FormatContext(sources={}, severity={"contained": "info"}))
    command, properties, message = parse_command(line.rstrip("\n"))
    assert command == "notice" and properties["file"] == "odd: name, 100%.md" and message == summary(finding)


def test_github_multiline_passage_has_lines_but_no_columns(ctx: FormatContext) -> None:
    line = render("github", Report([multiline_finding()]), ctx)
    _, properties, _ = parse_command(line.rstrip("\n"))
    assert (properties["line"], properties["endLine"]) == ("1", "2")
    assert "col" not in properties and "endColumn" not in properties


# --- rdjsonl -------------------------------------------------------------------------------

def assert_utf8_range(location: dict, span: Span) -> None:
    assert location["path"] == span.doc
    start, end = location["range"]["start"], location["range"]["end"]
    assert start["line"] == end["line"] == span.line
    line = line_of(SOURCES[span.doc], span.line)
    assert line.encode("utf-8")[start["column"] - 1:].startswith(span.text.encode("utf-8"))
    assert utf8_slice(line, start["column"], end["column"]) == span.text


def test_rdjsonl_byte_columns_point_at_the_passages(report: Report, ctx: FormatContext) -> None:
    lines = render("rdjsonl", report, ctx).splitlines()
    assert len(lines) == len(report.findings)
    for line, finding in zip(lines, report.findings):
        diagnostic = json.loads(line)
        assert diagnostic["message"] == summary(finding)
        assert diagnostic["severity"] == DEFAULT_SEVERITY[finding.kind].upper()
        assert diagnostic["source"] == {"name": "dedup"}
        assert diagnostic["code"] == {"value": rule_for(finding.kind).id}
        assert_utf8_range(diagnostic["location"], finding.sentence)
        (related,) = diagnostic["related_locations"]
        assert related["message"] and related["location"]["path"] == finding.match.doc
        assert_utf8_range(related["location"], finding.match)
    byte_columns = [json.loads(line)["location"]["range"]["start"]["column"] for line in lines]
    assert all(column > f.sentence.column for column, f in zip(byte_columns, report.findings))
