"""Rule codes: one source (`dedup.rules`), selected and ignored in the configuration, on the
command line, per file; and ``respect-gitignore``/``force-exclude`` as configuration keys."""
from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.cli import main
from dedup.config import Config, ConfigError, config_for, filter_findings, load_config, render_config
from dedup.formats import FormatContext, get_formatter
from dedup.model import Finding, Report, Span
from dedup.rules import ALL, RULES, SelectorError, kinds_of, normalize_selector, selected_kinds
from dedup.verify import KINDS

from conftest import EN

NEAR = "The harbour museum reopened on Monday after a two-year renovation of its medieval map room."
NEAR_COPY = "The harbour museum reopened on Monday after a two year renovation of its old medieval map room."


def finding(kind: str, doc: str = "a.md") -> Finding:
    span = Span(doc, 0, 1, 1, 1, "x")
    return Finding(kind, "document", 1.0, span, span)  # type: ignore[arg-type]


# --- the codes ----------------------------------------------------------------------------------------

def test_one_rule_per_kind_with_stable_codes() -> None:
    assert [(r.id, r.kind) for r in RULES] == [("DD001", "exact"), ("DD002", "normalized"), ("DD003", "near"),
                                               ("DD004", "contained"), ("DD005", "conflict")]
    assert tuple(r.kind for r in RULES) == KINDS


def test_every_format_that_names_a_rule_takes_the_code_from_the_rules() -> None:
    found = [finding(kind) for kind in KINDS]
    report = Report(found)
    ctx = FormatContext({"a.md": "x"})

    def render(name: str) -> str:
        out = io.StringIO()
        get_formatter(name).write(report, out, ctx)
        return out.getvalue()

    sarif = json.loads(render("sarif"))["runs"][0]
    assert [r["id"] for r in sarif["tool"]["driver"]["rules"]] == [r.id for r in RULES]
    assert [r["ruleId"] for r in sarif["results"]] == [r.id for r in RULES]
    assert [json.loads(line)["code"]["value"] for line in render("rdjsonl").splitlines()] == [r.id for r in RULES]
    assert [i["check_name"] for i in json.loads(render("gitlab"))] == [r.id for r in RULES]
    assert [f"dedup {r.id}%3A" in line for r, line in zip(RULES, render("github").splitlines())] == [True] * 5
    assert render("junit").count('<failure type="DD00') == 5


@pytest.mark.parametrize("select, ignore, expected", [
    (["ALL"], [], KINDS),
    (["DD"], ["DD004"], ("exact", "normalized", "near", "conflict")),
    (["DD003"], ["DD"], ("near",)),  # the more specific select wins
    (["DD00"], ["DD00"], ()),  # equal specificity: ignore wins
    (["near"], ["DD003"], ()),  # a kind's name is its code
    (["exact", "conflict"], [], ("exact", "conflict")),
    (["all"], ["Near", "dd001"], ("normalized", "contained", "conflict")),
    ([], [], ()),
])
def test_selected_kinds(select: list[str], ignore: list[str], expected: tuple[str, ...]) -> None:
    assert selected_kinds(select, ignore) == expected


selectors = st.sampled_from([ALL, "DD", "DD0", "DD00", *(r.id for r in RULES), *KINDS])


@given(st.lists(selectors, max_size=4), st.lists(selectors, max_size=4))
def test_selection_properties(select: list[str], ignore: list[str]) -> None:
    chosen = selected_kinds(select, ignore)
    named = {k for s in select for k in kinds_of(s)}
    dropped = {k for s in ignore for k in kinds_of(s)}
    assert set(chosen) <= named  # only what select names
    assert set(named - dropped) <= set(chosen)  # and all of it that ignore does not touch
    assert selected_kinds([ALL], ignore) == tuple(k for k in KINDS if k not in dropped)  # ALL is the least specific
    assert selected_kinds(select) == tuple(k for k in KINDS if k in named)


@pytest.mark.parametrize("selector, hint", [("DD03", "DD003"), ("neer", "near"), ("DD006", "DD005"), ("E501", None)])
def test_unknown_selectors_are_errors_with_a_hint(selector: str, hint: str | None) -> None:
    with pytest.raises(SelectorError) as caught:
        normalize_selector(selector)
    assert f"unknown rule code {selector!r}" in str(caught.value)
    assert (f"did you mean {hint!r}" in str(caught.value)) if hint else "did you mean" not in str(caught.value)


# --- configuration ------------------------------------------------------------------------------------

def test_select_and_ignore_in_dedup_toml_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "dedup.toml").write_text('select = ["DD", "conflict"]\nignore = ["dd004", "near"]\n')
    config = load_config(tmp_path / "dedup.toml")
    assert config.select == ("DD", "conflict") and config.ignore == ("DD004", "near")
    assert config.reported_kinds == ("exact", "normalized", "conflict")
    (tmp_path / "pyproject.toml").write_text('[tool.dedup]\nignore = ["DD001"]\nkinds = ["exact", "near"]\n')
    config = load_config(tmp_path / "pyproject.toml")
    assert config.select == (ALL,) and config.reported_kinds == ("near",)  # kinds applies on top


