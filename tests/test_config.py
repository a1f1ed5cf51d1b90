"""Configuration: discovery, every key, one-line errors, overrides, filtering findings, rendering."""
from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from dedup import Detector, Finding, Span
from dedup.config import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    Config,
    ConfigError,
    config_for,
    fails,
    filter_findings,
    find_config,
    glob_matches,
    level_of,
    load_config,
    render_config,
)
from dedup.normalize import PROFILE
from dedup.verify import KINDS, Thresholds


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- discovery ------------------------------------------------------------------------------

def test_precedence_within_one_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.dedup]\nthreshold = 0.5\n")
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    write(tmp_path / "dedup.toml", "threshold = 0.6\n")
    assert find_config(tmp_path) == tmp_path / "dedup.toml"
    write(tmp_path / ".dedup.toml", "threshold = 0.7\n")
    assert find_config(tmp_path) == tmp_path / ".dedup.toml"


def test_closest_file_wins_and_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "dedup.toml", "threshold = 0.6\n")
    inner = tmp_path / "project" / "docs"
    write(tmp_path / "project" / "pyproject.toml", "[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n")
    inner.mkdir(parents=True, exist_ok=True)
    assert find_config(inner) == tmp_path / "dedup.toml"
    write(tmp_path / "project" / "pyproject.toml", "[tool.dedup]\nmin-words = 7\n")
    assert find_config(inner) == tmp_path / "project" / "pyproject.toml"
    config, source = config_for(["docs"], tmp_path / "project")
    assert source == tmp_path / "project" / "pyproject.toml"
    assert config.min_words == 7 and config.threshold == 0.4  # no merging with the outer file


def test_no_config_anywhere_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    if find_config(tmp_path) is not None:
        pytest.skip("a config file above the temporary directory")
    assert config_for(["a/b"], tmp_path) == (Config(), None)


def test_config_for_uses_the_common_parent_of_the_paths(tmp_path: Path) -> None:
    write(tmp_path / "docs" / "dedup.toml", "threshold = 0.9\n")
    write(tmp_path / "docs" / "en" / "a.md", "text")
    write(tmp_path / "docs" / "ar" / "b.md", "text")
    write(tmp_path / "notes" / "c.md", "text")
    _, source = config_for(["docs/en/a.md", "docs/ar/b.md"], tmp_path)
    assert source == tmp_path / "docs" / "dedup.toml"
    _, source = config_for(["docs/en/a.md", "-"], tmp_path / "docs" / "ar")
    assert source == tmp_path / "docs" / "dedup.toml"
    config, source = config_for(["docs/en/a.md", "notes/c.md"], tmp_path)
    assert source is None or source.parent != tmp_path / "docs"


# --- every key ------------------------------------------------------------------------------

FULL = """\
threshold = 0.5
min-words = 6
num-perm = 64
shingles = "char:4"
kinds = ["exact", "near"]
fail-on = "error"
include = ["*.md"]
exclude = ["vendor"]
extend-exclude = ["drafts", "vendor"]
allowlist = ["Reporting by Jane Doe; editing by John Roe."]
allowlist-patterns = ['^\\(Reuters\\)', "Copyright \\\\d{4}"]
normalization = "news-v1"
id-field = "key"
text-field = "body"
format = "json"

[severity]
near = "error"
exact = "info"

[per-file-ignores]
"legacy/**" = ["near"]
"*.txt" = ["all"]
"""


def test_every_key_parses(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "dedup.toml", FULL))
    assert config.threshold == 0.5 and config.min_words == 6 and config.num_perm == 64
    assert config.shingles == "char:4"
    assert config.kinds == ("exact", "near")
    assert config.fail_on == "error"
    assert config.include == ("*.md",)
    assert config.exclude == ("vendor",) and config.extend_exclude == ("drafts", "vendor")
    assert config.excluded == ("vendor", "drafts")
    assert config.allowlist == ("Reporting by Jane Doe; editing by John Roe.",)
    assert [p.pattern for p in config.allowlist_patterns] == [r"^\(Reuters\)", r"Copyright \d{4}"]
    assert config.normalization == PROFILE
    assert (config.id_field, config.text_field, config.format) == ("key", "body", "json")
    assert config.severity == {"exact": "info", "normalized": "error", "near": "error",
                               "contained": "warning", "conflict": "error"}
    assert config.per_file_ignores == {"legacy/**": ("near",), "*.txt": KINDS}


