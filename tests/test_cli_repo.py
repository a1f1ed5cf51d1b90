"""`dedup check` as a CI step: the real command over a temporary content repository of
Markdown and HTML files in Arabic and English.

Every output format must put line:column on the repeated passage (in its own column unit),
exit codes follow the ruff conventions, ignore comments, the baseline and config discovery work.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import AR, EN, dedup_command

# The later copies of these sentences are the findings; the first copies sit after other text
# on their line, and Arabic copies after Arabic text and an emoji, so that columns differ per unit.
EN_REPEAT = EN[0]
AR_REPEAT = AR[0]

GUIDE_MD = f"""---
title: Rates guide
tags: [economy]
---

# Interest rates

Markets were calm. {EN_REPEAT} {EN[1]}
{EN[2]}

```text
{EN_REPEAT}
```

- {EN[3]}
- {EN[4]}

Analysts had expected it. {EN_REPEAT}
"""

ARTICLE_MD = f"""# تقرير اقتصادي

خبر عاجل 📰. {AR_REPEAT} {AR[1]}

{AR[2]}

> {AR[3]}

وفي الختام 🗞️. {AR_REPEAT}
"""

INDEX_HTML = f"""<!doctype html>
<html><head><title>News site</title><script>var s = "{EN[1]}";</script></head>
<body>
<h1>Front page</h1>
<p>{EN[5]}</p>
<div><p>Quoted from the guide. <em>{EN[1]}</em></p></div>
<pre>{EN[2]}</pre>
</body></html>
"""

NOTE = "The city orchestra will tour five northern towns in the autumn with a programme of new works."
IGNORED_MD = f"""# Notes

{NOTE} This paragraph is the first copy.

<!-- dedup: ignore -->
{NOTE} This paragraph is the first copy.

<!-- dedup: off -->
{NOTE}
<!-- dedup: on -->
"""


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([*dedup_command(), *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    files = {
        "docs/en/guide.md": GUIDE_MD,
        "docs/ar/article.md": ARTICLE_MD,
        "site/index.html": INDEX_HTML,
        "docs/notes.md": IGNORED_MD,
        "node_modules/pkg/readme.md": f"{EN[4]}\n\n{EN[4]}\n",
        "generated/out.md": f"{EN[5]}\n\n{EN[5]}\n",
        ".gitignore": "generated/\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def later_positions(repo: Path) -> dict[str, tuple[int, int]]:
    """(line, code-point column) of each expected finding's later passage, by file."""
    out = {}
    for name, needle in (("docs/en/guide.md", f"expected it. {EN_REPEAT}"),
                         ("docs/ar/article.md", f"🗞️. {AR_REPEAT}"),
                         ("site/index.html", f"<em>{EN[1]}")):
        text = (repo / name).read_text(encoding="utf-8")
        offset = text.index(needle) + len(needle) - len(EN_REPEAT if "guide" in name else
                                                        AR_REPEAT if "article" in name else EN[1])
        line = text.count("\n", 0, offset) + 1
        out[name] = (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)
    return out


def line_text(repo: Path, name: str, line: int) -> str:
    return (repo / name).read_text(encoding="utf-8").split("\n")[line - 1]


def to_code_points(repo: Path, name: str, line: int, column: int, unit: str) -> int:
    """A column in `unit` converted back to a 1-based code-point column of that line."""
    text = line_text(repo, name, line)
    encoding = {"utf-16": "utf-16-le", "utf-8": "utf-8"}[unit]
    width = 2 if unit == "utf-16" else 1
    encoded = text.encode(encoding)
    prefix = encoded[: (column - 1) * width].decode(encoding)
    return len(prefix) + 1


# --- formats: each parses, and line:column lands on the repeated passage -------------------------

