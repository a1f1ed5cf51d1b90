"""File discovery: recursion, include/exclude, .gitignore, explicit files, order and errors."""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.discover import collect_files
from dedup.readers import InputError

INCLUDE = ["*.md", "*.html", "*.txt"]
EXCLUDE = ["node_modules", ".venv", "build"]


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """Files (path -> text) under `root`, which is marked as a repository root."""
    (root / ".git" / "info").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def collect(paths: list[str], **options) -> list[str]:
    options.setdefault("include", INCLUDE)
    options.setdefault("exclude", EXCLUDE)
    return [p.replace(os.sep, "/") for p in collect_files(paths, **options)]


def test_walks_directories_recursively_in_sorted_order(in_tree: Path) -> None:
    make_tree(in_tree, {"docs/b.md": "", "docs/a.md": "", "docs/guide/z.txt": "", "docs/guide/c.html": "",
                        "docs/c.md": "", "top.md": ""})
    assert collect(["docs"]) == ["docs/a.md", "docs/b.md", "docs/c.md", "docs/guide/c.html", "docs/guide/z.txt"]
    assert collect(["."]) == [*collect(["docs"]), "top.md"]


def test_paths_keep_the_form_of_their_argument(in_tree: Path) -> None:
    make_tree(in_tree, {"docs/a.md": ""})
    assert collect(["docs/"]) == ["docs/a.md"]
    assert collect(["./docs"]) == ["./docs/a.md"]
    assert collect([str(in_tree / "docs")]) == [f"{in_tree / 'docs'}/a.md".replace(os.sep, "/")]


def test_include_globs_match_names_and_rooted_paths(in_tree: Path) -> None:
    make_tree(in_tree, {"a.md": "", "a.rst": "", "a.py": "", "docs/b.rst": "", "other/c.rst": ""})
    assert collect(["."], include=["*.md"]) == ["a.md"]
    assert collect(["."], include=["*.md", "docs/*.rst"]) == ["a.md", "docs/b.rst"]
    assert collect(["docs"], include=["docs/*.rst"], root=in_tree) == ["docs/b.rst"]
    assert collect(["."], include=[]) == []


def test_excluded_directories_are_pruned_not_descended(in_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(in_tree, {"a.md": "", "node_modules/pkg/readme.md": "", "sub/build/out.md": "",
                        "docs/legacy/old.md": "", "docs/legacy/deep/older.md": "", "docs/new.md": ""})
    scanned: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path):
        scanned.append(os.path.normpath(path).replace(os.sep, "/"))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    assert collect(["."], exclude=[*EXCLUDE, "docs/legacy/**"]) == ["a.md", "docs/new.md"]
    assert not any(p.startswith(("node_modules", "sub/build", "docs/legacy")) for p in scanned)


def test_exclude_globs_drop_files(in_tree: Path) -> None:
    make_tree(in_tree, {"a.md": "", "CHANGELOG.md": "", "docs/draft-1.md": ""})
    assert collect(["."], exclude=["CHANGELOG.md", "draft-*"]) == ["a.md"]


def test_hidden_directories_and_symlinked_directories_are_skipped(in_tree: Path) -> None:
    make_tree(in_tree, {".github/notes.md": "", "docs/a.md": "", "elsewhere/x.md": ""})
    (in_tree / "docs" / "linked").symlink_to(in_tree / "elsewhere", target_is_directory=True)
    assert collect(["docs", ".github"]) == ["docs/a.md", ".github/notes.md"]  # named, a hidden dir is read


def test_gitignore_with_nested_files_and_negation(in_tree: Path) -> None:
    make_tree(in_tree, {
        ".gitignore": "*.txt\n!keep.txt\ngenerated/\n",
        "a.md": "", "notes.txt": "", "keep.txt": "", "generated/g.md": "",
        "docs/.gitignore": "private.md\n!notes.txt\n",
        "docs/private.md": "", "docs/notes.txt": "", "docs/public.md": "", "docs/keep.txt": "",
        "site/private.md": "",
    })
    assert collect(["."]) == ["a.md", "docs/keep.txt", "docs/notes.txt", "docs/public.md", "keep.txt",
                              "site/private.md"]
    assert collect(["."], respect_gitignore=False) == [
        "a.md", "docs/keep.txt", "docs/notes.txt", "docs/private.md", "docs/public.md",
        "generated/g.md", "keep.txt", "notes.txt", "site/private.md"]


