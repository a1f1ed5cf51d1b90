"""The Redis backend of the archive index: one index shared by many writers and readers.

Open it with a location such as ``redis://127.0.0.1:6379/0?prefix=news`` (also ``rediss://``
and ``unix://``; every other query parameter goes to the `redis` client). All keys live
under the prefix (default ``dedup``; letters, digits, ``_ . -``):

    {prefix}:settings            hash    format = dedup-archive, and every IndexSettings field
    {prefix}:next                string  the last passage id allocated (INCRBY)
    {prefix}:docs                set     doc ids
    {prefix}:d:{doc_id}          hash    first_passage, passages (its ids are that range),
                                         metadata (JSON), norm_hash (packed <i8), band_keys
                                         (packed <u4, passages x bands, row-major)
    {prefix}:p                   hash    passage id -> JSON [doc_id, start, end, line,
                                         column, text, norm_hash]
    {prefix}:b:{band}:{value}    set     passage ids with band key `value` in band `band`
    {prefix}:h:{norm_hash}       set     passage ids with that normalized hash
    {prefix}:n                   zset    norm_hash -> number of documents having it (each
                                         document counted once; zero scores are removed)

Round trips: `lookup` costs ONE round trip (EVALSHA of a read-only Lua script that unions the
queried buckets and fetches the passage records on the server, an atomic snapshot), whatever
the number of passages and bands; the first call on a server without the script cached costs
two more (NOSCRIPT, then EVAL). `document_counts` is one ZMSCORE (so the server must be Redis >= 6.2); `stats` one pipeline.

Writers: `put` allocates passage ids with INCRBY, then removes the old version and adds the
new one in one MULTI/EXEC guarded by WATCH on the document key (retried on WatchError);
`delete` likewise. Transactions are atomic on the server, so a reader sees a document whole,
in its old version or its new one, never a mix; passage ids are never reused.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from .store import FORMAT_VERSION, ArchiveError, IndexSettings, PassageRows, StoredPassage

if TYPE_CHECKING:
    import redis as redis_client

FORMAT_MAGIC = "dedup-archive"
DEFAULT_PREFIX = "dedup"
SCHEMES = ("redis", "rediss", "unix")
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
_CONNECT_TIMEOUT_S = 5.0  # unless the URL sets socket_connect_timeout

# KEYS[1]: the passages hash; KEYS[2..]: band buckets and norm-hash sets.
# Returns the records of the passages in any of those sets, each once.
_LOOKUP_SCRIPT = """
local seen, ids = {}, {}
for i = 2, #KEYS do
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
end
local records = {}
for first = 1, #ids, 1000 do
  local chunk = redis.call('HMGET', KEYS[1], unpack(ids, first, math.min(first + 999, #ids)))
  for _, record in ipairs(chunk) do
    if record then records[#records + 1] = record end
  end
end
return records
"""


def _import_redis() -> Any:
    try:
        import redis
    except ImportError:
        raise ArchiveError("redis location needs the redis package: pip install 'dedup[redis]'") from None
    return redis


def _redacted(url: str) -> str:
    """`url` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _split_prefix(url: str) -> tuple[str, str]:
    """(the URL for the redis client, the key prefix) from a location."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ArchiveError(f"{_redacted(url)}: not a redis location (schemes: {', '.join(SCHEMES)})")
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    prefix = prefixes[-1] if prefixes else DEFAULT_PREFIX
    if not _PREFIX_PATTERN.fullmatch(prefix):
        raise ArchiveError(f"{_redacted(url)}: prefix {prefix!r} must be letters, digits, '_', '.' or '-'")
    client_query = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=client_query)), prefix


def _connection_reason(error: Exception) -> str:
    cause = error.__cause__ or error.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(error).rstrip(".")


@contextmanager
def _redis_errors(location: str) -> Iterator[None]:
    """Turn the client's errors into one-line ArchiveErrors naming `location`."""
    redis = _import_redis()
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise ArchiveError(f"cannot connect to {location}: {_connection_reason(error)}") from error
    except redis.RedisError as error:
        raise ArchiveError(f"{location}: {error}") from error


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class _Keys:
    """The key names of one index."""

    prefix: str

    @property
    def settings(self) -> str:
        return f"{self.prefix}:settings"

    @property
    def next_passage(self) -> str:
        return f"{self.prefix}:next"

    @property
    def docs(self) -> str:
        return f"{self.prefix}:docs"

    @property
    def passages(self) -> str:
        return f"{self.prefix}:p"

    @property
    def document_counts(self) -> str:
        return f"{self.prefix}:n"

    def document(self, doc_id: str) -> str:
        return f"{self.prefix}:d:{doc_id}"

    def bucket(self, band: int, value: int) -> str:
        return f"{self.prefix}:b:{band}:{value}"

    def norm_hash(self, value: int) -> str:
        return f"{self.prefix}:h:{value}"

    def query(self, band_keys: np.ndarray, norm_hash: np.ndarray) -> list[str]:
        """The bucket and norm-hash sets a lookup reads, each once."""
        buckets = {self.bucket(band, value)
                   for row in band_keys.tolist() for band, value in enumerate(row)}
        hashes = {self.norm_hash(value) for value in norm_hash.tolist()}
        return sorted(buckets) + sorted(hashes)


@dataclass(frozen=True)
class _Document:
    """One stored document as its key holds it: what `put` wrote and removal needs."""

    first_passage: int
    norm_hash: np.ndarray  # int64
    band_keys: np.ndarray  # (passages, bands) uint32
    metadata: dict[str, Any]

    @property
    def passage_ids(self) -> range:
        return range(self.first_passage, self.first_passage + len(self.norm_hash))

    def to_hash(self) -> dict[str, bytes | str | int]:
        return {"first_passage": self.first_passage,
                "passages": len(self.norm_hash),
                "metadata": _json(self.metadata),
                "norm_hash": self.norm_hash.astype("<i8").tobytes(),
                "band_keys": self.band_keys.astype("<u4").tobytes()}

    @classmethod
    def from_hash(cls, stored: dict[bytes, bytes], bands: int) -> _Document:
        count = int(stored[b"passages"])
        return cls(first_passage=int(stored[b"first_passage"]),
                   norm_hash=np.frombuffer(stored[b"norm_hash"], dtype="<i8").astype(np.int64),
                   band_keys=np.frombuffer(stored[b"band_keys"], dtype="<u4").astype(np.uint32)
                   .reshape(count, bands),
                   metadata=json.loads(stored[b"metadata"]))


def _passage_record(doc_id: str, rows: PassageRows, k: int) -> str:
    return _json([doc_id, int(rows.start[k]), int(rows.end[k]), int(rows.line[k]),
                  int(rows.column[k]), rows.text[k], int(rows.norm_hash[k])])


def _stored_passage(record: bytes) -> StoredPassage:
    doc_id, start, end, line, column, text, norm_hash = json.loads(record)
    return StoredPassage(doc_id, start, end, line, column, text, norm_hash)


def _members_by_key(keys_and_ids: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for key, passage_id in keys_and_ids:
        grouped[key].append(passage_id)
    return grouped


def _settings_hash(settings: IndexSettings) -> dict[str, str]:
    return {"format": FORMAT_MAGIC, **{name: str(value) for name, value in settings.to_dict().items()}}


def _settings_from_hash(stored: dict[str, str], location: str) -> IndexSettings:
    values: dict[str, Any] = {}
    for field in fields(IndexSettings):
        if field.name not in stored:
            raise ArchiveError(f"{location}: index settings lack {field.name!r}")
        values[field.name] = _parsed_setting(stored[field.name], type(field.default))
    return IndexSettings(**values)


def _parsed_setting(raw: str, kind: type) -> Any:
    """A setting read back from its str(): `kind` is the type of its default."""
    if kind is bool:
        return raw == "True"
    return kind(raw)


class RedisStore:
    """An archive index in Redis (see the module docstring for keys and round trips)."""

    def __init__(self, client: redis_client.Redis, location: str, prefix: str,
                 settings: IndexSettings) -> None:
        self._client = client
        self._keys = _Keys(prefix)
        self._lookup_script = client.register_script(_LOOKUP_SCRIPT)
        self.location = location
        self.prefix = prefix
        self.settings = settings

    @classmethod
    def open(cls, url: str, settings: IndexSettings, *, create: bool = True) -> RedisStore:
        """Open the index at `url`, creating it with `settings` when absent and `create`.
        ArchiveError when the stored settings differ, the format is newer than this dedup's,
        the prefix holds keys of something else, or the server cannot be reached."""
        redis = _import_redis()
        location = _redacted(url)
        client_url, prefix = _split_prefix(url)
        try:
            client = redis.Redis.from_url(client_url, socket_connect_timeout=_CONNECT_TIMEOUT_S)
        except ValueError as error:
            raise ArchiveError(f"{location}: {error}") from None
        store = cls(client, location, prefix, settings)
        try:
            store.settings = store._checked_settings(settings, create)
        except BaseException:
            client.close()
            raise
        return store

    # --- settings -----------------------------------------------------------------------

    def _checked_settings(self, asked: IndexSettings, create: bool) -> IndexSettings:
        with _redis_errors(self.location):
            stored = self._stored_settings()
            if stored is None:
                if not create:
                    raise ArchiveError(f"{self.location}: no dedup index under prefix {self.prefix!r}")
                self._create(asked)
                stored = self._stored_settings()
        assert stored is not None
        mismatches = stored.mismatches(asked)
        if mismatches:
            raise ArchiveError(f"{self.location}: index settings differ: {'; '.join(mismatches)}")
        return stored

    def _stored_settings(self) -> IndexSettings | None:
        stored = {_text(k): _text(v) for k, v in self._client.hgetall(self._keys.settings).items()}
        if not stored:
            return None
        if stored.get("format") != FORMAT_MAGIC:
            raise ArchiveError(f"{self.location}: {self._keys.settings} is not a dedup index's settings")
        version = int(stored.get("format_version", "0"))
        if version > FORMAT_VERSION:
            raise ArchiveError(f"{self.location}: index format version {version} is newer than this "
                               f"dedup reads ({FORMAT_VERSION}); upgrade dedup")
        return _settings_from_hash(stored, self.location)

    def _create(self, settings: IndexSettings) -> None:
        """Write the settings of a new index unless another opener was first."""
        def create(pipe: Any) -> None:
            if pipe.exists(self._keys.settings):
                return
            if self._prefix_holds_keys(pipe):
                raise ArchiveError(f"{self.location}: prefix {self.prefix!r} holds keys but no dedup "
                                   f"index settings: not a dedup index (choose another ?prefix=)")
            pipe.multi()
            pipe.hset(self._keys.settings, mapping=_settings_hash(settings))

        self._client.transaction(create, self._keys.settings)

    def _prefix_holds_keys(self, client: Any) -> bool:
        for _ in client.scan_iter(match=f"{self.prefix}:*", count=1000):
            return True
        return False

    # --- writers ------------------------------------------------------------------------

    def put(self, doc_id: str, rows: PassageRows, metadata: dict[str, Any] | None = None) -> None:
        """Store a document, replacing any stored under `doc_id` in one transaction."""
        self._check_band_keys(rows.band_keys, len(rows))
        with _redis_errors(self.location):
            first = self._allocate_passage_ids(len(rows))
            new = _Document(first, np.asarray(rows.norm_hash, dtype=np.int64),
                            np.asarray(rows.band_keys, dtype=np.uint32), self._checked_metadata(doc_id, metadata))
            doc_key = self._keys.document(doc_id)

            def replace(pipe: Any) -> None:
                old = self._read_document(pipe, doc_id)
                pipe.multi()
                if old is not None:
                    self._queue_removal(pipe, doc_id, old)
                self._queue_addition(pipe, doc_id, new, rows)
                self._queue_count_changes(pipe, old, new)

            self._client.transaction(replace, doc_key)

    def delete(self, doc_id: str) -> bool:
        """Remove a document in one transaction; False when it was not stored."""
        with _redis_errors(self.location):
            def remove(pipe: Any) -> bool:
                old = self._read_document(pipe, doc_id)
                if old is None:
                    return False
                pipe.multi()
                self._queue_removal(pipe, doc_id, old)
                self._queue_count_changes(pipe, old, None)
                return True

            return bool(self._client.transaction(remove, self._keys.document(doc_id), value_from_callable=True))

    def _check_band_keys(self, band_keys: np.ndarray, passages: int) -> None:
        shape = np.shape(band_keys)
        if shape != (passages, self.settings.bands):
            raise ArchiveError(f"{self.location}: band_keys has shape {shape}, expected "
                               f"({passages}, {self.settings.bands})")

    def _checked_metadata(self, doc_id: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
        metadata = metadata or {}
        try:
            _json(metadata)
        except (TypeError, ValueError) as error:
            raise ArchiveError(f"{self.location}: metadata of {doc_id!r} is not JSON: {error}") from None
        return metadata

    def _allocate_passage_ids(self, count: int) -> int:
        """The first of `count` fresh passage ids."""
        if count == 0:
            return 0
        return int(self._client.incrby(self._keys.next_passage, count)) - count + 1

    def _read_document(self, client: Any, doc_id: str) -> _Document | None:
        stored = client.hgetall(self._keys.document(doc_id))
        return _Document.from_hash(stored, self.settings.bands) if stored else None

    def _queue_removal(self, pipe: Any, doc_id: str, old: _Document) -> None:
        ids = list(old.passage_ids)
        if ids:
            pipe.hdel(self._keys.passages, *ids)
        for key, members in self._index_members(old).items():
            pipe.srem(key, *members)
        pipe.delete(self._keys.document(doc_id))
        pipe.srem(self._keys.docs, doc_id)

    def _queue_addition(self, pipe: Any, doc_id: str, new: _Document, rows: PassageRows) -> None:
        if len(rows):
            pipe.hset(self._keys.passages, mapping={
                passage_id: _passage_record(doc_id, rows, k) for k, passage_id in enumerate(new.passage_ids)})
        for key, members in self._index_members(new).items():
            pipe.sadd(key, *members)
        pipe.hset(self._keys.document(doc_id), mapping=new.to_hash())
        pipe.sadd(self._keys.docs, doc_id)

    def _index_members(self, document: _Document) -> dict[str, list[int]]:
        """Band bucket and norm-hash set -> the document's passage ids in it."""
        ids = list(document.passage_ids)
        in_buckets = ((self._keys.bucket(band, value), passage_id)
                      for passage_id, row in zip(ids, document.band_keys.tolist())
                      for band, value in enumerate(row))
        in_hashes = ((self._keys.norm_hash(value), passage_id)
                     for passage_id, value in zip(ids, document.norm_hash.tolist()))
        return _members_by_key([*in_buckets, *in_hashes])

    def _queue_count_changes(self, pipe: Any, old: _Document | None, new: _Document | None) -> None:
        """Per-hash document counts: -1 for hashes only the old version has, +1 for the new."""
        before = set(old.norm_hash.tolist()) if old is not None else set()
        after = set(new.norm_hash.tolist()) if new is not None else set()
        for value in before - after:
            pipe.zincrby(self._keys.document_counts, -1, value)
        for value in after - before:
            pipe.zincrby(self._keys.document_counts, 1, value)
        if before - after:
            pipe.zremrangebyscore(self._keys.document_counts, "-inf", 0)

    # --- readers ------------------------------------------------------------------------

    def lookup(self, band_keys: np.ndarray, norm_hash: np.ndarray) -> list[StoredPassage]:
        """Every stored passage sharing a band key (same band) or a normalized hash with a
        queried passage: one round trip, an atomic snapshot."""
        band_keys = np.asarray(band_keys, dtype=np.uint32)
        if band_keys.size == 0:
            band_keys = band_keys.reshape(0, self.settings.bands)
        self._check_band_keys(band_keys, len(band_keys))
        keys = self._keys.query(band_keys, np.asarray(norm_hash, dtype=np.int64).ravel())
        if not keys:
            return []
        with _redis_errors(self.location):
            records = self._lookup_script(keys=[self._keys.passages, *keys])
        return [_stored_passage(record) for record in records]

    def document_counts(self, norm_hash: np.ndarray) -> np.ndarray:
        """For each normalized hash, in how many stored documents a passage has it."""
        values = np.asarray(norm_hash, dtype=np.int64).ravel().tolist()
        if not values:
            return np.zeros(0, dtype=np.int64)
        with _redis_errors(self.location):
            scores = self._client.zmscore(self._keys.document_counts, values)
        return np.array([int(score or 0) for score in scores], dtype=np.int64)

    def documents(self) -> int:
        with _redis_errors(self.location):
            return int(self._client.scard(self._keys.docs))

    def stats(self) -> dict[str, Any]:
        """documents, passages, band_keys (passages x bands: one key per passage and band),
        bytes (the server's used_memory: Redis does not tell a prefix's share cheaply)."""
        with _redis_errors(self.location):
            pipe = self._client.pipeline(transaction=False)
            pipe.scard(self._keys.docs)
            pipe.hlen(self._keys.passages)
            pipe.info("memory")
            documents, passages, memory = pipe.execute()
        return {"backend": "redis", "location": self.location, "prefix": self.prefix,
                "documents": int(documents), "passages": int(passages),
                "band_keys": int(passages) * self.settings.bands, "bytes": int(memory["used_memory"]),
                "settings": self.settings.to_dict()}

    def vacuum(self) -> None:
        """Nothing to reclaim: every transaction removes what it empties (Redis drops empty
        sets, and zero document counts go in the same transaction)."""

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

