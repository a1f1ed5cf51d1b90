"""The Redis archive store against a real redis-server.

The server is DEDUP_TEST_REDIS_URL when set (CI starts one), else a private one started here;
without either the tests skip, except under CI (CI=true) where they fail. Each test works
under its own key prefix and removes its keys afterwards.
"""
from __future__ import annotations

import json
import os
import random
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dedup.archive.store import ArchiveError, IndexSettings, PassageRows, StoredPassage
from redis_server import free_port

try:
    import redis
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("the redis package is not installed (pip install 'dedup[redis]')", allow_module_level=True)

from dedup.archive.redis import RedisStore  # noqa: E402  (after the redis check)

SETTINGS = IndexSettings()
BANDS = SETTINGS.bands


# --- fixtures ----------------------------------------------------------------------------

@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(redis_url: str, prefix: str) -> Iterator[redis.Redis]:
    """A plain client to the test server; removes the test's keys afterwards."""
    plain = redis.Redis.from_url(redis_url)
    yield plain
    keys = list(plain.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        plain.delete(*keys)
    plain.close()


@pytest.fixture
def location(redis_url: str, prefix: str, client: redis.Redis) -> str:
    separator = "&" if "?" in redis_url else "?"
    return f"{redis_url}{separator}prefix={prefix}"


@pytest.fixture
def store(location: str) -> Iterator[RedisStore]:
    with RedisStore.open(location, SETTINGS) as opened:
        yield opened


# --- helpers -----------------------------------------------------------------------------

rng = np.random.default_rng(20240611)


def random_keys(passages: int) -> np.ndarray:
    return rng.integers(0, 2**32, size=(passages, BANDS), dtype=np.uint32)


def random_hashes(passages: int) -> np.ndarray:
    return rng.integers(-(2**63), 2**63 - 1, size=passages, dtype=np.int64)


def make_rows(texts: list[str], band_keys: np.ndarray | None = None,
              norm_hash: np.ndarray | None = None) -> PassageRows:
    """Rows for `texts` laid end to end (one space apart) on line 1."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    return PassageRows(start=start, end=start + lengths, line=np.ones(len(texts), dtype=np.int64),
                       column=start + 1, text=list(texts),
                       norm_hash=random_hashes(len(texts)) if norm_hash is None else norm_hash,
                       band_keys=random_keys(len(texts)) if band_keys is None else band_keys)


def no_keys() -> np.ndarray:
    return np.zeros((0, BANDS), dtype=np.uint32)


def no_hashes() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def texts_of(found: list[StoredPassage]) -> set[str]:
    return {p.text for p in found}


def keys_under(client: redis.Redis, prefix: str) -> set[str]:
    return {k.decode() for k in client.scan_iter(match=f"{prefix}:*", count=1000)}


# --- storing and finding -----------------------------------------------------------------

TEXTS = ["The central bank raised its main rate.", "Farmers expect a record harvest.",
         "قال وزير المالية إن الحكومة ستخفض الضرائب.", "The museum opened a map exhibition.",
         "Volunteers planted oak saplings."]


def test_lookup_finds_a_band_match_in_the_same_band_only(store: RedisStore) -> None:
    rows = make_rows(TEXTS)
    store.put("a", rows, {"source": "wire"})
    query = random_keys(2)
    query[0, 3] = rows.band_keys[2, 3]  # same band: found
    query[1, 4] = rows.band_keys[1, 3]  # band 3's value in band 4: not found

    found = store.lookup(query, random_hashes(2))

    assert found == [StoredPassage("a", int(rows.start[2]), int(rows.end[2]), 1, int(rows.start[2]) + 1,
                                   TEXTS[2], int(rows.norm_hash[2]))]


def test_lookup_finds_a_norm_hash_match_and_keeps_int64_extremes(store: RedisStore) -> None:
    hashes = np.array([-(2**63), 2**63 - 1, 0, -1, 7], dtype=np.int64)
    store.put("a", make_rows(TEXTS, norm_hash=hashes))

    found = store.lookup(no_keys(), np.array([2**63 - 1, -(2**63), 12345], dtype=np.int64))

    assert {(p.text, p.norm_hash) for p in found} == {(TEXTS[0], -(2**63)), (TEXTS[1], 2**63 - 1)}


def test_lookup_returns_each_passage_once_across_documents(store: RedisStore) -> None:
    shared_keys = random_keys(1)
    store.put("a", make_rows(["alpha one"], band_keys=shared_keys.copy()))
    store.put("b", make_rows(["beta one", "beta two"], band_keys=np.vstack([shared_keys, random_keys(1)])))
    query = np.vstack([shared_keys, shared_keys])  # every band of both queried rows hits

    found = store.lookup(query, no_hashes())

    assert sorted((p.doc_id, p.text) for p in found) == [("a", "alpha one"), ("b", "beta one")]
    assert store.lookup(no_keys(), no_hashes()) == []


def test_prefixes_are_separate_indexes(store: RedisStore, redis_url: str, client: redis.Redis) -> None:
    rows = make_rows(TEXTS)
    store.put("a", rows)
    other_prefix = f"{store.prefix}-other"
    try:
        with RedisStore.open(f"{redis_url}?prefix={other_prefix}", SETTINGS) as other:
            assert other.lookup(rows.band_keys, rows.norm_hash) == []
            assert other.documents() == 0
    finally:
        client.delete(*keys_under(client, other_prefix))


def test_put_replaces_a_document(store: RedisStore) -> None:
    old, new = make_rows(TEXTS[:3]), make_rows(["A new first passage.", "A new second one."])
    store.put("a", old)
    store.put("a", new)

    assert store.lookup(old.band_keys, old.norm_hash) == []
    assert texts_of(store.lookup(new.band_keys, new.norm_hash)) == set(new.text)
    assert store.documents() == 1
    assert store.stats()["passages"] == 2


def test_delete_removes_everything_the_document_added(store: RedisStore, client: redis.Redis) -> None:
    rows = make_rows(TEXTS)
    store.put("a", rows)
    store.put("b", make_rows(TEXTS[:2]))

    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.delete("never stored") is False
    assert texts_of(store.lookup(rows.band_keys, rows.norm_hash)) == set()
    assert store.documents() == 1

    store.delete("b")
    assert keys_under(client, store.prefix) == {f"{store.prefix}:settings", f"{store.prefix}:next"}


def test_a_document_without_passages_counts(store: RedisStore) -> None:
    store.put("empty", make_rows([]), {"title": "nothing"})
    assert store.documents() == 1
    assert store.delete("empty") is True


def test_document_counts_count_each_document_once(store: RedisStore) -> None:
    h, h2, unknown = 11, -22, 33
    store.put("a", make_rows(["x one", "x two", "y"], norm_hash=np.array([h, h, h2], dtype=np.int64)))
    store.put("b", make_rows(["x three"], norm_hash=np.array([h], dtype=np.int64)))
    query = np.array([h, h2, unknown, h], dtype=np.int64)
    assert store.document_counts(query).tolist() == [2, 1, 0, 2]

    store.put("a", make_rows(["z"], norm_hash=np.array([h2], dtype=np.int64)))
    assert store.document_counts(query).tolist() == [1, 1, 0, 1]

    store.delete("b")
    store.delete("a")
    assert store.document_counts(query).tolist() == [0, 0, 0, 0]
    assert store.document_counts(no_hashes()).dtype == np.int64


def test_stats(store: RedisStore, location: str) -> None:
    store.put("a", make_rows(TEXTS))
    stats = store.stats()
    assert stats["backend"] == "redis"
    assert stats["location"] == location
    assert (stats["documents"], stats["passages"], stats["band_keys"]) == (1, 5, 5 * BANDS)
    assert stats["bytes"] > 0
    assert stats["settings"] == SETTINGS.to_dict()
    store.vacuum()
    assert store.documents() == 1


def test_wrong_band_count_is_refused(store: RedisStore) -> None:
    rows = make_rows(TEXTS[:2], band_keys=np.zeros((2, BANDS // 2), dtype=np.uint32))
    with pytest.raises(ArchiveError, match=rf"band_keys has shape \(2, 16\), expected \(2, {BANDS}\)"):
        store.put("a", rows)
    with pytest.raises(ArchiveError, match="band_keys has shape"):
        store.lookup(rows.band_keys, rows.norm_hash)


# --- opening -------------------------------------------------------------------------------

def test_reopen_keeps_the_documents(store: RedisStore, location: str) -> None:
    store.put("a", make_rows(TEXTS))
    with RedisStore.open(location, SETTINGS, create=False) as again:
        assert again.documents() == 1
        assert again.settings == SETTINGS


def test_other_settings_are_refused(store: RedisStore, location: str) -> None:
    with pytest.raises(ArchiveError, match=r"bands: stored 32, asked 16; rows: stored 4, asked 8"):
        RedisStore.open(location, IndexSettings(bands=16, rows=8))


def test_a_newer_format_version_is_refused(store: RedisStore, location: str, client: redis.Redis) -> None:
    client.hset(f"{store.prefix}:settings", "format_version", 99)
    with pytest.raises(ArchiveError, match="format version 99 is newer"):
        RedisStore.open(location, SETTINGS)


def test_foreign_keys_under_the_prefix_are_refused(location: str, prefix: str, client: redis.Redis) -> None:
    client.set(f"{prefix}:cache:user:1", "someone else's")
    with pytest.raises(ArchiveError, match="holds keys but no dedup index settings"):
        RedisStore.open(location, SETTINGS)
    assert keys_under(client, prefix) == {f"{prefix}:cache:user:1"}


def test_a_settings_hash_of_something_else_is_refused(location: str, prefix: str, client: redis.Redis) -> None:
    client.hset(f"{prefix}:settings", mapping={"theme": "dark"})
    with pytest.raises(ArchiveError, match="is not a dedup index"):
        RedisStore.open(location, SETTINGS)


def test_open_without_create_needs_an_index(location: str) -> None:
    with pytest.raises(ArchiveError, match="no dedup index under prefix"):
        RedisStore.open(location, SETTINGS, create=False)


def test_a_bad_prefix_is_refused(redis_url: str) -> None:
    with pytest.raises(ArchiveError, match="prefix 'a:b' must be"):
        RedisStore.open(f"{redis_url}?prefix=a:b", SETTINGS)


def test_connection_refused_is_one_line_naming_the_url() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(ArchiveError) as raised:
        RedisStore.open(url, SETTINGS)
    assert str(raised.value) == f"cannot connect to {url}: Connection refused"


def test_a_password_stays_out_of_messages() -> None:
    port = free_port()
    with pytest.raises(ArchiveError) as raised:
        RedisStore.open(f"redis://:s3cret@127.0.0.1:{port}/0", SETTINGS)
    assert str(raised.value) == f"cannot connect to redis://:***@127.0.0.1:{port}/0: Connection refused"


def test_without_the_redis_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ArchiveError) as raised:
        RedisStore.open("redis://127.0.0.1:6379/0", SETTINGS)
    assert str(raised.value) == "redis location needs the redis package: pip install 'dedup[redis]'"


# --- round trips ---------------------------------------------------------------------------

@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-element counter of the client's writes to a socket (each awaits its replies)."""
    counter = [0]
    send = redis.connection.AbstractConnection.send_packed_command

    def counting_send(self, command, check_health=True):  # type: ignore[no-untyped-def]
        counter[0] += 1
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting_send)
    return counter