def test_gitignore_of_parent_directories_applies_when_walking_a_subdirectory(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "drafts/\n/docs/rooted.md\n", "docs/a.md": "",
                        "docs/rooted.md": "", "docs/drafts/d.md": ""})
    assert collect(["docs"]) == ["docs/a.md"]
    os.chdir(in_tree / "docs")
    assert collect(["."]) == ["a.md"]


def test_gitignore_above_the_repository_root_is_not_read(in_tree: Path) -> None:
    (in_tree / ".gitignore").write_text("*.md\n")
    repo = make_tree(in_tree / "repo", {"a.md": ""})
    assert collect([str(repo)]) == [f"{repo}/a.md".replace(os.sep, "/")]


def test_a_nested_repository_has_its_own_ignore_rules(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "*\n!*/\n!*.md\nsecret.md\n", "secret.md": "", "a.md": ""})
    make_tree(in_tree / "sub", {"secret.md": "", ".gitignore": "b.md\n", "b.md": "", "c.md": ""})
    assert collect(["."]) == ["a.md", "sub/c.md", "sub/secret.md"]
    os.chdir(in_tree / "sub")
    assert collect(["."], force_exclude=True) == ["c.md", "secret.md"]
    assert collect([str(in_tree / "sub")], force_exclude=True, root=in_tree) != []


def test_git_info_exclude_is_read_and_gitignore_overrides_it(in_tree: Path) -> None:
    make_tree(in_tree, {"a.md": "", "b.md": "", "c.md": "", ".gitignore": "!c.md\n"})
    (in_tree / ".git" / "info" / "exclude").write_text("b.md\nc.md\n")
    assert collect(["."]) == ["a.md", "c.md"]


def test_gitignore_whitelist_idiom(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "*\n!*/\n!*.md\n", "a.md": "", "a.txt": "", "sub/b.md": "",
                        "sub/b.txt": "", "sub/deeper/c.md": ""})
    assert collect(["."]) == ["a.md", "sub/b.md", "sub/deeper/c.md"]


def test_anchored_gitignore_patterns_are_relative_to_their_file(in_tree: Path) -> None:
    make_tree(in_tree, {"docs/.gitignore": "/top.md\nguide/*\n!guide/keep/\n", "docs/top.md": "",
                        "docs/sub/top.md": "", "docs/guide/a.md": "", "docs/guide/keep/b.md": "",
                        "guide/c.md": ""})
    assert collect(["."]) == ["docs/guide/keep/b.md", "docs/sub/top.md", "guide/c.md"]


def test_a_reincluded_file_in_an_ignored_directory_stays_ignored(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "out/\n!out/keep.md\n", "out/keep.md": "", "a.md": ""})
    assert collect(["."]) == ["a.md"]


def test_explicit_files_are_always_read_unless_force_excluded(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "ignored.md\n", "ignored.md": "", "notes.rst": "",
                        "build/out.md": "", "CHANGELOG.md": "", "a.md": ""})
    explicit = ["notes.rst", "ignored.md", "build/out.md", "CHANGELOG.md", "a.md"]
    exclude = [*EXCLUDE, "CHANGELOG.md"]
    assert collect(explicit, exclude=exclude) == explicit
    assert collect(explicit, exclude=exclude, force_exclude=True) == ["notes.rst", "a.md"]
    assert collect(explicit, exclude=exclude, force_exclude=True, respect_gitignore=False) == [
        "notes.rst", "ignored.md", "a.md"]