def test_text_format_lands_on_each_repeat(repo):
    proc = run("check", ".", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    found = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(.+?):(\d+):(\d+): (\w+): .* \(repeats (?:(.+?):)?(\d+):(\d+), score ([01]\.\d\d)\)$", line)
        assert m, line
        found[m[1]] = (int(m[2]), int(m[3]))
    assert "\x1b[" not in proc.stdout  # no colour when not on a terminal
    assert found == later_positions(repo)


def test_concise_format(repo):
    proc = run("check", ".", "--format", "concise", cwd=repo)
    assert proc.returncode == 1
    found = {m[1]: (int(m[2]), int(m[3])) for m in
             (re.match(r"^(.+?):(\d+):(\d+): (\w+)", line) for line in proc.stdout.splitlines()) if m}
    assert found == later_positions(repo)


def test_json_follows_the_schema_and_offsets_point_into_the_source(repo):
    # the schema shipped in the package, closed (imported here: it needs jsonschema)
    from report_schema import assert_valid_report

    proc = run("check", ".", "--format", "json", cwd=repo)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert_valid_report(report)
    for f in report["findings"]:
        for side in ("sentence", "match"):
            span = f[side]
            source = (repo / span["doc"]).read_text(encoding="utf-8")
            assert source[span["start"]:span["end"]] == span["text"]
    found = {f["sentence"]["doc"]: (f["sentence"]["line"], f["sentence"]["column"]) for f in report["findings"]}
    assert found == later_positions(repo)
    html = next(f for f in report["findings"] if f["sentence"]["doc"] == "site/index.html")
    assert (html["scope"], html["match"]["doc"]) == ("corpus", "docs/en/guide.md")


def test_jsonl_format(repo):
    proc = run("check", ".", "--format", "jsonl", cwd=repo)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {f["sentence"]["doc"]: (f["sentence"]["line"], f["sentence"]["column"]) for f in lines} == \
        later_positions(repo)


def test_sarif_has_what_github_needs_and_utf16_columns(repo):
    proc = run("check", ".", "--output-format", "sarif", cwd=repo)
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    assert sarif["version"] == "2.1.0" and "$schema" in sarif
    (sarif_run,) = sarif["runs"]
    assert sarif_run["tool"]["driver"]["name"] == "dedup"
    assert sarif_run["columnKind"] == "utf16CodeUnits"
    rule_ids = {r["id"] for r in sarif_run["tool"]["driver"]["rules"]}
    found = {}
    for result in sarif_run["results"]:
        assert result["ruleId"] in rule_ids and result["message"]["text"]
        assert result["partialFingerprints"]
        location = result["locations"][0]["physicalLocation"]
        uri, region = location["artifactLocation"]["uri"], location["region"]
        found[uri] = (region["startLine"], to_code_points(repo, uri, region["startLine"], region["startColumn"],
                                                          "utf-16"))
        assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert found == later_positions(repo)
    ar_line, ar_col = later_positions(repo)["docs/ar/article.md"]
    ar_result = next(r for r in sarif_run["results"]
                     if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "docs/ar/article.md")
    assert ar_result["locations"][0]["physicalLocation"]["region"]["startColumn"] > ar_col  # the emoji: 2 units


def test_github_annotations(repo):
    proc = run("check", ".", "--format", "github", cwd=repo)
    assert proc.returncode == 1
    found = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),endColumn=(\d+)"
                     r"(?:,title=[^:]*)?::(.+)$", line)
        assert m, line
        found[m[2]] = (int(m[3]), int(m[4]))
    assert found == later_positions(repo)


def test_rdjsonl_uses_utf8_byte_columns(repo):
    proc = run("check", ".", "--format", "rdjsonl", cwd=repo)
    assert proc.returncode == 1
    found = {}
    for line in proc.stdout.splitlines():
        diagnostic = json.loads(line)
        location = diagnostic["location"]
        start = location["range"]["start"]
        found[location["path"]] = (start["line"], to_code_points(repo, location["path"], start["line"],
                                                                 start["column"], "utf-8"))
        assert diagnostic["severity"] in ("ERROR", "WARNING", "INFO")
    assert found == later_positions(repo)