def trips(counter: list[int], call) -> int:  # type: ignore[no-untyped-def]
    before = counter[0]
    call()
    return counter[0] - before


def test_lookup_costs_one_round_trip_whatever_its_size(store: RedisStore, round_trips: list[int]) -> None:
    rows = make_rows([f"Stored passage number {k}." for k in range(50)])
    store.put("a", rows)
    store.lookup(rows.band_keys[:1], rows.norm_hash[:1])  # loads the script once per server

    few = trips(round_trips, lambda: store.lookup(rows.band_keys[:5], rows.norm_hash[:5]))
    many = trips(round_trips, lambda: store.lookup(rows.band_keys, rows.norm_hash))
    assert few == many == 1
    assert len(store.lookup(rows.band_keys, rows.norm_hash)) == 50
    assert trips(round_trips, lambda: store.document_counts(rows.norm_hash)) == 1


def test_put_put_many_and_delete_cost_one_round_trip(store: RedisStore, round_trips: list[int]) -> None:
    store.put("warm", make_rows(["warm"]))  # loads the script once per server
    rows = make_rows([f"Stored passage number {k}." for k in range(50)])

    assert trips(round_trips, lambda: store.put("a", rows)) == 1
    assert trips(round_trips, lambda: store.put("a", rows)) == 1  # replacing too
    assert trips(round_trips, lambda: store.put_many([(f"d{k}", make_rows(TEXTS), None) for k in range(200)])) == 1
    assert trips(round_trips, lambda: store.put_many([])) == 0
    assert trips(round_trips, lambda: store.delete("a")) == 1