def test_force_exclude_drops_files_inside_ignored_and_excluded_directories(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "generated/\n", "generated/sub/g.md": "",
                        "node_modules/p/readme.md": "", "docs/legacy/old.md": "", "docs/a.md": ""})
    explicit = ["generated/sub/g.md", "node_modules/p/readme.md", "docs/legacy/old.md", "docs/a.md"]
    assert collect(explicit, exclude=[*EXCLUDE, "docs/legacy/**"], force_exclude=True) == ["docs/a.md"]
    assert collect(["generated", "docs"], force_exclude=True) == ["docs/a.md", "docs/legacy/old.md"]


def test_an_excluded_directory_named_explicitly_is_walked_without_force_exclude(in_tree: Path) -> None:
    make_tree(in_tree, {"build/out.md": "", "build/CHANGELOG.md": "", "build/node_modules/x.md": ""})
    exclude = [*EXCLUDE, "CHANGELOG.md"]
    assert collect(["build"], exclude=exclude) == ["build/out.md"]
    assert collect(["build/"], exclude=exclude) == ["build/out.md"]
    assert collect(["build"], exclude=exclude, force_exclude=True) == []


def test_an_ignored_directory_named_explicitly_is_walked_without_force_exclude(in_tree: Path) -> None:
    make_tree(in_tree, {".gitignore": "generated/\n/out/\n*.tmp.md\n", "generated/sub/g.md": "",
                        "generated/sub/g.tmp.md": "", "generated/sub/.gitignore": "skip.md\n",
                        "generated/sub/skip.md": "", "out/sub/o.md": "", "out/o.tmp.md": ""})
    assert collect(["generated"]) == ["generated/sub/g.md"]
    assert collect(["generated/sub"]) == ["generated/sub/g.md"]
    assert collect(["out"]) == ["out/sub/o.md"]
    assert collect(["out/sub"]) == ["out/sub/o.md"]
    assert collect(["generated", "out/sub/o.md"], force_exclude=True) == []


def test_a_directory_excluded_by_a_path_pattern_named_explicitly_is_walked(in_tree: Path) -> None:
    make_tree(in_tree, {"docs/legacy/old.md": "", "docs/legacy/deep/older.md": "", "docs/legacy/x.min.md": ""})
    exclude = ["docs/legacy", "*.min.md"]
    assert collect(["docs/legacy"], exclude=exclude) == ["docs/legacy/deep/older.md", "docs/legacy/old.md"]
    assert collect(["docs/legacy/deep"], exclude=exclude) == ["docs/legacy/deep/older.md"]
    assert collect(["docs"], exclude=exclude) == []


def test_stdin_is_returned_in_its_place(in_tree: Path) -> None:
    make_tree(in_tree, {"a.md": "", "docs/b.md": ""})
    assert collect(["a.md", "-", "docs"]) == ["a.md", "-", "docs/b.md"]
    assert collect(["-", "-"]) == ["-"]


def test_a_file_reached_twice_is_returned_once_in_its_first_form(in_tree: Path) -> None:
    make_tree(in_tree, {"docs/a.md": "", "docs/b.md": "", "c.md": ""})
    assert collect(["docs/b.md", "docs", "./docs/a.md", ".", "c.md"]) == ["docs/b.md", "docs/a.md", "c.md"]
    (in_tree / "link.md").symlink_to(in_tree / "c.md")
    assert collect(["c.md", "link.md"]) == ["c.md"]


def test_missing_path_is_an_input_error(in_tree: Path) -> None:
    make_tree(in_tree, {"a.md": ""})
    with pytest.raises(InputError, match=r"^nope\.md: no such file or directory$"):
        collect(["a.md", "nope.md"])


def test_outside_a_repository_the_walked_tree_gitignores_apply(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / ".gitignore").write_text("skip.md\n")
    (tmp_path / "docs" / "skip.md").write_text("")
    (tmp_path / "docs" / "a.md").write_text("")
    found = collect([str(tmp_path / "docs")], root=tmp_path)
    assert [Path(p).name for p in found] == ["a.md"]


