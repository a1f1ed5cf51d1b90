"""dedup.interop: signatures out to datasketch (MinHash, LeanMinHash) and back, LSH parameters
that match MinHashLSH's, all checked against datasketch itself; and a clear error without it."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

datasketch = pytest.importorskip("datasketch", reason="datasketch is not installed (pip install -e '.[test]')")
from conftest import POOL, REPO
from datasketch.lsh import _optimal_param

from dedup import normalize
from dedup.interop import (
    INSTALL_HINT,
    DatasketchMissing,
    from_minhash,
    lsh_params,
    minhash_lsh,
    to_lean_minhash,
    to_minhash,
)
from dedup.shingle import ShingleSpec, shingle_batch, shingle_hash, shingle_strings
from dedup.sketch import MinHasher
from dedup.stopwords import STOPWORDS

SPEC = ShingleSpec.parse("word:1", STOPWORDS)  # what Detector() shingles by default
TEXTS = [normalize(s) for s in POOL]


def reference(text: str, num_perm: int = 128, seed: int = 1):
    """datasketch's own MinHash of `text`'s shingles."""
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    m.update_batch(shingle_strings(text, SPEC))
    return m


@pytest.mark.parametrize("num_perm, seed", [(128, 1), (64, 7)])
def test_signatures_out_equal_datasketch_minhashes(num_perm, seed):
    signatures = MinHasher(num_perm, seed).signatures(shingle_batch(TEXTS, SPEC))
    for row, text in zip(signatures, TEXTS):
        expected = reference(text, num_perm, seed)
        for converted in (to_minhash(row, seed), to_lean_minhash(row, seed)):
            assert np.array_equal(converted.hashvalues, expected.hashvalues) and converted.jaccard(expected) == 1.0
            assert converted.scheme == expected.scheme == "affine32" and converted.seed == seed
        assert to_minhash(row, seed) == expected  # MinHash.__eq__: seed, scheme and values
        assert isinstance(to_lean_minhash(row, seed), datasketch.LeanMinHash)


def test_a_converted_minhash_keeps_counting_like_datasketch():
    first, second = TEXTS[0], TEXTS[1]
    m = to_minhash(MinHasher().signatures(shingle_batch([first], SPEC))[0])
    m.update_batch(shingle_strings(second, SPEC))
    both = reference(first)
    both.update_batch(shingle_strings(second, SPEC))
    assert m == both


def test_lean_minhashes_serialize_and_come_back():
    row = MinHasher(128, 1).signatures(shingle_batch(TEXTS[:1], SPEC))[0]
    lean = to_lean_minhash(row)
    buffer = bytearray(lean.bytesize())
    lean.serialize(buffer)
    restored = datasketch.LeanMinHash.deserialize(buffer)
    assert np.array_equal(from_minhash(restored), row) and from_minhash(restored).dtype == np.uint32


def test_from_minhash_refuses_another_scheme_or_seed():
    legacy = datasketch.MinHash(num_perm=16, seed=1, scheme="legacy")
    with pytest.raises(ValueError, match="'legacy' scheme"):
        from_minhash(legacy)
    with pytest.raises(ValueError, match="seed 3; expected 1"):
        from_minhash(datasketch.MinHash(num_perm=16, seed=3))


@pytest.mark.parametrize("bad", [np.zeros((2, 4), dtype=np.uint32), np.array([], dtype=np.uint32), [-1, 2], [2**33]])
def test_a_bad_signature_is_refused(bad):
    with pytest.raises(ValueError, match="signature"):
        to_lean_minhash(bad)


@pytest.mark.parametrize("threshold, num_perm, weights", [
    (0.4, 128, (0.5, 0.5)), (0.3, 128, (0.5, 0.5)), (0.5, 64, (0.5, 0.5)), (0.8, 32, (0.5, 0.5)),
    (0.4, 128, (0.3, 0.7)), (0.6, 100, (0.8, 0.2)),
])
def test_lsh_params_are_those_of_minhashlsh(threshold, num_perm, weights):
    expected = _optimal_param(threshold, num_perm, *weights)
    assert lsh_params(threshold, num_perm, weights) == expected
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    assert (lsh.b, lsh.r) == expected
    ours = minhash_lsh(threshold, num_perm, weights=weights)
    assert (ours.b, ours.r) == expected


def test_the_detector_bands_as_minhashlsh_does():
    from dedup import Detector

    stats = Detector().check_many([("a", POOL[0])]).stats
    assert (stats["bands"], stats["rows"]) == lsh_params(stats["threshold"], stats["num_perm"])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(range(len(TEXTS))), min_size=1, max_size=8, unique=True))
def test_signatures_in_minhashlsh_find_what_datasketch_would(chosen):
    """An index of converted signatures answers a query exactly as one of datasketch's own MinHashes."""
    hasher = MinHasher()
    signatures = hasher.signatures(shingle_batch([TEXTS[i] for i in chosen], SPEC))
    ours, theirs = minhash_lsh(0.4), datasketch.MinHashLSH(threshold=0.4, num_perm=128)
    for key, row in zip(chosen, signatures):
        ours.insert(key, to_lean_minhash(row))
        theirs.insert(key, reference(TEXTS[key]))
    for text in TEXTS:
        assert sorted(ours.query(reference(text))) == sorted(theirs.query(reference(text)))


def test_without_datasketch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasketch", None)  # import datasketch now raises ImportError
    row = MinHasher(16, 1).signatures(shingle_batch(TEXTS[:1], SPEC))[0]
    for call in (lambda: to_lean_minhash(row), lambda: to_minhash(row), lambda: minhash_lsh(0.5),
                 lambda: MinHasher(16, 1).to_lean_minhash(row)):
        with pytest.raises(DatasketchMissing, match=r"datasketch is not installed") as caught:
            call()
        assert INSTALL_HINT in str(caught.value) and isinstance(caught.value, ImportError)
    assert lsh_params(0.4, 128) == (32, 4)  # needs no datasketch


def test_the_engine_and_the_command_never_import_datasketch():
    code = ("import sys, io, contextlib; import dedup, dedup.cli\n"
            "dedup.check('The cat sat on the mat today. The cat sat on the mat today.')\n"
            "with contextlib.redirect_stdout(io.StringIO()): dedup.cli.main(['check', 'examples', '-q'])\n"
            "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_readme_examples_of_datasketch_compatibility_run(capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## datasketch compatibility"):]
    section = section[:section.index("\n## ", 5)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    assert capsys.readouterr().out.splitlines()[0] == "['passage-0', 'passage-1']"