def test_put_many_checks_every_document_before_storing_any(store: RedisStore) -> None:
    bad = make_rows(TEXTS[:2], band_keys=np.zeros((2, 3), dtype=np.uint32))
    with pytest.raises(ArchiveError, match="band_keys has shape"):
        store.put_many([("a", make_rows(TEXTS), None), ("b", bad, None)])
    with pytest.raises(ArchiveError, match="metadata of 'c' is not JSON"):
        store.put_many([("a", make_rows(TEXTS), None), ("c", make_rows(TEXTS), {"when": object()})])
    assert store.documents() == 0


def test_an_index_of_the_older_key_layout_is_refused(store: RedisStore, location: str, client: redis.Redis) -> None:
    client.hdel(f"{store.prefix}:settings", "key_layout")
    with pytest.raises(ArchiveError, match="has Redis key layout 1, this dedup reads layout 2 only: rebuild it"):
        RedisStore.open(location, SETTINGS)


# --- what the writers leave: the whole store against a model ----------------------------

MODEL_DOCS = ["a", "b", "c:colon", "d d", "é"]
TRICKY = ["line one\nline two", 'a "quoted" \\ back,slash', "ends like a record,5]", "\u2028 separator",
          "ﻻ عربي", "x"]


def model_rows(chooser: random.Random, passages: int) -> PassageRows:
    """Rows whose band keys and norm hashes collide often, within and across documents."""
    keys = np.array([[chooser.choice([band, 7, 2**32 - 1, chooser.getrandbits(32)]) for band in range(BANDS)]
                     for _ in range(passages)], dtype=np.uint32).reshape(passages, BANDS)
    hashes = np.array([chooser.choice([-(2**63), 2**63 - 1, 0, -5, chooser.getrandbits(63)])
                       for _ in range(passages)], dtype=np.int64)
    texts = [f"{chooser.choice(TRICKY)} {k}" for k in range(passages)]
    return make_rows(texts, band_keys=keys, norm_hash=hashes)


