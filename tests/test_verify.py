"""Verification measures on their own: the word-bag share behind reordered hasty copies."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.verify import word_bag_containment

words = st.lists(st.sampled_from("the a of police arrested gunmen thieves 70 30 buildings".split()), max_size=12)


def test_word_bag_share_of_the_shorter_side():
    shares = word_bag_containment(
        ["police arrested the gunmen", "police arrested the gunmen", "the the the police", ""],
        ["the gunmen police arrested yesterday", "police freed the thieves", "the police", "anything"])
    assert shares.tolist() == pytest.approx([1.0, 0.5, 1.0, 0.0])


def test_repeated_words_count_as_often_as_both_sides_have_them():
    assert word_bag_containment(["the the police"], ["the police police"]).tolist() == pytest.approx([2 / 3])


@given(words, st.randoms(use_true_random=False))
def test_reordering_keeps_the_whole_bag(sentence, rng: random.Random):
    shuffled = sentence[:]
    rng.shuffle(shuffled)
    share = word_bag_containment([" ".join(sentence)], [" ".join(shuffled)])[0]
    assert share == (1.0 if sentence else 0.0)


@given(words, words)
def test_word_bag_share_is_symmetric_and_bounded(a, b):
    left, right = " ".join(a), " ".join(b)
    forward, backward = word_bag_containment([left], [right])[0], word_bag_containment([right], [left])[0]
    assert forward == backward
    assert 0.0 <= forward <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(["a", "bb", "c", "dd", "e"]), max_size=12),
                          st.lists(st.sampled_from(["a", "bb", "c", "dd", "e"]), max_size=12)), min_size=1, max_size=20))
def test_word_bag_containment_counts_shared_words_with_repeats(pairs):
    from collections import Counter

    left, right = [" ".join(a) for a, _ in pairs], [" ".join(b) for _, b in pairs]
    expected = [(Counter(a) & Counter(b)).total() / max(1, min(len(a), len(b))) for a, b in pairs]
    assert word_bag_containment(left, right).tolist() == pytest.approx(expected)
