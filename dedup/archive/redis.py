"""The Redis backend of the archive index: one index shared by many writers and readers.

Open it with a location such as ``redis://127.0.0.1:6379/0?prefix=news`` (also ``rediss://``
and ``unix://``; every other query parameter goes to the `redis` client). All keys live
under the prefix (default ``dedup``; letters, digits, ``_ . -``):

    {prefix}:settings      hash    format = dedup-archive, key_layout = 2, and every
                                   IndexSettings field
    {prefix}:next          string  the last passage id allocated (INCRBY)
    {prefix}:docs          set     doc ids
    {prefix}:d:{doc_id}    hash    first_passage, passages (its ids are that range), metadata
                                   (JSON), norm_hash (packed <i8), band_keys (packed <u4,
                                   passages x bands, row-major)
    {prefix}:p             hash    passage id -> JSON [doc_id, start, end, line, column, text,
                                   norm_hash]
    {prefix}:b:{band}      hash    band key (4 bytes, <u4) -> the ids of the passages with that
                                   key in band `band` (decimal, comma-separated)
    {prefix}:h             hash    norm hash (8 bytes, <i8) -> the ids of the passages with it
    {prefix}:n             hash    norm hash (8 bytes, <i8) -> number of documents having it
                                   (each document counted once; no zero counts)

So an index is a few dozen keys plus one per document, whatever its size. (Layout 1 had a set
per (band, band key): a key per passage and band, twice as costly to write; `open` refuses an
index of another layout.)

Round trips: `lookup` costs ONE round trip (EVALSHA of a read-only Lua script that reads the
queried id lists, one HMGET per hash, and fetches the passage records, with each passage's
band keys and document count, on the server: an atomic snapshot), whatever the number of
passages; the first call on a server without the script cached costs two more (NOSCRIPT,
then EVAL). `document_counts` is one HMGET; `stats` one pipeline.

Writers: `put` and `put_many` are ONE round trip too, an EVALSHA of a Lua script: `put_many`
sends all its documents in one call, atomic as a whole, which holds the server for about 50
microseconds a passage (Index.add_many sends 512 documents at a time; keep a call well below
Redis's 5 s busy-script threshold, some 100,000 passages). The documents travel as a few
packed arguments: band keys and norm hashes as the packed strings the document hashes keep,
the passage records newline-separated, and their id-list entries grouped by (hash, field) with
numpy. The script allocates the passage ids (INCRBY), removes the old version of each
document (found through its document hash), adds the new one, then writes each touched id
list with one HMGET and one HSET (or HDEL) per hash and thousand fields. `delete` is one call
of a script sharing that code. A script runs atomically, so a reader sees a document whole, in
its old version or its new one, never a mix, without WATCH or retries; passage ids are never
reused. The scripts derive key names from the prefix, so an index needs one Redis server (not
Redis Cluster).
"""
from __future__ import annotations

import json
import re
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
KEY_LAYOUT = "2"
DEFAULT_PREFIX = "dedup"
SCHEMES = ("redis", "rediss", "unix")
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
_CONNECT_TIMEOUT_S = 5.0  # unless the URL sets socket_connect_timeout

# Every script gets ARGV[1] = the prefix and ARGV[2] = bands. Id list `list` (0 .. bands) is
# the hash list_key[list]: the bands' hashes (4-byte fields), then the norm hashes' (8 bytes).
# Lua's `unpack` and struct.unpack put their values on a stack of a few thousand slots: CHUNK
# bounds what one call takes or gives. Passage ids are Lua numbers (exact below 2^53) written
# as decimal texts. Python numbers passages and slots from 0, the Lua tables holding them
# from 1.
_PRELUDE = """
local prefix, bands = ARGV[1], tonumber(ARGV[2])
local passages_key, counts_key = prefix .. ':p', prefix .. ':n'
local list_key = {}
for band = 0, bands - 1 do list_key[band] = prefix .. ':b:' .. band end
list_key[bands] = prefix .. ':h'
local CHUNK = 1000

-- redis.call(command, key, values[lo .. hi]), hi - lo < CHUNK
local function call_chunk(command, key, values, lo, hi)
  return redis.call(command, key, unpack(values, lo, hi))
end
"""

