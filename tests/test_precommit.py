"""The pre-commit hook, installed by the real `pre-commit` tool into a temporary git repository.

The hook repository is a snapshot of this checkout's working tree (committed into a temporary
repository, so uncommitted work is what gets tested), referenced by `repo:` and `rev:` exactly
as a user's `.pre-commit-config.yaml` would reference dedup.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AR, EN, REPO


REPEAT = EN[0]


def _need_pre_commit() -> Path:
    exe = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    if not Path(exe).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("pre-commit is not installed (the test extras install it)")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return Path(exe)


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def _snapshot_of_checkout(dest: Path) -> str:
    """Copy the checkout's tracked and untracked-but-not-ignored files into a new repo; its commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    assert git("commit", "-q", "-m", "snapshot", cwd=dest).returncode == 0
    return git("rev-parse", "HEAD", cwd=dest).stdout.strip()


def test_hook_blocks_a_commit_with_a_repeat_and_passes_the_fix(tmp_path: Path):
    pre_commit = _need_pre_commit()
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the hook repository is made from `git ls-files`")
    hook_repo, content = tmp_path / "hook-repo", tmp_path / "content"
    hook_repo.mkdir()
    content.mkdir()
    rev = _snapshot_of_checkout(hook_repo)
    git("init", "-q", "-b", "main", cwd=content)
    (content / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo.as_uri()}\n  rev: {rev}\n  hooks:\n  - id: dedup\n", encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    installed = subprocess.run([str(pre_commit), "install"], cwd=content, capture_output=True, text=True, env=env)
    assert installed.returncode == 0, installed.stderr

    article = content / "news" / "story.md"
    article.parent.mkdir()
    article.write_text(f"# Rates\n\n{REPEAT} {EN[1]}\n\n{AR[0]}\n\n{REPEAT}\n", encoding="utf-8")
    git("add", "-A", cwd=content)
    blocked = _commit(content, env)
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "news/story.md:7:1" in blocked.stdout + blocked.stderr

    article.write_text(f"# Rates\n\n{REPEAT} {EN[1]}\n\n{AR[0]}\n", encoding="utf-8")
    git("add", "-A", cwd=content)
    passed = _commit(content, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git("log", "--oneline", cwd=content).stdout.count("\n") == 1


def _commit(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "commit", "-m", "story"], cwd=repo, capture_output=True, text=True, env=env,
                          timeout=900)
