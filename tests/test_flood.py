"""Work bounded on adversarial text: a flood of near-identical sentences is linked through
representatives (a bounded number of verified pairs per sentence) and still reported, as one
group; exact copies are always found; progress is shown on long runs."""
from __future__ import annotations

import io
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dedup import Detector
from dedup.candidates import (
    CandidateStats,
    bucket_load,
    bucket_pairs,
    flood_passages,
    key_buckets,
    pairs_from_buckets,
    pairs_from_keys,
)
from dedup.progress import Progress

BASE = ["The", "city", "council", "approved", "the", "new", "budget", "for", "the", "public", "library", "and",
        "the", "swimming", "pool", "on", "Monday", "evening"]
SUBSTITUTES = ["river", "harbor", "copper", "lantern", "meadow", "timber", "velvet", "walnut", "falcon",
               "glacier", "kettle", "mirror"]
COPIED = "Engineers finished repairing the old railway bridge over the river two weeks ahead of schedule."


def flood_documents(documents: int = 300, per_document: int = 10, seed: int = 7) -> list[tuple[str, str]]:
    """`documents` x `per_document` variants of one sentence, each with two words replaced."""
    rng = random.Random(seed)

    def variant() -> str:
        words = list(BASE)
        for _ in range(2):
            words[rng.randrange(len(words))] = rng.choice(SUBSTITUTES)
        return " ".join(words) + "."

    return [(f"d{d}", " ".join(variant() for _ in range(per_document))) for d in range(documents)]


TIGHT = {"candidate_budget_min": 10_000, "candidate_budget": 2.0}


@pytest.fixture(scope="module")
def flood():
    docs = flood_documents()
    docs[40] = (docs[40][0], docs[40][1] + " " + COPIED)
    docs[250] = (docs[250][0], COPIED + " " + docs[250][1])
    return docs, Detector(**TIGHT).check_many(docs), Detector(candidate_budget_min=10**9).check_many(docs)


def test_flood_verifies_a_bounded_number_of_pairs(flood):
    _, bounded, unbounded = flood
    sentences = bounded.stats["sentences"]
    assert sentences == 3002
    assert bounded.stats["flood"]["passages"] > 0.9 * sentences
    assert bounded.stats["flood"]["bucket_pairs"] > bounded.stats["flood"]["budget"]
    # every candidate pair is verified: a few per sentence, against dozens without the budget
    assert bounded.stats["candidates"] <= 3 * sentences
    assert unbounded.stats["candidates"] > 20 * sentences
    assert unbounded.stats["flood"]["passages"] == 0


def test_flood_is_reported_as_one_group(flood):
    _, bounded, unbounded = flood
    groups = Counter(f.group for f in bounded.findings if f.sentence.text != COPIED)
    largest = groups.most_common(1)[0][1]
    assert largest >= 0.95 * 3000
    assert len(bounded.findings) >= 0.98 * len(unbounded.findings)


def test_exact_copies_are_always_found(flood):
    docs, bounded, _ = flood
    copied = [f for f in bounded.findings if f.sentence.text == COPIED]
    assert len(copied) == 1 and copied[0].kind == "exact" and copied[0].match.text == COPIED
    assert (copied[0].sentence.doc, copied[0].match.doc) == ("d250", "d40")
    # every later copy of a flood sentence is reported, nearly all as an exact copy (the others
    # repeat a passage earlier still, which a finding names first)
    seen: set[str] = set()
    later_copies = set()
    for doc_id, text in docs:
        for sentence in text.split(". "):
            sentence = sentence.rstrip(".")
            if sentence in seen:
                later_copies.add((doc_id, sentence))
            seen.add(sentence)
    reported = {(f.sentence.doc, f.sentence.text.rstrip(".")): f.kind for f in bounded.findings}
    assert later_copies and later_copies <= set(reported)
    assert sum(reported[c] == "exact" for c in later_copies) >= 0.9 * len(later_copies)


def test_normal_text_is_under_the_budget():
    docs = [("a", ("Engineers finished repairing the old railway bridge over the river on Monday. "
                   "The council said the work cost less than expected this year.")),
            ("b", "Engineers finished repairing the old railway bridge over the river on Monday.")]
    report = Detector().check_many(docs)
    assert report.stats["flood"]["passages"] == 0 and report.stats["flood"]["representative_links"] == 0
    assert [f.kind for f in report.findings] == ["exact"]


@pytest.mark.parametrize("field", ["candidate_budget", "candidate_budget_min", "flood_links"])
def test_budget_settings_must_not_be_negative(field):
    with pytest.raises(ValueError, match="must not be negative"):
        Detector(**{field: -1})


# ---------------------------------------------------------------- the candidate stage itself

KEYS = st.integers(2, 50).flatmap(lambda n: st.tuples(
    arrays(np.uint32, st.tuples(st.just(n), st.integers(1, 4)), elements=st.integers(0, 3)),
    arrays(np.bool_, n), st.integers(2, 8), st.integers(0, 3)))