def test_pyproject_table_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "pyproject.toml", "[tool.dedup]\nthreshold = 1\n"))
    assert config == Config(threshold=1.0)
    assert config.include == DEFAULT_INCLUDE and config.exclude == DEFAULT_EXCLUDE
    assert config.kinds == KINDS and config.fail_on == "warning" and config.format == "text"
    assert level_of("near", config) == "warning" and level_of("conflict", config) == "error"


def test_detector_settings(tmp_path: Path) -> None:
    config = Config(threshold=0.6, num_perm=64, shingles="word:2", min_words=3)
    settings = config.detector_settings()
    assert settings["verify"] == dataclasses.replace(Thresholds(), min_words=3)
    detector = Detector(**settings)
    assert (detector.settings.threshold, detector.settings.num_perm, detector.settings.shingles) == (0.6, 64, "word:2")
    assert detector.settings.verify.min_words == 3


# --- errors ---------------------------------------------------------------------------------

BAD_VALUES = [
    ("threshold = 1.5", "threshold", "(0, 1]"),
    ("threshold = 0", "threshold", "(0, 1]"),
    ('threshold = "high"', "threshold", "number"),
    ("min-words = 0", "min-words", "positive integer"),
    ("num-perm = 12.5", "num-perm", "positive integer"),
    ("num-perm = true", "num-perm", "positive integer"),
    ('shingles = "line:2"', "shingles", "word:N"),
    ('kinds = ["exact", "neer"]', "kinds", "did you mean 'near'"),
    ('kinds = "exact"', "kinds", "array"),
    ('fail-on = "fatal"', "fail-on", "error, warning, info"),
    ('include = ["*.md", 3]', "include", "array of non-empty strings"),
    ('extend-exclude = "drafts"', "extend-exclude", "array"),
    ('allowlist = ["---"]', "allowlist", "no words"),
    ('allowlist-patterns = ["(unclosed"]', "allowlist-patterns", "'(unclosed'"),
    ('normalization = "news-v2"', "normalization", "news-v1"),
    ('id-field = ""', "id-field", "non-empty string"),
    ("format = 3", "format", "string"),
    ('severity = "error"', "severity", "table"),
    ('[severity]\nnear = "fatal"', "severity", "unknown level 'fatal'"),
    ('[severity]\nclose = "error"', "severity", "unknown kind 'close'"),
    ('[per-file-ignores]\n"*.md" = ["nothing"]', "per-file-ignores", "unknown rule code 'nothing'"),
    ('per-file-ignores = ["*.md"]', "per-file-ignores", "table"),
]


@pytest.mark.parametrize("line, key, problem", BAD_VALUES)
def test_invalid_values_are_one_line_errors_naming_file_and_key(tmp_path: Path, line: str, key: str,
                                                              problem: str) -> None:
    path = write(tmp_path / "dedup.toml", line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: invalid '{key}'")
    assert problem in message


def test_invalid_values_in_pyproject_name_the_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.dedup]\nthreshold = 2\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: invalid 'threshold' in [tool.dedup]: ")):
        load_config(path)


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.dedup]\nthreshhold = 0.5\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: unknown key 'threshhold' in [tool.dedup] (did you mean 'threshold'?)"
    path = write(tmp_path / "dedup.toml", "min_words = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: unknown key 'min_words' at the top level (did you mean 'min-words'?)"


def test_invalid_toml_is_a_one_line_error_with_position(tmp_path: Path) -> None:
    path = write(tmp_path / ".dedup.toml", "threshold = 0.5\nkinds = [\"exact\"]\nfail-on = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: invalid TOML: ") and "line 3" in message


def test_broken_pyproject_during_discovery_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.dedup\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        find_config(tmp_path)


def test_tool_dedup_must_be_a_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool]\ndedup = 3\n")
    with pytest.raises(ConfigError, match=r"\[tool\.dedup\] must be a table"):
        load_config(path)


