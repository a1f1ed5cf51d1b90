"""The type checker runs with the tests: mypy (configured in pyproject.toml) on dedup/, zero errors.

mypy keeps its cache in .mypy_cache/ (git ignores it), so a run after the first takes seconds.
Missing mypy skips locally and fails under CI, where the test extra installs it.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from conftest import REPO, unavailable


def test_mypy_finds_no_errors_in_the_package():
    if importlib.util.find_spec("mypy") is None:
        unavailable("mypy is not installed (pip install -e '.[test]')", "mypy is not installed (the test extra installs it)")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--show-error-codes"], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert proc.returncode == 0 and not errors, f"mypy: {len(errors)} errors\n{proc.stdout}{proc.stderr}"
