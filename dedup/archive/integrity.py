"""The archive index's integrity check: is the stored index whole and consistent?

`problems` lists what is wrong with an open `Index` (nothing when it passes). For a SQLite
index it reads the file on a connection of its own (read-only, so a check never writes):

- SQLite's own check of every page and b-tree (``PRAGMA quick_check``, or the slower
  ``integrity_check`` that also compares each index with its table when `thorough`),
- the file's format marker (``meta.format``) and that every passage belongs to a stored
  document (``PRAGMA foreign_key_check``),
- when `thorough`, that every band key names a stored passage and that the per-hash document
  counts are positive.

For a Redis index it asks the server for the index's counts (a damaged or missing prefix fails).
The service's ``/readyz`` runs the quick check (cached briefly); benchmarks/kill_service.py runs
the thorough one after each kill.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from .index import Index
from .store import ArchiveError

MAX_PROBLEMS = 5  # SQLite may report thousands of damaged pages: the first few say enough


def problems(index: Index, thorough: bool = False) -> list[str]:
    """What is wrong with `index` (at most a few lines), or [] when it passes."""
    path = getattr(index.store, "path", None)
    if isinstance(path, Path):
        return sqlite_problems(path, thorough)
    try:
        index.store.stats()
    except ArchiveError as err:
        return [str(err)]
    return []


def sqlite_problems(path: Path, thorough: bool = False) -> list[str]:
    """The integrity check of a SQLite index file (see the module docstring)."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as err:
        return [f"{path}: cannot be opened: {err}"]
    try:
        return [f"{path}: {problem}" for problem in _sqlite_checks(connection, thorough)][:MAX_PROBLEMS]
    except sqlite3.Error as err:
        return [f"{path}: the check failed: {err}"]
    finally:
        connection.close()


def _sqlite_checks(connection: sqlite3.Connection, thorough: bool) -> list[str]:
    pragma = "integrity_check" if thorough else "quick_check"
    found = [row[0] for row in connection.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()]
    if found != ["ok"]:
        return [f"damaged: {line}" for line in found]
    fmt = connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    if fmt is None or fmt[0] != '"dedup-archive"':
        return ["not a dedup index (no format marker)"]
    problems = [f"passage {row[1]} belongs to no stored document"
                for row in connection.execute("PRAGMA foreign_key_check(passages)").fetchmany(MAX_PROBLEMS)]
    if thorough:
        orphans = connection.execute("SELECT count(*) FROM band_keys "
                                     "WHERE passage NOT IN (SELECT id FROM passages)").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} band keys name no stored passage")
        bad_counts = connection.execute("SELECT count(*) FROM norm_documents WHERE documents <= 0").fetchone()[0]
        if bad_counts:
            problems.append(f"{bad_counts} passage hashes are counted in no document")
    return problems