# ARGV[3]: band keys (packed <u4, band-major: bands x queried passages), ARGV[4]: norm hashes
# (packed <i8). Returns, for each passage in the id lists read (each once), its record, its
# band keys (packed <u4, from its document's hash) and the document count of its norm hash.
_LOOKUP_SCRIPT = _PRELUDE + """
-- `count` values of struct format `item` (`width` bytes each) from byte `at` of `packed`.
local function unpack_many(item, width, count, packed, at)
  local values = {}
  for lo = 0, count - 1, CHUNK do
    local n = math.min(CHUNK, count - lo)
    local part = {struct.unpack('<' .. string.rep(item, n), packed, at + width * lo)}
    for i = 1, n do values[lo + i] = part[i] end
  end
  return values
end

local band_keys, norm_hash = ARGV[3], ARGV[4]
local seen, ids = {}, {}

local function collect(key, fields)
  for lo = 1, #fields, CHUNK do
    local lists = call_chunk('HMGET', key, fields, lo, math.min(lo + CHUNK - 1, #fields))
    for i = 1, #lists do
      if lists[i] then
        for id in string.gmatch(lists[i], '[^,]+') do
          if not seen[id] then
            seen[id] = true
            ids[#ids + 1] = id
          end
        end
      end
    end
  end
end

local rows = #band_keys / (4 * bands)
for band = 0, bands - 1 do
  collect(list_key[band], unpack_many('c4', 4, rows, band_keys, 4 * rows * band + 1))
end
collect(list_key[bands], unpack_many('c8', 8, #norm_hash / 8, norm_hash, 1))

local found, norm_fields, documents = {}, {}, {}
for lo = 1, #ids, CHUNK do
  local records = call_chunk('HMGET', passages_key, ids, lo, math.min(lo + CHUNK - 1, #ids))
  for i = 1, #records do
    if records[i] then
      local doc_id = cjson.decode(records[i])[1]
      local doc = documents[doc_id]
      if not doc then
        doc = redis.call('HMGET', prefix .. ':d:' .. doc_id, 'first_passage', 'norm_hash', 'band_keys')
        documents[doc_id] = doc
      end
      local k = tonumber(ids[lo + i - 1]) - tonumber(doc[1])
      found[#found + 1] = records[i]
      found[#found + 1] = string.sub(doc[3], 4 * bands * k + 1, 4 * bands * (k + 1))
      found[#found + 1] = false  -- the count, below
      norm_fields[#norm_fields + 1] = string.sub(doc[2], 8 * k + 1, 8 * k + 8)
    end
  end
end
for lo = 1, #norm_fields, CHUNK do
  local counts = call_chunk('HMGET', counts_key, norm_fields, lo, math.min(lo + CHUNK - 1, #norm_fields))
  for i = 1, #counts do found[3 * (lo + i - 1)] = tonumber(counts[i]) or 0 end
end
return found
"""