def stored_state(client: redis.Redis, prefix: str) -> dict:
    """Everything under `prefix` but settings, with ids replaced by (doc_id, passage) and id
    lists sorted (so duplicates show)."""
    docs = {d.decode() for d in client.smembers(f"{prefix}:docs")}
    owner: dict[int, tuple[str, int]] = {}
    documents = {}
    for doc_id in docs:
        stored = client.hgetall(f"{prefix}:d:{doc_id}")
        first, count = int(stored[b"first_passage"]), int(stored[b"passages"])
        owner.update({first + k: (doc_id, k) for k in range(count)})
        documents[doc_id] = (count, stored[b"metadata"].decode(), stored[b"norm_hash"], stored[b"band_keys"])

    def passage(passage_id: bytes) -> tuple[str, int]:
        return owner.get(int(passage_id), ("<no document>", int(passage_id)))

    def id_lists(key: str, dtype: str) -> dict[int, list]:
        return {int(np.frombuffer(field, dtype=dtype)[0]): sorted(passage(i) for i in ids.split(b","))
                for field, ids in client.hgetall(key).items()}

    return {"keys": keys_under(client, prefix) - {f"{prefix}:d:{doc_id}" for doc_id in docs},
            "documents": documents,
            "records": {passage(i): json.loads(r) for i, r in client.hgetall(f"{prefix}:p").items()},
            "bands": [id_lists(f"{prefix}:b:{band}", "<u4") for band in range(BANDS)],
            "hashes": id_lists(f"{prefix}:h", "<i8"),
            "counts": {int(np.frombuffer(f, dtype="<i8")[0]): int(c)
                       for f, c in client.hgetall(f"{prefix}:n").items()}}


def expected_state(prefix: str, model: dict[str, tuple[PassageRows, dict]]) -> dict:
    """What the old semantic requires of `model` (doc_id -> its last version): each passage in
    the id list of its band key in each band and of its norm hash, and each norm hash counted
    once per document having it."""
    bands: list[dict[int, list]] = [defaultdict(list) for _ in range(BANDS)]
    hashes: dict[int, list] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    records = {}
    for doc_id, (rows, _) in model.items():
        for k in range(len(rows)):
            for band in range(BANDS):
                bands[band][int(rows.band_keys[k, band])].append((doc_id, k))
            hashes[int(rows.norm_hash[k])].append((doc_id, k))
            records[doc_id, k] = [doc_id, int(rows.start[k]), int(rows.end[k]), int(rows.line[k]),
                                  int(rows.column[k]), rows.text[k], int(rows.norm_hash[k])]
        for value in set(rows.norm_hash.tolist()):
            counts[value] += 1
    lists = {f"{prefix}:p": records, f"{prefix}:h": hashes, f"{prefix}:n": counts, f"{prefix}:docs": model,
             **{f"{prefix}:b:{band}": bands[band] for band in range(BANDS)}}
    return {"keys": {f"{prefix}:settings", f"{prefix}:next"} | {key for key, value in lists.items() if value},
            "documents": {doc_id: (len(rows), json.dumps(metadata, separators=(",", ":")),
                                   rows.norm_hash.astype("<i8").tobytes(), rows.band_keys.astype("<u4").tobytes())
                          for doc_id, (rows, metadata) in model.items()},
            "records": records,
            "bands": [{value: sorted(ids) for value, ids in band.items()} for band in bands],
            "hashes": {value: sorted(ids) for value, ids in hashes.items()},
            "counts": dict(counts)}