@settings(max_examples=150, deadline=None)
@given(KEYS)
def test_flooded_pairs_go_through_representatives(data):
    keys, flooded, cap, links = data
    buckets = key_buckets(keys)
    everything = {tuple(p) for p in pairs_from_keys(keys, cap=cap).tolist()}
    pairs = {tuple(p) for p in pairs_from_buckets(buckets, cap, flooded, links).tolist()}
    # a pair with an unflooded passage is kept as it was
    assert {p for p in everything if not (flooded[p[0]] and flooded[p[1]])} <= pairs
    # two flooded passages are paired only through a bucket's first member, in the first `links` columns
    firsts: set[tuple[int, int]] = set()
    for column in range(min(links, keys.shape[1])):
        for key in set(keys[:, column].tolist()):
            members = np.flatnonzero(keys[:, column] == key)
            if len(members) > 1:
                firsts.update({(int(members[0]), int(m)) for m in members[1:]})
    for a, b in pairs - everything:
        assert (a, b) in firsts and (flooded[a] or flooded[b])
    for a, b in pairs:
        if flooded[a] and flooded[b]:
            assert (a, b) in firsts


@settings(max_examples=100, deadline=None)
@given(KEYS)
def test_bucket_pairs_and_load_count_the_pairs_of_each_band(data):
    keys, _, cap, _ = data
    buckets = key_buckets(keys)
    per_band = sum(len(pairs_from_keys(keys[:, [k]], cap=cap)) for k in range(keys.shape[1]))
    assert bucket_pairs([buckets], cap) == per_band
    assert int(bucket_load([buckets], len(keys), cap).sum()) == 2 * per_band


def test_flood_passages_under_and_over_the_budget():
    keys = np.array([[1, 1]] * 10 + [[2, 3], [2, 4]], dtype=np.uint32)
    buckets = key_buckets(keys)
    stats = CandidateStats()
    assert flood_passages([buckets], 12, 64, budget=1000, links=1, stats=stats) is None
    assert stats.bucket_pairs == 2 * 45 + 1 and stats.flooded == 0
    flooded = flood_passages([buckets], 12, 64, budget=20, links=1, stats=stats)
    assert flooded is not None and flooded[:10].all() and not flooded[10:].any()
    assert stats.flooded == 10 and stats.flood_load == 18
    pairs = pairs_from_buckets(buckets, 64, flooded, link_columns=1).tolist()
    assert pairs == [[0, k] for k in range(1, 10)] + [[10, 11]]


# ---------------------------------------------------------------- progress on long runs

def test_progress_lines_only_on_long_runs():
    quiet, long = io.StringIO(), io.StringIO()
    Progress(enabled=False, long_run=3600, stream=quiet).stage("verify")
    Progress(enabled=False, long_run=None, stream=quiet).stage("verify")
    Progress(enabled=False, long_run=0, stream=long).stage("verify")
    assert quiet.getvalue() == ""
    assert long.getvalue().startswith("dedup: verify done after ") and long.getvalue().endswith(" s\n")
    assert "\r" not in long.getvalue()


def test_progress_on_a_terminal_is_redrawn_in_place():
    out = io.StringIO()
    progress = Progress(enabled=True, long_run=0, stream=out)
    progress.stage("verify")
    progress.close()
    assert out.getvalue() == "\r\033[Kdedup: verify done\r\033[K"


@settings(max_examples=60, deadline=None)
@given(KEYS, st.integers(1, 6))
def test_buckets_taken_a_slice_at_a_time_give_the_same_pairs(data, slice_members):
    from dedup import candidates

    keys, flooded, cap, links = data
    buckets = key_buckets(keys)
    whole = pairs_from_buckets(buckets, cap, flooded, links)
    limit = candidates._SLICE_MEMBERS
    candidates._SLICE_MEMBERS = slice_members
    try:
        sliced = pairs_from_buckets(buckets, cap, flooded, links)
    finally:
        candidates._SLICE_MEMBERS = limit
    assert np.array_equal(whole, sliced)


def test_the_command_shows_progress_on_a_long_run_only(tmp_path, monkeypatch, capsys):
    from dedup import cli

    path = tmp_path / "a.txt"
    path.write_text(f"{COPIED}\n\n{COPIED}\n", encoding="utf-8")
    assert cli.main(["check", str(path), "--format", "json", "--isolated"]) == 1
    assert "dedup:" not in capsys.readouterr().err  # a short run: nothing on stderr
    monkeypatch.setattr(cli, "LONG_RUN_SECONDS", 0.0)
    assert cli.main(["check", str(path), "--format", "json", "--isolated"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines and lines[-1].startswith("dedup: editorial+group+report done after ")
    assert cli.main(["check", str(path), "--format", "json", "--isolated", "--quiet"]) == 1
    assert capsys.readouterr().err == ""


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))))
def test_components_partition_as_union_find_does(data):
    from dedup.group import UnionFind, components

    n, edges = data
    sets = UnionFind(n)
    for x, y in edges:
        sets.union(x, y)
    a = np.array([x for x, _ in edges], dtype=np.int64)
    b = np.array([y for _, y in edges], dtype=np.int64)
    assert components(n, a, b).tolist() == [sets.find(x) for x in range(n)]  # its root is the smallest node