# The writers' code. `remove` and `add` write documents and passage records at once and note
# what the id lists and document counts need; write_lists and write_counts then write those,
# one HMGET and one HSET (or HDEL) per touched hash and CHUNK fields. The ids a call adds come
# grouped by (list, field) from Python (see _grouping); those it removes are dropped from the
# lists at the fields their passages had.
_WRITER = _PRELUDE + """
local docs_key = prefix .. ':docs'
local sub, format = string.sub, string.format
local passage_id = {}      -- this call's new passages (1-based) -> id (decimal)
local removed = {}         -- id -> true, for the passages this call removes
local removed_fields = {}  -- list -> field -> true, the fields those passages had
for list = 0, bands do removed_fields[list] = {} end
local removing = false
local count_delta = {}     -- norm hash field -> change of its document count

local function allocate_ids(count)
  if count == 0 then return end
  local first = redis.call('INCRBY', prefix .. ':next', count) - count + 1
  for j = 1, count do passage_id[j] = format('%d', first + j - 1) end
end

-- Counts a document once for each norm hash it has.
local function note_counts(norm_hash, delta)
  local seen = {}
  for at = 1, #norm_hash, 8 do
    local field = sub(norm_hash, at, at + 7)
    if not seen[field] then
      seen[field] = true
      count_delta[field] = (count_delta[field] or 0) + delta
    end
  end
end

-- Removes the stored version of doc_id; false when none is stored.
local function remove(doc_id)
  local doc_key = prefix .. ':d:' .. doc_id
  local stored = redis.call('HMGET', doc_key, 'first_passage', 'passages', 'norm_hash', 'band_keys')
  if not stored[1] then return false end
  local first, count, norm_hash, band_keys = tonumber(stored[1]), tonumber(stored[2]), stored[3], stored[4]
  local ids = {}
  for k = 0, count - 1 do
    local id = format('%d', first + k)
    ids[k + 1] = id
    removed[id] = true
    for band = 0, bands - 1 do
      local at = 4 * (k * bands + band) + 1
      removed_fields[band][sub(band_keys, at, at + 3)] = true
    end
    removed_fields[bands][sub(norm_hash, 8 * k + 1, 8 * k + 8)] = true
  end
  for lo = 1, count, CHUNK do call_chunk('HDEL', passages_key, ids, lo, math.min(lo + CHUNK - 1, count)) end
  note_counts(norm_hash, -1)
  redis.call('DEL', doc_key)
  redis.call('SREM', docs_key, doc_id)
  removing = true
  return true
end

-- Adds a document made of this call's new passages offset + 1 .. offset + count, whose
-- records `next_record` gives.
local function add(doc_id, count, metadata, band_keys, norm_hash, offset, next_record)
  for lo = 0, count - 1, CHUNK do
    local fields, n = {}, 0
    for k = lo, math.min(lo + CHUNK, count) - 1 do
      fields[n + 1], fields[n + 2], n = passage_id[offset + k + 1], next_record(), n + 2
    end
    call_chunk('HSET', passages_key, fields, 1, n)
  end
  note_counts(norm_hash, 1)
  local first = count > 0 and passage_id[offset + 1] or 0
  redis.call('HSET', prefix .. ':d:' .. doc_id, 'first_passage', first, 'passages', count,
             'metadata', metadata, 'norm_hash', norm_hash, 'band_keys', band_keys)
  redis.call('SADD', docs_key, doc_id)
end

local function without_removed(ids)
  local kept, n = {}, 0
  for id in string.gmatch(ids, '[^,]+') do
    if not removed[id] then
      n = n + 1
      kept[n] = id
    end
  end
  if n > 0 then return table.concat(kept, ',') end
end

-- Appends ids[i] ('' for none) to the id list at fields[i] of hash `key`, for i <= n <= CHUNK,
-- dropping removed ids; a list left empty goes.
local function append_ids(key, fields, ids, n)
  local current = call_chunk('HMGET', key, fields, 1, n)
  local set, s, gone, g = {}, 0, {}, 0
  for i = 1, n do
    local old, value = current[i], ids[i]
    if old then value = (value == '' and old) or (old .. ',' .. value) end
    if removing then value = without_removed(value) end
    if value then
      set[s + 1], set[s + 2], s = fields[i], value, s + 2
    elseif old then
      gone[g + 1], g = fields[i], g + 1
    end
  end
  if s > 0 then call_chunk('HSET', key, set, 1, s) end
  if g > 0 then call_chunk('HDEL', key, gone, 1, g) end
end

-- The new passages' grouping at ARGV[at ..]: the bands' fields (packed <u4), the norm
-- hashes' (<i8), each list's first slot and the slot count (<u4), each slot's first passage
-- (<u4), then (slot, passage) for its other passages (<u4 pairs, by slot).
local other_at = 1  -- the next (slot, passage) pair to apply

-- Appends the ids of slots lo .. hi - 1 (0-based), those of list `list`.
local function append_new(list, at, lo, hi)
  local key, only_removed, others = list_key[list], removed_fields[list], ARGV[at + 4]
  local item, width, packed, base = 'c4', 4, ARGV[at], 0
  if list == bands then item, width, packed, base = 'c8', 8, ARGV[at + 1], lo end
  for from = lo, hi - 1, CHUNK do
    local n = math.min(CHUNK, hi - from)
    local fields = {struct.unpack('<' .. string.rep(item, n), packed, width * (from - base) + 1)}
    local firsts = {struct.unpack('<' .. string.rep('I4', n), ARGV[at + 3], 4 * from + 1)}
    local ids = {}
    for i = 1, n do ids[i] = passage_id[firsts[i] + 1] end
    while other_at < #others do
      local slot, j = struct.unpack('<I4I4', others, other_at)
      if slot >= from + n then break end
      ids[slot - from + 1] = ids[slot - from + 1] .. ',' .. passage_id[j + 1]
      other_at = other_at + 8
    end
    if removing then
      for i = 1, n do only_removed[fields[i]] = nil end
    end
    append_ids(key, fields, ids, n)
  end
end

-- Drops the removed ids from the lists of list `list` that append_new did not write.
local function drop_removed(list)
  local fields, ids, n = {}, {}, 0
  for field in pairs(removed_fields[list]) do
    n = n + 1
    fields[n], ids[n] = field, ''
    if n == CHUNK then
      append_ids(list_key[list], fields, ids, n)
      n = 0
    end
  end
  if n > 0 then append_ids(list_key[list], fields, ids, n) end
end

-- Writes the id lists: the new passages' grouping is at ARGV[at ..] (at nil: none).
local function write_lists(at)
  if at then
    local bound = {struct.unpack('<' .. string.rep('I4', bands + 2), ARGV[at + 2], 1)}
    for list = 0, bands do append_new(list, at, bound[list + 1], bound[list + 2]) end
  end
  if removing then
    for list = 0, bands do drop_removed(list) end
  end
end

local function write_counts()
  local fields, n = {}, 0
  for field, delta in pairs(count_delta) do
    if delta ~= 0 then
      n = n + 1
      fields[n] = field
    end
  end
  for lo = 1, n, CHUNK do
    local hi = math.min(lo + CHUNK - 1, n)
    local current = call_chunk('HMGET', counts_key, fields, lo, hi)
    local set, s, gone, g = {}, 0, {}, 0
    for i = lo, hi do
      local count = (tonumber(current[i - lo + 1]) or 0) + count_delta[fields[i]]
      if count > 0 then
        set[s + 1], set[s + 2], s = fields[i], count, s + 2
      else
        gone[g + 1], g = fields[i], g + 1
      end
    end
    if s > 0 then call_chunk('HSET', counts_key, set, 1, s) end
    if g > 0 then call_chunk('HDEL', counts_key, gone, 1, g) end
  end
end
"""

