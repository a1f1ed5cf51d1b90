"""Shared fixtures and helpers for the dedup test suite.

All prose here is written for these tests; nothing is copied from ../shared.
"""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from dedup import Detector, Document, Finding

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"


def shared_dir() -> Path:
    """The read-only shared data beside the checkout (may be absent)."""
    return SHARED


@pytest.fixture
def shared() -> Path:
    """Path of ../shared, or skip when a checkout has no shared data beside it."""
    if not (SHARED / "cases").is_dir():
        pytest.skip(f"shared data not found at {SHARED.resolve()} (checkout without ../shared)")
    return SHARED


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A running redis-server: DEDUP_TEST_REDIS_URL (CI starts one), else one started for this
    session; skipped without either, except under CI (CI=true), where that is a failure."""
    from redis_server import find_redis_server, redis_server

    if os.environ.get("DEDUP_TEST_REDIS_URL"):
        yield os.environ["DEDUP_TEST_REDIS_URL"]
        return
    binary = find_redis_server()
    if binary is None:
        message = "redis-server not found on PATH or at /usr/bin/redis-server (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must provide it (.ci/run starts one)")
        pytest.skip(message)
    with redis_server(tmp_path_factory.mktemp("redis"), binary) as url:
        yield url


@pytest.fixture(scope="session")
def ray_cluster():
    """The address of a local Ray cluster of one 2-CPU head node (a free port, its own temporary
    directory), started for this session and stopped after it. Its workers import this
    checkout's dedup (PYTHONPATH). Skipped when ray is not installed, except under CI
    (CI=true), where that, or a cluster that does not start, is a failure.

    The cluster's token is in os.environ meanwhile (RAY_AUTH_MODE, RAY_AUTH_TOKEN), so that
    ray.init(address=...) here and `dedup scan --engine ray --address` in a subprocess are let
    in. Ray reads them once, as it is imported: tests import ray inside the test, after this
    fixture, never at module level."""
    from ray_head import ray_head, ray_importable

    missing = ray_importable()
    if missing is not None:
        unavailable(missing, f"{missing}; CI installs it with the test extra")
    if "ray" in sys.modules and os.environ.get("RAY_AUTH_MODE") != "token":
        pytest.fail("ray was imported before the ray_cluster fixture put the cluster's token in the environment: "
                    "import ray inside tests, after the fixture")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    try:
        head_context = ray_head(num_cpus=2, env=env)
        head = head_context.__enter__()
    except RuntimeError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the local Ray cluster did not start: {error}")
        pytest.skip(f"the local Ray cluster did not start: {error}")
    saved = {name: os.environ.get(name) for name in (*head.client_env, "RAY_AUTH_TOKEN_PATH")}
    os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
    os.environ.update(head.client_env)
    try:
        yield head.address
    finally:
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():  # a test's driver still connected
            sys.modules["ray"].shutdown()
        head_context.__exit__(None, None, None)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def unavailable(reason: str, in_ci: str | None = None) -> NoReturn:
    """A tool or package a test needs is missing: skip with `reason` locally, but fail under CI
    (CI=true), where the test extra and .ci/run provide everything (`in_ci` says what CI owes)."""
    if os.environ.get("CI") == "true":
        pytest.fail(in_ci or reason)
    pytest.skip(reason)


def shuffled_parts(source: Path, parts: int, seed: int, folder: Path) -> list[str]:
    """The JSONL records of `source` in a shuffled order, dealt into `parts` files in `folder`
    (record k into file k mod parts): the paths, for runs that must not depend on input order."""
    lines = source.read_text(encoding="utf-8").splitlines()
    random.Random(seed).shuffle(lines)
    paths = []
    for k in range(parts):
        part = folder / f"part-{k}.jsonl"
        part.write_text("\n".join(lines[k::parts]) + "\n", encoding="utf-8")
        paths.append(str(part))
    return paths


def dedup_command() -> list[str]:
    """How to run the CLI: the venv's `dedup` script, else `python -m dedup.cli`."""
    script = Path(sys.executable).with_name("dedup")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "dedup.cli"]


# --- prose pools -------------------------------------------------------------------------
# Unrelated sentences (different topics, different content words), each >= 6 words.

EN = [
    "The central bank raised its main interest rate by half a point on Tuesday to fight persistent inflation.",
    "Farmers in the northern valley expect a record wheat harvest after months of steady rainfall.",
    "The city council approved a new budget for public libraries and swimming pools last week.",
    "Engineers finished repairing the old railway bridge two weeks ahead of the original schedule.",
    "A small museum in the harbour district opened an exhibition of medieval maps and globes.",
    "Volunteers planted three thousand oak saplings along the riverbank during the spring festival.",
]

AR = [
    "قال وزير المالية إن الحكومة ستخفض الضرائب على الشركات الصغيرة في العام المقبل.",
    "افتتحت البلدية مكتبة عامة جديدة في وسط المدينة بحضور عدد كبير من الطلاب.",
    "أعلنت شركة الطيران عن رحلات مباشرة بين العاصمة والساحل الشرقي ابتداء من الصيف.",
    "استقبل المستشفى الجامعي أجهزة حديثة لتشخيص أمراض القلب لدى الأطفال.",
    "نظم المزارعون سوقا أسبوعيا لبيع الخضروات والفواكه الطازجة في ساحة القرية.",
]

POOL = EN + AR

FILLER = [
    "Nothing else was announced.",
    "Officials declined to comment further.",
    "لم يصدر أي تعليق رسمي.",
]


def check_docs(docs, **params) -> list[Finding]:
    """Findings of one Detector run over `docs` ((id, text) pairs, Documents, ...)."""
    return Detector(**params).check_many(docs).findings


def doc(id_: str, *sentences: str, sep: str = " ") -> Document:
    """A Document whose text is `sentences` joined by `sep`."""
    return Document(id_, sep.join(sentences))


def pair_key(f: Finding) -> frozenset:
    """The unordered pair of (doc, start, end) a finding links."""
    return frozenset({(f.sentence.doc, f.sentence.start, f.sentence.end), (f.match.doc, f.match.start, f.match.end)})


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset`, lines ending at "\\n" (so "\\r\\n" too)."""
    line = text.count("\n", 0, offset) + 1
    last_nl = text.rfind("\n", 0, offset)
    return line, offset - (last_nl + 1) + 1