# --- overrides ------------------------------------------------------------------------------

def test_overrides_win_and_none_is_ignored(tmp_path: Path) -> None:
    base = load_config(write(tmp_path / "dedup.toml", FULL))
    config = base.with_overrides(threshold=0.8, format=None, kinds=["conflict"], allowlist_patterns=["^Note:"],
                                 severity={"contained": "error"}, extend_exclude=["tmp"])
    assert config.threshold == 0.8 and config.format == "json" and config.kinds == ("conflict",)
    assert [p.pattern for p in config.allowlist_patterns] == ["^Note:"]
    assert config.severity["contained"] == "error" and config.severity["near"] == "error"  # merged per kind
    assert config.extend_exclude == ("drafts", "vendor", "tmp")
    assert base.threshold == 0.5  # the original is unchanged


def test_overrides_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Config().with_overrides(threshold=3.0)
    assert str(caught.value) == "command line: invalid --threshold: must be a number in (0, 1], not 3.0"
    with pytest.raises(ConfigError, match="--fail-on"):
        Config().with_overrides(fail_on="fatal")
    with pytest.raises(TypeError, match="thresold"):
        Config().with_overrides(thresold=0.5)


# --- applying the config to findings --------------------------------------------------------

BYLINE = "Reporting by Jane Doe; editing by John Roe."
BUDGET = "The city council approved the new budget for public schools on Tuesday evening."
DOCS = {
    "docs/a.md": f"{BUDGET} {BYLINE}",
    "docs/b.md": f"Heavy rain flooded several streets in the old town overnight. {BUDGET} {BYLINE}",
    "legacy/c.md": "Officials said the bridge would reopen next month after repairs. The city council has "
                   f"approved a new budget for the public schools on Tuesday night. {BYLINE}",
}


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    found = Detector().check_many(list(DOCS.items())).findings
    assert {(f.kind, f.sentence.doc, f.sentence.text == BYLINE) for f in found} == {
        ("exact", "docs/b.md", False), ("exact", "docs/b.md", True),
        ("near", "legacy/c.md", False), ("exact", "legacy/c.md", True)}
    return found


def summary(findings: list[Finding]) -> set[tuple[str, str, bool]]:
    return {(f.kind, f.sentence.doc, f.sentence.text == BYLINE) for f in findings}


def test_no_config_keeps_everything(findings: list[Finding], tmp_path: Path) -> None:
    assert filter_findings(findings, Config(), None) == findings


def test_kinds(findings: list[Finding], tmp_path: Path) -> None:
    kept = filter_findings(findings, Config(kinds=("near",)), tmp_path, cwd=tmp_path)
    assert summary(kept) == {("near", "legacy/c.md", False)}


def test_per_file_ignores_drop_only_matching_files_and_kinds(findings: list[Finding], tmp_path: Path) -> None:
    config = Config().with_overrides(per_file_ignores={"legacy/**": ["near"]})
    kept = filter_findings(findings, config, tmp_path, cwd=tmp_path)
    assert summary(kept) == summary(findings) - {("near", "legacy/c.md", False)}
    config = Config().with_overrides(per_file_ignores={"b.md": ["all"]})
    kept = filter_findings(findings, config, tmp_path, cwd=tmp_path)
    assert summary(kept) == {("near", "legacy/c.md", False), ("exact", "legacy/c.md", True)}