# ARGV[3]: the call's passages, ARGV[4 .. 8]: their grouping (see write_lists), ARGV[9]: their
# band keys (packed <u4, passages x bands), ARGV[10]: their norm hashes (packed <i8), ARGV[11]:
# their records (newline-separated: JSON escapes newlines), then the documents, each as doc_id,
# passages, metadata: their passages follow each other. Returns the number of documents stored.
_PUT_SCRIPT = _WRITER + """
allocate_ids(tonumber(ARGV[3]))
local band_keys, norm_hash, next_record = ARGV[9], ARGV[10], string.gmatch(ARGV[11], '[^\\n]+')
local at, offset, documents = 12, 0, 0
while at <= #ARGV do
  local doc_id, count = ARGV[at], tonumber(ARGV[at + 1])
  remove(doc_id)
  add(doc_id, count, ARGV[at + 2], sub(band_keys, 4 * bands * offset + 1, 4 * bands * (offset + count)),
      sub(norm_hash, 8 * offset + 1, 8 * (offset + count)), offset, next_record)
  at, offset, documents = at + 3, offset + count, documents + 1
end
write_lists(4)
write_counts()
return documents
"""

# ARGV[3]: the doc id. Returns 1 when it was stored, else 0.
_DELETE_SCRIPT = _WRITER + """
local found = remove(ARGV[3])
write_lists(nil)
write_counts()
return found and 1 or 0
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


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class _Keys:
    """The key names Python reads (the scripts derive theirs from the prefix)."""

    prefix: str

    @property
    def settings(self) -> str:
        return f"{self.prefix}:settings"

    @property
    def docs(self) -> str:
        return f"{self.prefix}:docs"

    @property
    def passages(self) -> str:
        return f"{self.prefix}:p"

    @property
    def document_counts(self) -> str:
        return f"{self.prefix}:n"


@dataclass(frozen=True)
class _Document:
    """A document checked for storing: what the put script needs of it."""

    doc_id: str
    rows: PassageRows
    metadata: str  # JSON

    @property
    def band_keys(self) -> np.ndarray:
        return np.asarray(self.rows.band_keys, dtype=np.uint32)

    @property
    def norm_hash(self) -> np.ndarray:
        return np.asarray(self.rows.norm_hash, dtype=np.int64)

    def records(self) -> list[str]:
        """The JSON record of each passage: [doc_id, start, end, line, column, text, norm_hash]."""
        rows, doc_id = self.rows, _json(self.doc_id)
        start, end, line, column, norm_hash = (np.asarray(values, dtype=np.int64).tolist() for values in
                                               (rows.start, rows.end, rows.line, rows.column, rows.norm_hash))
        return [f"[{doc_id},{a},{b},{c},{d},{_json(text)},{h}]"
                for a, b, c, d, text, h in zip(start, end, line, column, rows.text, norm_hash)]


def _put_args(documents: list[_Document], bands: int) -> list[bytes | str | int]:
    """The put script's arguments after prefix and bands, for `documents` (not empty)."""
    band_keys = np.concatenate([d.band_keys for d in documents]).reshape(-1, bands)
    norm_hash = np.concatenate([d.norm_hash for d in documents])
    return [len(norm_hash), *_grouping(band_keys, norm_hash), band_keys.astype("<u4").tobytes(),
            norm_hash.astype("<i8").tobytes(), "\n".join(record for d in documents for record in d.records()),
            *(arg for d in documents for arg in (d.doc_id, len(d.rows), d.metadata))]


