"""The embedded archive backend: one SQLite file (stdlib `sqlite3`), the default `Store`.

Layout (format version `store.FORMAT_VERSION`):

- ``meta(key, value)``: ``format`` = "dedup-archive" and every `IndexSettings` field, each value
  JSON text; the file's ``PRAGMA application_id`` is `APPLICATION_ID`. Both are checked on open.
- ``documents(id, doc_id, metadata, added_at)``: metadata is JSON text (never pickle).
- ``passages(id, document, start, "end", line, "column", text, norm_hash, bands)``: ``bands``
  keeps the passage's band values (uint32 little-endian) so that removing a document can delete
  exactly its `band_keys` rows; rows go with their document (``ON DELETE CASCADE``).
- ``band_keys(key, passage)`` WITHOUT ROWID, key = ``(band index << 32) | band value``: a lookup
  is a primary-key range probe per queried key, and equal values in different bands never meet.
- ``norm_documents(norm_hash, documents)``: in how many documents each normalized hash occurs.

Every `put` / `delete` is one ``BEGIN IMMEDIATE`` transaction, so a killed process leaves the
index as it was before the document or with the whole document. The journal is a WAL: readers
keep reading while one writer writes, and further writers wait up to `BUSY_TIMEOUT_S`.
``synchronous=NORMAL``: with a WAL this is still atomic and consistent after a crash of the
process or of the machine; only the last commits before a power loss may be rolled back, which
an archive that is rebuilt from its sources can afford, and each commit skips an fsync.

A new file is built under a temporary name and linked into place, so an index path never holds
a half-initialized database; an existing file is only read until it is known to be a dedup index.
"""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from dedup.archive.store import FORMAT_VERSION, ArchiveError, IndexSettings, PassageRows, StoredPassage

APPLICATION_ID = 0x44445550  # "DDUP", in the SQLite header (PRAGMA application_id)
FORMAT_NAME = "dedup-archive"
BUSY_TIMEOUT_S = 30.0
CACHE_KIB = 64 * 1024
MMAP_BYTES = 1 << 30  # reads through a memory map: about half the lookup time of read() calls
WAL_CHECKPOINT_PAGES = 10_000  # about 40 MiB of WAL between automatic checkpoints
SQLITE_MAGIC = b"SQLite format 3\x00"
SETTING_NAMES = tuple(field.name for field in fields(IndexSettings))

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents(
    id INTEGER PRIMARY KEY,
    doc_id TEXT UNIQUE NOT NULL,
    metadata TEXT,
    added_at REAL NOT NULL);
CREATE TABLE passages(
    id INTEGER PRIMARY KEY,
    document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    line INTEGER NOT NULL,
    "column" INTEGER NOT NULL,
    text TEXT NOT NULL,
    norm_hash INTEGER NOT NULL,
    bands BLOB NOT NULL);
CREATE INDEX passages_document ON passages(document);
CREATE INDEX passages_norm_hash ON passages(norm_hash);
CREATE TABLE band_keys(
    key INTEGER NOT NULL,
    passage INTEGER NOT NULL,
    PRIMARY KEY(key, passage)) WITHOUT ROWID;
CREATE TABLE norm_documents(norm_hash INTEGER PRIMARY KEY, documents INTEGER NOT NULL);
"""

INSERT_PASSAGE = """INSERT INTO passages(id, document, start, "end", line, "column", text, norm_hash, bands)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
COUNT_NORM_HASH = """INSERT INTO norm_documents(norm_hash, documents) VALUES (?, 1)
                     ON CONFLICT(norm_hash) DO UPDATE SET documents = documents + 1"""
UNCOUNT_NORM_HASHES = """UPDATE norm_documents SET documents = documents - 1
                         WHERE norm_hash IN (SELECT norm_hash FROM passages WHERE document = ?)"""
DROP_UNUSED_NORM_HASHES = """DELETE FROM norm_documents
                             WHERE documents <= 0
                               AND norm_hash IN (SELECT norm_hash FROM passages WHERE document = ?)"""