def first_passages(client: redis.Redis, prefix: str, doc_ids: set[str]) -> list[int]:
    return [int(client.hget(f"{prefix}:d:{doc_id}", "first_passage")) for doc_id in doc_ids]


def test_puts_replaces_and_deletes_leave_what_the_semantic_requires(store: RedisStore, client: redis.Redis) -> None:
    chooser = random.Random(5)
    model: dict[str, tuple[PassageRows, dict]] = {}
    for step in range(80):
        allocated = int(client.get(f"{store.prefix}:next") or 0)
        action = chooser.random()
        if action < 0.15:
            doc_id = chooser.choice(MODEL_DOCS)
            assert store.delete(doc_id) is (doc_id in model)
            model.pop(doc_id, None)
            written: set[str] = set()
        elif action < 0.5:
            batch = [(chooser.choice(MODEL_DOCS), model_rows(chooser, chooser.randint(0, 9)), {"step": step, "k": k})
                     for k in range(chooser.randint(1, 5))]  # a document may come twice
            store.put_many(batch)
            model.update({doc_id: (rows, metadata) for doc_id, rows, metadata in batch})
            written = {doc_id for doc_id, _, _ in batch if len(model[doc_id][0])}
        else:
            doc_id = chooser.choice(MODEL_DOCS)
            model[doc_id] = (model_rows(chooser, chooser.randint(0, 9)), {"step": step})
            store.put(doc_id, *model[doc_id])
            written = {doc_id} if len(model[doc_id][0]) else set()
        assert stored_state(client, store.prefix) == expected_state(store.prefix, model), f"after step {step}"
        assert all(first > allocated for first in first_passages(client, store.prefix, written))  # ids not reused

    every_hash = sorted({h for rows, _ in model.values() for h in rows.norm_hash.tolist()} | {12345})
    counts = expected_state(store.prefix, model)["counts"]
    expected = [counts.get(h, 0) for h in every_hash]
    assert store.document_counts(np.array(every_hash, dtype=np.int64)).tolist() == expected
    assert store.documents() == len(model)
    every_key = np.vstack([no_keys()] + [rows.band_keys for rows, _ in model.values()])
    found = store.lookup(every_key, no_hashes())
    assert len(found) == sum(len(rows) for rows, _ in model.values())
    for passage in found:  # with its band keys and document count
        rows = model[passage.doc_id][0]
        k = rows.start.tolist().index(passage.start)
        assert passage.band_keys == rows.band_keys[k].astype("<u4").tobytes()
        assert passage.documents == counts[passage.norm_hash]
    for doc_id in list(model):
        store.delete(doc_id)
    assert keys_under(client, store.prefix) == {f"{store.prefix}:settings", f"{store.prefix}:next"}


def repeating_rows(passages: int) -> PassageRows:
    """Mostly distinct band keys and norm hashes; every 7th passage repeats the one before."""
    rows = make_rows([f"passage {k}" for k in range(passages)])
    rows.band_keys[7::7] = rows.band_keys[6:-1:7]
    rows.norm_hash[7::7] = rows.norm_hash[6:-1:7]
    return rows