def _grouping(band_keys: np.ndarray, norm_hash: np.ndarray) -> list[bytes]:
    """The id-list entries of passages 0 .. (band_keys: passages x bands; norm_hash) grouped
    into slots, one per (list, field), lists being the bands then the norm hashes: the bands'
    fields (packed <u4), the norm hashes' (<i8), each list's first slot then the slot count
    (<u4), each slot's first passage (<u4), and (slot, passage) for its other passages."""
    bands = band_keys.shape[1]
    band_entries = ((np.arange(bands, dtype=np.uint64) << np.uint64(32)) | band_keys.astype(np.uint64)).ravel()
    band_order, band_first = _runs(band_entries)
    hash_order, hash_first = _runs(norm_hash.view(np.uint64))
    passage = np.concatenate([band_order // bands, hash_order])
    first = np.concatenate([band_first, hash_first])
    starts, others = np.flatnonzero(first), np.flatnonzero(~first)
    slot = np.cumsum(first) - 1
    band_fields = band_entries[band_order[band_first]]
    bounds = np.append(np.searchsorted(band_fields >> np.uint64(32), np.arange(bands + 1, dtype=np.uint64)),
                       len(starts))
    return [(band_fields & np.uint64(0xFFFFFFFF)).astype("<u4").tobytes(),
            norm_hash[hash_order[hash_first]].astype("<i8").tobytes(), bounds.astype("<u4").tobytes(),
            passage[starts].astype("<u4").tobytes(),
            np.column_stack([slot[others], passage[others]]).astype("<u4").tobytes()]


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indexes of `keys` in key order, and which of them starts a run of equal keys."""
    order = np.argsort(keys)
    ordered = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return order, first


def _stored_passage(record: bytes, band_keys: bytes, documents: int) -> StoredPassage:
    doc_id, start, end, line, column, text, norm_hash = json.loads(record)
    return StoredPassage(doc_id, start, end, line, column, text, norm_hash, band_keys=band_keys, documents=documents)


def _settings_hash(settings: IndexSettings) -> dict[str, str]:
    return {"format": FORMAT_MAGIC, "key_layout": KEY_LAYOUT,
            **{name: str(value) for name, value in settings.to_dict().items()}}


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
        self._put_script = client.register_script(_PUT_SCRIPT)
        self._delete_script = client.register_script(_DELETE_SCRIPT)
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
        layout = stored.get("key_layout", "1")
        if layout != KEY_LAYOUT:
            raise ArchiveError(f"{self.location}: the index under prefix {self.prefix!r} has Redis key layout "
                               f"{layout}, this dedup reads layout {KEY_LAYOUT} only: rebuild it")
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
        """Store a document, replacing any stored under `doc_id`: one atomic script call."""
        self.put_many([(doc_id, rows, metadata)])

    def put_many(self, items: Iterable[tuple[str, PassageRows, dict[str, Any] | None]]) -> None:
        """Store (doc_id, rows, metadata) documents as `put`s in that order would (of two with
        one id, the later wins), in one atomic script call: all of them or none."""
        documents = [self._checked(*item) for item in items]
        if not documents:
            return
        with _redis_errors(self.location):
            self._put_script(args=[*self._script_args(), *_put_args(documents, self.settings.bands)])

    def delete(self, doc_id: str) -> bool:
        """Remove a document in one atomic script call; False when it was not stored."""
        with _redis_errors(self.location):
            return bool(self._delete_script(args=[*self._script_args(), doc_id]))

    def _script_args(self) -> list[str | int]:
        return [self.prefix, self.settings.bands]

    def _checked(self, doc_id: str, rows: PassageRows, metadata: dict[str, Any] | None) -> _Document:
        self._check_band_keys(rows.band_keys, len(rows))
        try:
            metadata_json = _json(metadata or {})
        except (TypeError, ValueError) as error:
            raise ArchiveError(f"{self.location}: metadata of {doc_id!r} is not JSON: {error}") from None
        return _Document(doc_id, rows, metadata_json)

    def _check_band_keys(self, band_keys: np.ndarray, passages: int) -> None:
        shape = np.shape(band_keys)
        if shape != (passages, self.settings.bands):
            raise ArchiveError(f"{self.location}: band_keys has shape {shape}, expected "
                               f"({passages}, {self.settings.bands})")

    # --- readers ------------------------------------------------------------------------

    def lookup(self, band_keys: np.ndarray, norm_hash: np.ndarray) -> list[StoredPassage]:
        """Every stored passage sharing a band key (same band) or a normalized hash with a
        queried passage, with its band keys and document count: one round trip, an atomic
        snapshot."""
        band_keys = np.asarray(band_keys, dtype=np.uint32)
        if band_keys.size == 0:
            band_keys = band_keys.reshape(0, self.settings.bands)
        self._check_band_keys(band_keys, len(band_keys))
        norm_hash = np.asarray(norm_hash, dtype=np.int64).ravel()
        if len(band_keys) == 0 and len(norm_hash) == 0:
            return []
        with _redis_errors(self.location):
            found = self._lookup_script(args=[*self._script_args(), band_keys.T.astype("<u4").tobytes(),
                                              norm_hash.astype("<i8").tobytes()])
        return [_stored_passage(*found[at:at + 3]) for at in range(0, len(found), 3)]

    def document_counts(self, norm_hash: np.ndarray) -> np.ndarray:
        """For each normalized hash, in how many stored documents a passage has it."""
        packed = np.asarray(norm_hash, dtype=np.int64).ravel().astype("<i8").tobytes()
        if not packed:
            return np.zeros(0, dtype=np.int64)
        with _redis_errors(self.location):
            counts = self._client.hmget(self._keys.document_counts,
                                        [packed[at:at + 8] for at in range(0, len(packed), 8)])
        return np.array([int(count or 0) for count in counts], dtype=np.int64)

    def documents(self) -> int:
        with _redis_errors(self.location):
            return int(self._client.scard(self._keys.docs))

    def stats(self) -> dict[str, Any]:
        """documents, passages, band_keys (passages x bands: one id-list entry per passage and band),
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
        """Nothing to reclaim: every write removes what it empties (empty id lists, zero
        document counts; Redis drops emptied hashes and sets)."""

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