# ?1: JSON array of band keys, ?2: JSON array of normalized hashes. CROSS JOIN keeps the queried
# values as the outer loop, so each one is a single index probe.
LOOKUP = """
WITH hits(passage) AS (
    SELECT band_keys.passage FROM json_each(?1) AS wanted
        CROSS JOIN band_keys ON band_keys.key = wanted.value
    UNION
    SELECT passages.id FROM json_each(?2) AS wanted
        CROSS JOIN passages ON passages.norm_hash = wanted.value)
SELECT documents.doc_id, passages.start, passages."end", passages.line, passages."column",
       passages.text, passages.norm_hash, passages.bands, COALESCE(norm_documents.documents, 1)
FROM hits
    CROSS JOIN passages ON passages.id = hits.passage
    CROSS JOIN documents ON documents.id = passages.document
    LEFT JOIN norm_documents ON norm_documents.norm_hash = passages.norm_hash
"""
DOCUMENT_COUNTS = """SELECT norm_hash, documents FROM norm_documents
                     WHERE norm_hash IN (SELECT value FROM json_each(?))"""

# Primary SQLite result codes (sqlite3.Error.sqlite_errorcode & 0xFF) that get their own message.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_CORRUPT = 5, 6, 8, 11
SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 13, 14, 26


class SQLiteStore:
    """An archive index in one SQLite file. One connection per object, guarded by a lock, so an
    object may be shared by threads; processes each open their own."""

    def __init__(self, connection: sqlite3.Connection, path: Path, settings: IndexSettings,
                 read_only_reason: str | None) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._lock = threading.Lock()
        self.path = path
        self.location = str(path)
        self.settings = settings
        self.read_only_reason = read_only_reason  # None when writable

    @classmethod
    def open(cls, path: str | Path, settings: IndexSettings, *, create: bool = True,
             readonly: bool = False) -> SQLiteStore:
        """Open the index at `path`, creating it (and its directory) when missing and `create`;
        refuse a file that is not a dedup index, a newer format, or different settings."""
        path = Path(path)
        if not path.exists():
            if not create or readonly:
                raise ArchiveError(f"{path}: no such index")
            _create_index_file(path, settings)
        _check_sqlite_header(path)
        read_only_reason = "opened read-only" if readonly else _read_only_reason(path)
        connection = _connect(path, read_only=read_only_reason is not None)
        try:
            _configure(connection)
            _check_index(connection, path, settings)
            if read_only_reason is None:
                _configure_writer(connection)
        except sqlite3.Error as exc:
            connection.close()
            raise _archive_error(str(path), "open the index", exc) from exc
        except BaseException:
            connection.close()
            raise
        return cls(connection, path, settings, read_only_reason)

    # --- writing ----------------------------------------------------------------------------

    def put(self, doc_id: str, rows: PassageRows, metadata: dict[str, Any] | None = None) -> None:
        """Store a document's passages in one transaction, replacing any stored under `doc_id`."""
        self.put_many([(doc_id, rows, metadata)])

    def put_many(self, items: Sequence[tuple[str, PassageRows, dict[str, Any] | None]]) -> None:
        """Store several documents in one transaction (all of them, or none after a crash), each
        replacing any stored under its id; of two items with one id, the later wins.

        One commit for many documents is what makes building a large index fast: the band-key
        B-tree pages that a commit dirties are shared by the whole batch, inserted in key order."""
        latest = {doc_id: (rows, metadata) for doc_id, rows, metadata in items}
        encoded = []
        for doc_id, (rows, metadata) in latest.items():
            _check_rows(rows, self.settings.bands)
            encoded.append((doc_id, rows, self._encode_metadata(doc_id, metadata)))
        if not encoded:
            return
        action = f"store {encoded[0][0]!r}" if len(encoded) == 1 else f"store {len(encoded)} documents"
        with self._write_transaction(action) as connection:
            next_id = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM passages").fetchone()[0]
            ids, keys = [], []
            for doc_id, rows, metadata_json in encoded:
                _remove_document(connection, doc_id, self.settings.bands)
                document = connection.execute(
                    "INSERT INTO documents(doc_id, metadata, added_at) VALUES (?, ?, ?)",
                    (doc_id, metadata_json, time.time())).lastrowid
                assert document is not None  # an INSERT sets it
                passage_ids = np.arange(next_id, next_id + len(rows), dtype=np.int64)
                next_id += len(rows)
                connection.executemany(INSERT_PASSAGE, _passage_tuples(document, passage_ids, rows))
                connection.executemany(COUNT_NORM_HASH, ((value,) for value in np.unique(rows.norm_hash).tolist()))
                ids.append(passage_ids)
                keys.append(np.asarray(rows.band_keys).reshape(len(rows), self.settings.bands))
            connection.executemany("INSERT INTO band_keys(key, passage) VALUES (?, ?)",
                                   _band_key_pairs(np.concatenate(ids), np.concatenate(keys)))

    def delete(self, doc_id: str) -> bool:
        """Remove a document; False when it was not stored."""
        with self._write_transaction(f"delete {doc_id!r}") as connection:
            return _remove_document(connection, doc_id, self.settings.bands)

    def vacuum(self) -> None:
        """Rebuild the file without the space of removed documents, and empty the WAL."""
        self._refuse_if_readonly("vacuum")
        with self._using("vacuum") as connection:
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- reading ----------------------------------------------------------------------------

    def lookup(self, band_keys: np.ndarray, norm_hash: np.ndarray) -> list[StoredPassage]:
        """Stored passages sharing a band key (same band) or a normalized hash with a queried
        passage, with their band keys and document counts: one query, each passage once."""
        band_keys = np.asarray(band_keys)
        if band_keys.size and (band_keys.ndim != 2 or band_keys.shape[1] != self.settings.bands):
            raise ValueError(f"band_keys of shape {band_keys.shape}, expected (passages, {self.settings.bands})")
        keys = np.unique(_band_key_values(band_keys))
        hashes = np.unique(np.asarray(norm_hash, dtype=np.int64))
        if keys.size == 0 and hashes.size == 0:
            return []
        with self._using("look up passages") as connection:
            rows = connection.execute(LOOKUP, (_json_ints(keys), _json_ints(hashes))).fetchall()
        return [StoredPassage(*row) for row in rows]

    def document_counts(self, norm_hash: np.ndarray) -> np.ndarray:
        """For each normalized hash, in how many stored documents a passage has it (int64)."""
        hashes = np.asarray(norm_hash, dtype=np.int64)
        unique = np.unique(hashes)
        counts = np.zeros(unique.size, dtype=np.int64)
        if unique.size:
            with self._using("count documents per passage") as connection:
                found = connection.execute(DOCUMENT_COUNTS, (_json_ints(unique),)).fetchall()
            if found:
                pairs = np.array(found, dtype=np.int64)
                counts[np.searchsorted(unique, pairs[:, 0])] = pairs[:, 1]
        return counts[np.searchsorted(unique, hashes)]

    def documents(self) -> int:
        """How many documents are stored."""
        return self._count("documents")

    def metadata(self, doc_id: str) -> dict[str, Any] | None:
        """The metadata stored with `doc_id` ({} when none was given); None when not stored."""
        with self._using(f"read {doc_id!r}") as connection:
            row = connection.execute("SELECT metadata FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        return json.loads(row[0]) if row[0] is not None else {}

    def stats(self) -> dict[str, Any]:
        """Counts, size on disk (database file + WAL) and settings."""
        return {
            "backend": "sqlite",
            "location": self.location,
            "documents": self._count("documents"),
            "passages": self._count("passages"),
            "band_keys": self._count("band_keys"),
            "bytes": sum(_file_size(Path(f"{self.path}{suffix}")) for suffix in ("", "-wal")),
            "settings": self.settings.to_dict(),
        }

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.location!r}{', read-only' if self.read_only_reason else ''})"

    # --- helpers ----------------------------------------------------------------------------

    @contextmanager
    def _using(self, action: str) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; SQLite errors become one-line ArchiveErrors."""
        with self._lock:
            if self._connection is None:
                raise ArchiveError(f"{self.location}: index is closed; cannot {action}")
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise _archive_error(self.location, action, exc) from exc

    @contextmanager
    def _write_transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE ... COMMIT; rolled back on any error or interruption."""
        self._refuse_if_readonly(action)
        with self._using(action) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise

    def _refuse_if_readonly(self, action: str) -> None:
        if self.read_only_reason is not None:
            raise ArchiveError(f"{self.location}: index is read-only ({self.read_only_reason}); cannot {action}")

    def _count(self, table: str) -> int:
        with self._using(f"count {table}") as connection:
            return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def _encode_metadata(self, doc_id: str, metadata: dict[str, Any] | None) -> str | None:
        if metadata is None:
            return None
        try:
            return json.dumps(metadata, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ArchiveError(f"{self.location}: metadata of {doc_id!r} is not JSON: {exc}") from exc


# --- opening ------------------------------------------------------------------------------

def _create_index_file(path: Path, settings: IndexSettings) -> None:
    """Write an empty index under a temporary name beside `path`, then link it into place (a
    concurrent creator that wins the race keeps its file; ours is dropped)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot create the index directory: {exc.strerror or exc}") from exc
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        _write_empty_index(draft, settings)
        _link_no_clobber(draft, path)
    except sqlite3.Error as exc:
        raise _archive_error(str(path), "create the index", exc) from exc
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot create the index: {exc.strerror or exc}") from exc
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{draft}{suffix}").unlink(missing_ok=True)


def _write_empty_index(draft: Path, settings: IndexSettings) -> None:
    connection = sqlite3.connect(draft, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute("BEGIN IMMEDIATE")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        meta = {"format": FORMAT_NAME, **settings.to_dict()}
        connection.executemany("INSERT INTO meta(key, value) VALUES (?, ?)",
                               [(key, json.dumps(value)) for key, value in meta.items()])
        connection.execute("COMMIT")
    finally:
        connection.close()  # checkpoints the WAL into the file and removes it


def _link_no_clobber(draft: Path, path: Path) -> None:
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # created meanwhile by another process: open that one
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(draft, path)


def _check_sqlite_header(path: Path) -> None:
    """Refuse, before SQLite touches it, a path that is not an SQLite database."""
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_MAGIC))
    except IsADirectoryError:
        raise ArchiveError(f"{path}: not a dedup index (a directory)") from None
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the index: {exc.strerror or exc}") from exc
    if not header:
        raise ArchiveError(f"{path}: not a dedup index (an empty file)")
    if header != SQLITE_MAGIC:
        raise ArchiveError(f"{path}: not a dedup index (not an SQLite database)")


def _read_only_reason(path: Path) -> str | None:
    """Why the index cannot be written, as far as permissions tell; None when it can."""
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK):
        return "its directory is not writable, and SQLite writes its -wal and -shm files there"
    return None


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit). Read-only when asked; in a
    directory that is not writable, and without a -wal / -shm file there, a WAL database can
    only be read as immutable (no one can be writing it: a writer would have made them)."""
    query = "mode=rw"
    if read_only:
        query = "mode=ro"
        shared_files = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        if not os.access(path.parent, os.W_OK) and not any(file.exists() for file in shared_files):
            query += "&immutable=1"
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, timeout=BUSY_TIMEOUT_S,
                               isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _archive_error(str(path), "open the index", exc) from exc


def _configure(connection: sqlite3.Connection) -> None:
    """Connection settings that write nothing to the file (it may not be ours yet)."""
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


def _configure_writer(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode = WAL")  # set at creation; kept should a tool have changed it
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")


def _check_index(connection: sqlite3.Connection, path: Path, asked: IndexSettings) -> None:
    """Raise unless the database is a dedup index of this format with the `asked` settings."""
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        has_meta = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"{path}: not a dedup index ({exc})") from exc
    if application_id != APPLICATION_ID or not has_meta:
        raise ArchiveError(f"{path}: not a dedup index (an SQLite database of another application)")
    meta = _read_meta(connection, path)
    if meta.get("format") != FORMAT_NAME:
        raise ArchiveError(f"{path}: not a dedup index (no '{FORMAT_NAME}' format marker)")
    _check_version(meta.get("format_version"), path)
    missing = [name for name in SETTING_NAMES if name not in meta]
    if missing:
        raise ArchiveError(f"{path}: damaged dedup index (settings missing: {', '.join(missing)})")
    stored = IndexSettings(**{name: meta[name] for name in SETTING_NAMES})
    mismatches = stored.mismatches(asked)
    if mismatches:
        raise ArchiveError(f"{path}: index settings differ: {'; '.join(mismatches)}")


def _read_meta(connection: sqlite3.Connection, path: Path) -> dict[str, Any]:
    try:
        return {key: json.loads(value) for key, value in connection.execute("SELECT key, value FROM meta")}
    except (ValueError, TypeError) as exc:
        raise ArchiveError(f"{path}: damaged dedup index (meta is not JSON: {exc})") from exc


def _check_version(version: Any, path: Path) -> None:
    if not isinstance(version, int) or isinstance(version, bool):
        raise ArchiveError(f"{path}: damaged dedup index (format version {version!r})")
    if version > FORMAT_VERSION:
        raise ArchiveError(f"{path}: index written by a newer dedup (format version {version}; "
                           f"this dedup reads version {FORMAT_VERSION}); upgrade dedup")
    if version < FORMAT_VERSION:
        raise ArchiveError(f"{path}: index format version {version} is no longer read "
                           f"(this dedup reads version {FORMAT_VERSION}); rebuild the index")


# --- rows ---------------------------------------------------------------------------------

def _check_rows(rows: PassageRows, bands: int) -> None:
    count = len(rows)
    columns = {"start": rows.start, "end": rows.end, "line": rows.line, "column": rows.column,
               "norm_hash": rows.norm_hash}
    uneven = [name for name, column in columns.items() if len(column) != count]
    if uneven:
        raise ValueError(f"PassageRows: {', '.join(uneven)} not of length {count} (the texts)")
    if np.shape(rows.band_keys) != (count, bands):
        raise ValueError(f"PassageRows: band_keys of shape {np.shape(rows.band_keys)}, "
                         f"expected ({count}, {bands})")


def _passage_tuples(document: int, passage_ids: np.ndarray, rows: PassageRows) -> Iterator[tuple]:
    bands = np.ascontiguousarray(rows.band_keys, dtype="<u4")
    return zip(passage_ids.tolist(), [document] * len(rows),
               np.asarray(rows.start, dtype=np.int64).tolist(), np.asarray(rows.end, dtype=np.int64).tolist(),
               np.asarray(rows.line, dtype=np.int64).tolist(), np.asarray(rows.column, dtype=np.int64).tolist(),
               rows.text, np.asarray(rows.norm_hash, dtype=np.int64).tolist(),
               [row.tobytes() for row in bands])


def _band_key_values(band_keys: np.ndarray) -> np.ndarray:
    """(passages, bands) uint32 band values -> int64 keys (band index << 32) | value."""
    if band_keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    if band_keys.ndim != 2:
        raise ValueError(f"band_keys must be (passages, bands), got shape {band_keys.shape}")
    band_index = np.arange(band_keys.shape[1], dtype=np.int64) << 32
    return band_index | band_keys.astype(np.uint32).astype(np.int64)


def _band_key_pairs(passage_ids: np.ndarray, band_keys: np.ndarray) -> Iterable[tuple[int, int]]:
    """(key, passage) rows for band_keys, in key order (faster B-tree inserts and deletes)."""
    band_keys = np.asarray(band_keys)
    if band_keys.size == 0:
        return []
    keys = _band_key_values(band_keys).ravel()
    passages = np.repeat(passage_ids, band_keys.shape[1])
    order = np.argsort(keys, kind="stable")
    return zip(keys[order].tolist(), passages[order].tolist())


def _remove_document(connection: sqlite3.Connection, doc_id: str, bands: int) -> bool:
    """Delete a document, its passages, their band keys, and its share of norm_documents."""
    row = connection.execute("SELECT id FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
    if row is None:
        return False
    document = row[0]
    connection.execute(UNCOUNT_NORM_HASHES, (document,))
    connection.execute(DROP_UNUSED_NORM_HASHES, (document,))
    stored = connection.execute("SELECT id, bands FROM passages WHERE document = ?", (document,)).fetchall()
    if stored:
        passage_ids = np.array([passage for passage, _ in stored], dtype=np.int64)
        band_values = np.frombuffer(b"".join(blob for _, blob in stored), dtype="<u4").reshape(-1, bands)
        connection.executemany("DELETE FROM band_keys WHERE key = ? AND passage = ?",
                               _band_key_pairs(passage_ids, band_values))
    connection.execute("DELETE FROM documents WHERE id = ?", (document,))  # passages: ON DELETE CASCADE
    return True


# --- errors and small things --------------------------------------------------------------

def _archive_error(location: str, action: str, exc: sqlite3.Error) -> ArchiveError:
    """A one-line ArchiveError naming the file, for an SQLite error met while doing `action`."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    reason = " ".join(str(exc).split())
    if code == SQLITE_READONLY:
        return ArchiveError(f"{location}: index is read-only ({reason}); cannot {action}")
    if code == SQLITE_FULL:
        return ArchiveError(f"{location}: disk full ({reason}); cannot {action}, nothing was written")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return ArchiveError(f"{location}: index locked by another process for over {BUSY_TIMEOUT_S:g} s "
                            f"({reason}); cannot {action}")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return ArchiveError(f"{location}: damaged index ({reason}); cannot {action}")
    if code == SQLITE_CANTOPEN:
        return ArchiveError(f"{location}: cannot open the index file or its -wal/-shm beside it "
                            f"({reason}); cannot {action}")
    return ArchiveError(f"{location}: cannot {action}: {reason}")


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (e.g. after SQLITE_FULL); the journal restores the rest


def _json_ints(values: np.ndarray) -> str:
    return json.dumps(values.tolist())


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