def test_two_thousand_files_are_found_well_under_a_second(in_tree: Path) -> None:
    files = {f"d{i // 100}/s{i // 10 % 10}/f{i}.md": "" for i in range(2000)}
    files.update({".gitignore": "*.tmp\n!keep.md\n", "d1/.gitignore": "s3/\n"})
    make_tree(in_tree, files)
    started = time.perf_counter()
    found = collect(["."], exclude=[*EXCLUDE, "d2/**"])
    elapsed = time.perf_counter() - started
    assert len(found) == 2000 - 100 - 10  # d2 excluded, d1/s3 ignored
    assert found == collect(["."], exclude=[*EXCLUDE, "d2/**"])
    assert elapsed < 0.5, f"took {elapsed:.2f}s"


# --- against git itself --------------------------------------------------------------------

GIT = shutil.which("git")


def git_unignored(root: Path) -> list[str]:
    """The files git does not ignore under `root` (a repository), by `git ls-files`."""
    listed = subprocess.run([GIT, "ls-files", "--others", "--exclude-standard", "-z"], cwd=root, check=True,
                            capture_output=True).stdout.decode()
    return sorted(p for p in listed.split("\0") if p and not p.endswith(".gitignore"))


def git_repository(root: Path, files: dict[str, str]) -> Path:
    if GIT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is not installed")
        pytest.skip("git is not installed")
    subprocess.run([GIT, "init", "-q", str(root)], check=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def dedup_unignored(root: Path) -> list[str]:
    found = collect_files([str(root)], include=["*"], exclude=[], root=root)
    return sorted(Path(p).relative_to(root).as_posix() for p in found if not p.endswith(".gitignore"))


TREE = ["a.md", "a.txt", "sub/x.md", "sub/y.txt", "sub/deep/z.md", "sub/deep/w.txt", "other/sub/v.md",
        "other/u.md", "docs/api/p.md", "docs/q.md", "sub.md/k.md", "[x]/b.md"]


@pytest.mark.parametrize("gitignore", [
    "*.md\n!/sub/\n",  # the directory is re-included, its files stay ignored
    "*.md\n!sub/\n",
    "*.md\n!/sub/**\n",  # everything inside is re-included
    "/sub/**\n!/sub/x.md\n",  # the directory itself is not ignored, so a file in it can come back
    "sub/\n!sub/x.md\n",  # a parent directory is ignored: nothing inside can come back
    "*.md\n!docs/api\n", "docs/*\n!docs/api/\n", "sub/*\n!sub/deep/\n", "**/deep\n", "sub/**/z.md\n",
    "*\n!*/\n!*.md\n", "*.md\n!**/sub/**\n", "\\[x]/\n", "[ab].md\n", "[!a].txt\n", "sub.md\n",
    "/*.md\n", "other/**\n!other/u.md\n", "*.md \n", "#comment\n\n!a.md\n*.txt\n",
])
def test_ignored_files_are_those_git_ignores(tmp_path: Path, gitignore: str) -> None:
    root = git_repository(tmp_path / "repo", {**dict.fromkeys(TREE, ""), ".gitignore": gitignore})
    assert dedup_unignored(root) == git_unignored(root)


PATTERNS = ["*.md", "*.txt", "sub", "sub/", "/sub/", "/sub/**", "sub/**", "**/sub", "**/deep/", "sub/*",
            "sub/deep", "deep/*.md", "x.md", "/a.md", "docs/**/p.md", "other/", "*", "*/", "?.md", "[a-x].md"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(PATTERNS)), min_size=1, max_size=5),
       st.lists(st.tuples(st.booleans(), st.sampled_from(PATTERNS)), max_size=3))
def test_random_gitignores_agree_with_git(tmp_path: Path, top: list, nested: list) -> None:
    """Lists of patterns and negations, at the root and in ``sub/``: dedup keeps exactly the
    files `git ls-files --others --exclude-standard` lists."""
    def lines(patterns: list) -> str:
        return "".join(("!" if negated else "") + p + "\n" for negated, p in patterns)
    root = tmp_path / f"repo{next(_COUNTER)}"
    git_repository(root, {**dict.fromkeys(TREE, ""), ".gitignore": lines(top), "sub/.gitignore": lines(nested)})
    assert dedup_unignored(root) == git_unignored(root), (lines(top), lines(nested))


_COUNTER = itertools.count()
