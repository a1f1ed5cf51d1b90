"""`dedup scan --engine ray` on a local 2-CPU Ray cluster (the `ray_cluster` fixture) gives
`dedup check`'s findings, as the local engine does: the stage functions are the same, only the
executor differs. Ray is imported inside the tests, after the fixture (see its docstring)."""
from __future__ import annotations

import subprocess

import pytest

from dedup.scan import scan

from conftest import REPO, dedup_command, shuffled_parts
from test_scan import check_lines, example_paths


@pytest.fixture
def ray_engine(ray_cluster):
    from dedup.scan.engine import RayEngine
    engine = RayEngine(address=ray_cluster)
    yield engine
    engine.close()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


def test_examples_and_the_dev_sets_on_ray(ray_engine, tmp_path, shared):
    assert ray_engine.workers == 2
    corpora = {"examples": example_paths(), "dev-ar": [str(shared / "eval" / "dev-ar" / "docs.jsonl")],
               "dev-en": [str(shared / "eval" / "dev-en" / "docs.jsonl")]}
    for name, paths in corpora.items():
        expected = check_lines(paths, tmp_path)
        for shards in (1, 4, 16):
            out = tmp_path / f"out-{name}-{shards}"
            scan(paths, out, engine=ray_engine, shards=shards)
            assert (out / "findings.jsonl").read_text(encoding="utf-8").splitlines() == expected, (name, shards)


def test_shuffled_dev_set_on_ray(ray_engine, tmp_path, shared):
    paths = shuffled_parts(shared / "eval" / "dev-ar" / "docs.jsonl", 2, 11, tmp_path)
    expected = check_lines(paths, tmp_path)
    out = tmp_path / "out"
    scan(paths, out, engine=ray_engine, shards=4)
    assert (out / "findings.jsonl").read_text(encoding="utf-8").splitlines() == expected


def test_command_line_joins_the_cluster(ray_cluster, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([*dedup_command(), "scan", "examples", "--out", str(out), "--isolated", "--engine", "ray",
                           "--address", ray_cluster, "--shards", "3"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1, done.stderr
    assert (out / "findings.jsonl").read_text(encoding="utf-8").splitlines() == check_lines(["examples"], tmp_path)
    timings = (out / "timings.json").read_text(encoding="utf-8")
    assert '"engine": "ray"' in timings