@pytest.mark.parametrize("line, problem", [
    ('select = ["DD03"]', "unknown rule code 'DD03'"),
    ('ignore = "DD003"', "must be an array"),
    ("respect-gitignore = 1", "must be true or false"),
    ("force-exclude = 'yes'", "must be true or false"),
    ('[per-file-ignores]\n"*.md" = ["DD9"]', "unknown rule code 'DD9'"),
])
def test_bad_values_name_file_and_key(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "dedup.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid '") and problem in message and "\n" not in message


def test_filter_findings_by_code_and_per_file_codes(tmp_path: Path) -> None:
    found = [finding(kind, doc) for kind in KINDS for doc in ("a.md", "legacy/b.md")]
    config = Config().with_overrides(ignore=["DD004"], per_file_ignores={"legacy/**": ["DD00"]})
    kept = filter_findings(found, config, tmp_path, cwd=tmp_path)
    assert [(f.kind, f.sentence.doc) for f in kept] == [(k, "a.md") for k in KINDS if k != "contained"]
    config = Config().with_overrides(per_file_ignores={"legacy/**": ["DD001", "near"]})
    assert config.per_file_ignores == {"legacy/**": ("exact", "near")}
    kept = filter_findings(found, config, tmp_path, cwd=tmp_path)
    assert {(f.kind, f.sentence.doc) for f in kept} == {(f.kind, f.sentence.doc) for f in found} - {
        ("exact", "legacy/b.md"), ("near", "legacy/b.md")}


def test_command_line_select_starts_afresh_and_ignore_adds(tmp_path: Path) -> None:
    (tmp_path / "dedup.toml").write_text('ignore = ["DD001"]\n')
    config = load_config(tmp_path / "dedup.toml")
    assert config.with_overrides(ignore=["DD005"]).reported_kinds == ("normalized", "near", "contained")
    assert config.with_overrides(select=["DD001", "DD005"]).reported_kinds == ("exact", "conflict")
    assert config.with_overrides(select=["DD"], ignore=["DD002"]).ignore == ("DD002",)


def test_new_keys_render_and_read_back(tmp_path: Path) -> None:
    config = Config().with_overrides(select=["DD00"], ignore=["near"], respect_gitignore=False, force_exclude=True)
    text = render_config(config, None)
    shown = tomllib.loads(text)
    assert shown["select"] == ["DD00"] and shown["ignore"] == ["near"]
    assert shown["respect-gitignore"] is False and shown["force-exclude"] is True
    (tmp_path / "dedup.toml").write_text(text)
    assert load_config(tmp_path / "dedup.toml") == config


# --- command line --------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "a.md").write_text(f"{EN[0]}\n\n{NEAR}\n\n{EN[1]}\n\n{EN[0]}\n\n{NEAR_COPY}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def kinds_reported(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    status = main(["check", "a.md", "--format", "jsonl", *args])
    return status, [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]


def test_cli_select_and_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kinds_reported(capsys, "--isolated") == (1, ["exact", "near"])
    assert kinds_reported(capsys, "--isolated", "--select", "DD001") == (1, ["exact"])
    assert kinds_reported(capsys, "--isolated", "--ignore", "near,DD001") == (0, [])
    (project / "dedup.toml").write_text('ignore = ["DD003"]\n')
    assert kinds_reported(capsys) == (1, ["exact"])
    assert kinds_reported(capsys, "--select", "ALL") == (1, ["exact", "near"])  # a new selection
    assert kinds_reported(capsys, "--ignore", "exact") == (0, [])  # added to the file's


def test_cli_unknown_code_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", "a.md", "--select", "DD03"])
    assert caught.value.code == 2
    assert "unknown rule code 'DD03'" in capsys.readouterr().err


def test_respect_gitignore_as_a_config_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".gitignore").write_text("generated/\n")
    (project / "generated").mkdir()
    (project / "generated" / "b.md").write_text(f"{EN[3]}\n\n{EN[3]}\n", encoding="utf-8")
    (project / "a.md").unlink()

    def docs(*args: str) -> list[str]:
        main(["check", ".", "--format", "jsonl", *args])
        return sorted({json.loads(line)["sentence"]["doc"] for line in capsys.readouterr().out.splitlines()})

    assert docs("--isolated") == []
    (project / "dedup.toml").write_text("respect-gitignore = false\n")
    assert docs() == ["generated/b.md"]
    assert docs("--respect-gitignore") == []
    (project / "dedup.toml").write_text("respect-gitignore = true\n")
    assert docs("--no-respect-gitignore") == ["generated/b.md"]


def test_force_exclude_as_a_config_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "dedup.toml").write_text('exclude = ["a.md"]\n')
    assert kinds_reported(capsys)[0] == 1  # a file named on the command line is read
    (project / "dedup.toml").write_text('exclude = ["a.md"]\nforce-exclude = true\n')
    assert kinds_reported(capsys) == (0, [])
    config, _ = config_for(["a.md"], project)
    assert config.force_exclude is True