def test_a_large_document_is_stored_replaced_and_deleted_whole(store: RedisStore, client: redis.Redis) -> None:
    """More passages than the scripts' inner chunks (1000 fields a call)."""
    chooser = random.Random(11)
    big, other = repeating_rows(2600), model_rows(chooser, 40)
    store.put_many([("small", other, None), ("big", big, None), ("small-2", other, None)])
    model = {"small": (other, {}), "big": (big, {}), "small-2": (other, {})}
    assert stored_state(client, store.prefix) == expected_state(store.prefix, model)

    replacement = repeating_rows(1200)
    store.put("big", replacement)
    model["big"] = (replacement, {})
    assert stored_state(client, store.prefix) == expected_state(store.prefix, model)

    assert store.delete("big") is True
    del model["big"]
    assert stored_state(client, store.prefix) == expected_state(store.prefix, model)
    assert "big" not in {p.doc_id for p in store.lookup(replacement.band_keys, replacement.norm_hash)}


# --- many writers and readers ----------------------------------------------------------

DOCS = [f"doc-{k}" for k in range(6)]
DOC_HASH = {doc_id: 1000 + k for k, doc_id in enumerate(DOCS)}  # every passage of a doc has it
MAX_PASSAGES, WRITERS, ROUNDS = 40, 4, 25
# Passage k of a document has the same band keys in every version, so a reader can ask for
# all of them: each passage enters its buckets by its own commands, and only a transaction
# keeps a reader from seeing some passages of a version without the others.
PASSAGE_KEYS = {doc_id: np.random.default_rng(k).integers(0, 2**32, (MAX_PASSAGES, BANDS), dtype=np.uint32)
                for k, doc_id in enumerate(DOCS)}
EVERY_PASSAGE_KEY = np.vstack(list(PASSAGE_KEYS.values()))


def version_rows(doc_id: str, version: str, passages: int) -> PassageRows:
    texts = [f"{doc_id}|{version}|{passages}|{k}" for k in range(passages)]
    return make_rows(texts, band_keys=PASSAGE_KEYS[doc_id][:passages],
                     norm_hash=np.full(passages, DOC_HASH[doc_id], dtype=np.int64))


def write_versions(location: str, writer: int, written: dict[str, str]) -> None:
    """Put one or two documents at a time (and now and then delete one), shared with the other writers."""
    chooser = random.Random(writer)
    with RedisStore.open(location, SETTINGS) as store:
        for round_ in range(ROUNDS):
            doc_id = DOCS[(writer + round_) % len(DOCS)]
            if chooser.random() < 0.1:
                store.delete(doc_id)
                continue
            version = f"w{writer}r{round_}"
            doc_ids = [doc_id, DOCS[(writer + round_ + 1) % len(DOCS)]][:chooser.randint(1, 2)]
            store.put_many([(d, version_rows(d, version, chooser.randint(1, MAX_PASSAGES)), {"version": version})
                            for d in doc_ids])
            written[version] = doc_id


def incomplete_documents(found: list[StoredPassage]) -> list[str]:
    """Documents seen as a mix of versions or with passages missing."""
    by_doc: dict[str, list[list[str]]] = defaultdict(list)
    for passage in found:
        by_doc[passage.doc_id].append(passage.text.split("|"))
    problems = []
    for doc_id, parts in by_doc.items():
        versions = {version for _, version, _, _ in parts}
        expected = {int(count) for _, _, count, _ in parts}
        indexes = sorted(int(k) for *_, k in parts)
        if len(versions) != 1 or len(expected) != 1 or indexes != list(range(expected.pop())):
            problems.append(f"{doc_id}: versions {sorted(versions)}, passages {indexes}")
    return problems


def test_concurrent_writers_and_a_reader_see_whole_documents(store: RedisStore, location: str) -> None:
    written: dict[str, str] = {}
    problems: list[str] = []
    lookups = 0
    all_hashes = np.array(list(DOC_HASH.values()), dtype=np.int64)
    with ThreadPoolExecutor(WRITERS) as pool:
        writers = [pool.submit(write_versions, location, w, written) for w in range(WRITERS)]
        while not all(writer.done() for writer in writers):
            problems += incomplete_documents(store.lookup(EVERY_PASSAGE_KEY, no_hashes()))
            lookups += 1
    for writer in writers:
        writer.result()

    assert problems == []
    assert lookups > 1 and len(written) > WRITERS * ROUNDS // 2
    final = store.lookup(EVERY_PASSAGE_KEY, no_hashes())
    assert incomplete_documents(final) == []
    assert sorted(map(str, store.lookup(no_keys(), all_hashes))) == sorted(map(str, final))
    stored_docs = {p.doc_id for p in final}
    assert store.stats()["passages"] == len(final)
    assert store.document_counts(all_hashes).tolist() == [int(d in stored_docs) for d in DOCS]
    assert store.documents() == len(stored_docs)