def test_output_file_and_statistics(repo):
    proc = run("check", ".", "--format", "json", "-o", "report.json", "--statistics", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(json.loads((repo / "report.json").read_text(encoding="utf-8"))["findings"]) == 3
    assert re.search(r"^documents\s+4$", proc.stderr, re.M), proc.stderr
    assert re.search(r"^findings\s+3$", proc.stderr, re.M)


def test_quiet_prints_nothing_on_stderr(repo):
    proc = run("check", ".", "--quiet", cwd=repo)
    assert proc.returncode == 1 and proc.stderr == ""


# --- files: gitignore, excludes, explicit files, stdin ------------------------------------------

def test_excluded_and_gitignored_files_are_skipped_in_directories(repo):
    proc = run("check", ".", "--format", "jsonl", cwd=repo)
    docs = {json.loads(line)["sentence"]["doc"] for line in proc.stdout.splitlines()}
    assert not any(d.startswith(("node_modules", "generated")) for d in docs)
    proc = run("check", ".", "--format", "jsonl", "--no-respect-gitignore", cwd=repo)
    assert "generated/out.md" in {json.loads(line)["sentence"]["doc"] for line in proc.stdout.splitlines()}


def test_force_exclude_applies_to_explicit_files(repo):
    assert run("check", "node_modules/pkg/readme.md", cwd=repo).returncode == 1
    assert run("check", "node_modules/pkg/readme.md", "--force-exclude", cwd=repo).returncode == 0


def test_stdin_with_filename_picks_the_markdown_reader(repo):
    proc = run("check", "-", "--stdin-filename", "draft.md", "--format", "json", cwd=repo,
               stdin=f"```\n{EN[2]}\n```\n\n{EN[2]}\n\nMore text. {EN[3]}\n\n{EN[3]}\n")
    assert proc.returncode == 1
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["sentence"]["doc"] == "draft.md" and f["sentence"]["text"] == EN[3]


# --- exit codes ------------------------------------------------------------------------------

def test_exit_codes(repo):
    assert run("check", "docs/en", cwd=repo).returncode == 1
    clean = repo / "clean.md"
    clean.write_text(f"# Clean\n\n{EN[1]}\n\n{AR[1]}\n", encoding="utf-8")
    assert run("check", "clean.md", cwd=repo).returncode == 0
    assert run("check", "docs/en", "--exit-zero", cwd=repo).returncode == 0
    assert run("check", "missing-dir", cwd=repo).returncode == 2
    assert run("check", ".", "--fromat", "json", cwd=repo).returncode == 2


def test_fail_on_error_ignores_warnings(repo):
    near = repo / "near.md"
    near.write_text(f"{EN[1]}\n\n{EN[1].replace('record wheat harvest', 'record harvest of wheat')}\n",
                    encoding="utf-8")
    proc = run("check", "near.md", "--format", "jsonl", cwd=repo)
    (finding,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert finding["kind"] in ("near", "contained") and proc.returncode == 1
    assert run("check", "near.md", "--fail-on", "error", cwd=repo).returncode == 0


def test_typo_option_suggests_the_right_one(repo):
    proc = run("check", ".", "--exit-zeor", cwd=repo)
    assert proc.returncode == 2
    assert "--exit-zero" in proc.stderr


def test_bad_inputs_are_one_line_warnings_or_errors(repo):
    (repo / "docs" / "blob.txt").write_bytes(b"\x00\x01binary")
    (repo / "docs" / "latin1.md").write_bytes("Caf\xe9 au lait.\n".encode("latin-1"))
    (repo / "docs" / "empty.md").write_text("", encoding="utf-8")
    proc = run("check", "docs", "--format", "json", cwd=repo)
    assert proc.returncode == 1  # the readable files are still checked
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert any("docs/blob.txt" in w and "binary" in w for w in warnings), proc.stderr
    assert any("docs/latin1.md:1" in w and "UTF-8" in w for w in warnings), proc.stderr
    assert any("docs/empty.md" in w and "empty" in w for w in warnings), proc.stderr
    (repo / "bad.jsonl").write_text('{"id": "a", "text": "fine"}\n{oops\n', encoding="utf-8")
    proc = run("check", "bad.jsonl", cwd=repo)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "bad.jsonl:2" in proc.stderr


# --- ignores and baseline ----------------------------------------------------------------------

def test_ignore_comments_silence_the_later_copy(repo):
    proc = run("check", "docs/notes.md", "--format", "jsonl", cwd=repo)
    assert proc.returncode == 0, proc.stdout
    (repo / "docs" / "notes.md").write_text(IGNORED_MD.replace("<!-- dedup: ignore -->\n", ""), encoding="utf-8")
    assert run("check", "docs/notes.md", cwd=repo).returncode == 1


def test_baseline_lets_only_new_repeats_fail(repo):
    assert run("check", ".", "--baseline", "base.json", cwd=repo).returncode == 2  # no such file yet
    assert run("check", ".", "--baseline", "base.json", "--update-baseline", cwd=repo).returncode == 0
    assert run("check", ".", "--baseline", "base.json", cwd=repo).returncode == 0
    guide = repo / "docs/en/guide.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("# Interest rates\n", "# Interest rates\n\nA new "
                     "opening line was added here.\n\n"), encoding="utf-8")  # lines shift
    assert run("check", ".", "--baseline", "base.json", cwd=repo).returncode == 0
    guide.write_text(guide.read_text(encoding="utf-8") + f"\n{EN[2]}\n", encoding="utf-8")  # a new repeat
    proc = run("check", ".", "--baseline", "base.json", "--format", "jsonl", cwd=repo)
    assert proc.returncode == 1
    (new,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert new["sentence"]["text"] == EN[2]


# --- configuration -------------------------------------------------------------------------------

def test_pyproject_config_is_found_and_closest_wins(repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "site"\n\n[tool.dedup]\nextend-exclude = ["site"]\n',
                                         encoding="utf-8")
    proc = run("check", ".", "--format", "jsonl", cwd=repo)
    docs = {json.loads(line)["sentence"]["doc"] for line in proc.stdout.splitlines()}
    assert "site/index.html" not in docs and "docs/en/guide.md" in docs
    (repo / "docs" / "en" / "dedup.toml").write_text('kinds = ["near"]\n', encoding="utf-8")
    assert run("check", "docs/en", cwd=repo).returncode == 0  # the closer file wins: exact repeats not reported
    assert run("check", "docs/en", "--isolated", cwd=repo).returncode == 1
    show = run("config", "--show", "docs/en", cwd=repo)
    assert show.returncode == 0 and "dedup.toml" in show.stdout and "near" in show.stdout


def test_config_errors_are_one_line(repo):
    (repo / "dedup.toml").write_text("threshhold = 0.5\n", encoding="utf-8")
    proc = run("check", ".", cwd=repo)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "dedup.toml" in line and "threshhold" in line and "threshold" in line
    proc = run("check", ".", "--config", "nowhere.toml", cwd=repo)
    assert proc.returncode == 2 and "nowhere.toml" in proc.stderr


def test_help_reads_well(repo):
    top = run("--help", cwd=repo)
    assert top.returncode == 0 and "check" in top.stdout and "config" in top.stdout
    check = run("check", "--help", cwd=repo)
    for option in ("--format", "--baseline", "--fail-on", "--force-exclude", "--stdin-filename", "--config"):
        assert option in check.stdout


# --- progress -------------------------------------------------------------------------------------

def _stderr_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the command with stderr on a pseudo-terminal (stdout stays a pipe); its stderr."""
    import os
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen([*dedup_command(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.stdout.read()
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_progress_only_on_a_terminal_and_never_for_machine_formats(repo):
    code, stderr = _stderr_on_a_terminal(["check", "."], repo)
    assert code == 1 and "reading" in stderr and "repeats in" in stderr
    code, stderr = _stderr_on_a_terminal(["check", ".", "--format", "sarif"], repo)
    assert code == 1 and "reading" not in stderr and "\r" not in stderr
    assert "reading" not in run("check", ".", cwd=repo).stderr  # stderr a pipe: no bar