def test_per_file_ignores_are_relative_to_the_config_directory(findings: list[Finding], tmp_path: Path) -> None:
    write(tmp_path / "site" / "dedup.toml", '[per-file-ignores]\n"legacy/*.md" = ["near", "exact"]\n')
    config, source = config_for(["legacy"], tmp_path / "site")
    assert source is not None
    kept = filter_findings(findings, config, source.parent, cwd=tmp_path / "site")
    assert summary(kept) == {("exact", "docs/b.md", False), ("exact", "docs/b.md", True)}
    # run from elsewhere: the same documents named from the parent directory
    moved = [dataclasses.replace(f, sentence=dataclasses.replace(f.sentence, doc="site/" + f.sentence.doc))
             for f in findings]
    assert summary(filter_findings(moved, config, source.parent, cwd=tmp_path)) == {
        ("exact", "site/docs/b.md", False), ("exact", "site/docs/b.md", True)}


def test_allowlist_drops_boilerplate_by_normalized_text(findings: list[Finding], tmp_path: Path) -> None:
    config = Config().with_overrides(allowlist=["reporting by JANE DOE, editing by John Roe"])
    kept = filter_findings(findings, config, None)
    assert summary(kept) == {("exact", "docs/b.md", False), ("near", "legacy/c.md", False)}


def test_allowlist_patterns_search_the_later_passage(findings: list[Finding], tmp_path: Path) -> None:
    config = Config().with_overrides(allowlist_patterns=[r"^Reporting by \w+"])
    assert summary(filter_findings(findings, config, None)) == {
        ("exact", "docs/b.md", False), ("near", "legacy/c.md", False)}
    config = Config().with_overrides(allowlist_patterns=["Tuesday night"])
    assert summary(filter_findings(findings, config, None)) == summary(findings) - {("near", "legacy/c.md", False)}


def finding(kind: str) -> Finding:
    span = Span("a.md", 0, 1, 1, 1, "x")
    return Finding(kind, "document", 1.0, span, span)  # type: ignore[arg-type]


def test_fails_by_severity() -> None:
    near, exact = finding("near"), finding("exact")
    assert fails([near], Config())  # warning at fail-on warning
    assert not fails([near], Config(fail_on="error"))
    assert fails([near, exact], Config(fail_on="error"))
    assert not fails([], Config(fail_on="info"))
    quiet = Config().with_overrides(severity={"near": "info", "exact": "info"})
    assert not fails([near, exact], quiet)
    assert fails([near], quiet.with_overrides(fail_on="info"))


@pytest.mark.parametrize("glob, path, expected", [
    ("*.md", "a.md", True), ("*.md", "docs/deep/a.md", True), ("*.md", "a.txt", False),
    ("docs/*.md", "docs/a.md", True), ("docs/*.md", "docs/en/a.md", False), ("docs/*.md", "x/docs/a.md", False),
    ("docs/**", "docs/en/a.md", True), ("**/a.md", "a.md", True), ("docs/**/a.md", "docs/a.md", True),
    ("legacy", "legacy/old/a.md", True), ("/a.md", "docs/a.md", False), ("a?.md", "ab.md", True),
    ("[!a]b.md", "cb.md", True), ("[!a]b.md", "ab.md", False), ("[ab].md", "b.md", True),
])
def test_glob_matches(glob: str, path: str, expected: bool) -> None:
    assert glob_matches(glob, path) is expected


# --- rendering ------------------------------------------------------------------------------

def test_render_round_trips(tmp_path: Path) -> None:
    source = write(tmp_path / "pyproject.toml", "[tool.dedup]\n" + FULL.replace("[severity]", "[tool.dedup.severity]")
                   .replace("[per-file-ignores]", "[tool.dedup.per-file-ignores]"))
    config = load_config(source).with_overrides(allowlist=['He said "yes" \\ no\ttab \x7f'])
    text = render_config(config, source)
    assert text.splitlines()[0] == f"# from {source}"
    assert load_config(write(tmp_path / "shown" / "dedup.toml", text)) == config
    for name in tomllib.loads(text):
        assert "_" not in name


def test_render_defaults() -> None:
    text = render_config(Config(), None)
    assert text.splitlines()[0] == "# no config file found: defaults"
    shown = tomllib.loads(text)
    assert shown["fail-on"] == "warning" and shown["severity"]["near"] == "warning"
    assert shown["per-file-ignores"] == {} and shown["normalization"] == PROFILE
