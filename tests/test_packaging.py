"""What a stranger installing the package meets: its name on the index, the license, one
version, `python -m dedup`, package data, the README's install commands, and CI's pinned versions."""
from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch

import pytest
from conftest import REPO, unavailable
from packaging.requirements import Requirement

import dedup

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
README = (REPO / "README.md").read_text(encoding="utf-8")
NAME = "dedup-prose"


def python_m_dedup(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "dedup", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)


# --- metadata ------------------------------------------------------------------------------

def test_the_distribution_name_is_not_the_unrelated_dedup_and_the_command_stays():
    assert PROJECT["name"] == NAME
    assert PROJECT["scripts"] == {"dedup": "dedup.cli:main"}
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["dedup*"]


def test_the_license_is_mit_in_a_file_and_as_an_spdx_expression():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]  # SPDX replaces them
    backend = Requirement(PYPROJECT["build-system"]["requires"][0])
    assert backend.name == "setuptools" and backend.specifier.contains("77.0.0")  # SPDX needs setuptools >= 77
    assert not backend.specifier.contains("76.9")


def test_classifiers_and_urls():
    classifiers = PROJECT["classifiers"]
    assert "Typing :: Typed" in classifiers and (REPO / "dedup" / "py.typed").is_file()
    requires = PROJECT["requires-python"]
    assert requires == ">=3.11" and "Programming Language :: Python :: 3.11" in classifiers
    assert all(url.startswith("https://") for url in PROJECT["urls"].values())


def test_the_version_is_kept_in_one_place():
    assert "version" not in PROJECT and PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dedup.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", dedup.__version__)
    proc = python_m_dedup("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"dedup {dedup.__version__}"


def test_the_installed_distribution_has_that_version_and_the_schema():
    try:
        dist = importlib.metadata.distribution(NAME)
    except importlib.metadata.PackageNotFoundError:
        unavailable(f"{NAME} is not installed in this environment (pip install -e '.[test]')",
                    f"{NAME} is not installed (CI runs pip install -e '.[test]')")
    assert dist.version == dedup.__version__
    assert dist.metadata["License-Expression"] == "MIT"
    assert "datasketch" not in [Requirement(r).name for r in dist.requires or [] if "extra ==" not in r]


def test_every_data_file_of_the_package_is_shipped():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["dedup"]
    data = [p.relative_to(REPO / "dedup").as_posix() for p in (REPO / "dedup").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert "schema/report.schema.json" in data
    missing = [name for name in data if not any(fnmatch(name, pattern) for pattern in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_datasketch_is_an_extra_not_a_dependency():
    runtime = [Requirement(r).name for r in PROJECT["dependencies"]]
    assert "datasketch" not in runtime and "scipy" not in runtime
    extras = PROJECT["optional-dependencies"]
    assert [Requirement(r).name for r in extras["datasketch"]] == ["datasketch"]
    assert "datasketch" in [Requirement(r).name for r in extras["test"]]  # the tests' reference
    assert "mypy" in [Requirement(r).name for r in extras["test"]]


# --- python -m dedup -----------------------------------------------------------------------

def test_python_m_dedup_runs_the_command_line(tmp_path):
    sentence = "The harbour bridge will stay closed to heavy lorries until the repairs are finished."
    (tmp_path / "a.txt").write_text(f"{sentence}\n{sentence}\n", encoding="utf-8")
    proc = python_m_dedup("check", "a.txt", "--isolated", "--format", "concise", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == ["a.txt:2:1: exact (repeats a.txt:1:1)"]
    bare = python_m_dedup(cwd=tmp_path)
    assert bare.returncode == 2 and "usage: dedup" in bare.stderr


# --- the README's commands -----------------------------------------------------------------

def test_the_quick_start_commands_are_those_ci_runs():
    quick_start = README[README.index("## Quick start"):README.index("\n## ", README.index("## Quick start") + 3)]
    assert "pip install . && dedup check examples\npip install -e '.[test]' && python -m pytest\n" in quick_start
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "\npip install -e '.[test]' && python -m pytest\n" in ci


def test_every_pip_install_in_the_readme_installs_this_project():
    commands = re.findall(r"pip install ([^\n#`&;|]*)", README)
    assert commands
    for args in commands:
        targets = [a.strip("'\"") for a in args.split() if not a.startswith("-")]
        for target in targets:
            base = re.sub(r"\[.*\]$", "", target)
            assert base in (".", NAME), f"`pip install {args.strip()}` installs {base!r}, not this project"


def test_the_readme_pre_commit_hook_is_the_repository_hook():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pre-commit, in the test extra, brings it)")
    block = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", README, re.DOTALL)
    assert block, "README shows no .pre-commit-config.yaml"
    (repo,) = yaml.safe_load(block.group(1))["repos"]
    assert repo["repo"] == "local"
    (hook,) = repo["hooks"]
    (shipped,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for key in ("id", "entry", "language", "types_or", "require_serial"):
        assert hook[key] == shipped[key], key
    assert hook["additional_dependencies"] == [f"{NAME}=={dedup.__version__}"]


# --- CI's pinned versions ------------------------------------------------------------------

def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / ".ci" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_ci_pins_every_test_dependency_at_an_allowed_version():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert 'export PIP_CONSTRAINT="$PWD/.ci/constraints.txt"' in ci
    pins = _pins()
    wanted = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"] + PYPROJECT["build-system"]["requires"]
    for line in wanted:
        requirement = Requirement(line)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{requirement.name} is not pinned in .ci/constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"{requirement.name}=={pins[name]} does not satisfy {line}"
