"""The rule for document ids in the service (`dedup.service.models`): the validator and the
pattern published in the OpenAPI spec (which clients and schemathesis generate ids from) agree."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install -e '.[test]')")

from pydantic import ValidationError  # noqa: E402

from dedup.service.models import ID_PATTERN, CheckRequest  # noqa: E402


def accepted(doc_id: str) -> bool:
    try:
        CheckRequest.model_validate({"text": "x", "id": doc_id})
    except ValidationError:
        return False
    return True


interesting = st.text(st.sampled_from("ab /-\x00\t\n\r\x1b\x7f\x85\xa0\u2028\u2029\u202a\u202e\u2066\u2069\u200c\u3000م"),
                      min_size=1, max_size=12)


@given(st.one_of(interesting, st.text(min_size=1, max_size=40)))
def test_the_validator_accepts_exactly_what_the_published_pattern_matches(doc_id):
    if "\ud800" <= max(doc_id) and any("\ud800" <= c <= "\udfff" for c in doc_id):
        assert not accepted(doc_id)  # lone surrogates: not text
        return
    assert accepted(doc_id) == (re.fullmatch(ID_PATTERN, doc_id) is not None)


def test_the_spec_publishes_the_pattern():
    schema = CheckRequest.model_json_schema()
    assert schema["properties"]["id"]["pattern"] == ID_PATTERN
    assert schema["$defs"]["DocumentIn"]["properties"]["id"]["pattern"] == ID_PATTERN
