"""The ``dedup index`` commands: keep the archive of published documents (see USAGE)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from .archive.index import DEFAULT_LOCATION, Index
from .config import Config
from .exits import say
from .readers.errors import printable

USAGE = """\
dedup index add PATH... [--index LOCATION]   archive documents (re-adding an id replaces it)
dedup index remove ID... [--index LOCATION]  withdraw documents by id
dedup index stats [--index LOCATION]         documents, passages, size, settings (JSON)
dedup index vacuum [--index LOCATION]        reclaim the space of removed documents

LOCATION is a file (SQLite, default `.dedup/index.sqlite`) or ``redis://host:port/db``.
Documents are read as by `dedup check` (Markdown, HTML, text, JSONL and CSV records).
"""


def add_index_parser(sub: Any, parser_class: type, add_reading_options: Callable[[Any], None],
                     add_config_options: Callable[[Any], None]) -> argparse.ArgumentParser:
    index = sub.add_parser("index", help="keep the archive of published documents that drafts are checked against",
                           description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = index.add_subparsers(dest="index_command", metavar="ACTION", parser_class=parser_class)
    add = actions.add_parser("add", help="archive documents; re-adding an id replaces it",
                             description="Archive the documents of PATH... (files or directories, read as by "
                                         "`dedup check`); a document id already archived is replaced.")
    add.add_argument("paths", nargs="+", metavar="PATH", help="files or directories; - reads standard input")
    add_reading_options(add)
    add.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    remove = actions.add_parser("remove", help="withdraw documents by id",
                                description="Withdraw archived documents by their ids.")
    remove.add_argument("ids", nargs="+", metavar="ID", help="document ids, as `dedup index add` stored them")
    stats = actions.add_parser("stats", help="documents, passages, size and settings, as JSON",
                               description="Print the index's documents, passages, size and settings as JSON.")
    vacuum = actions.add_parser("vacuum", help="reclaim the space of removed documents",
                                description="Reclaim the space of removed documents.")
    for action in (add, remove, stats, vacuum):
        add_location_option(action)
        add_config_options(action)
    return index


def add_location_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", metavar="LOCATION", default=None,
                        help=f"the archive index: a file, or redis://host:port/db (default: {DEFAULT_LOCATION})")


def open_index(location: str | None, config: Config, create: bool) -> Index:
    """The index at `location` (default: DEFAULT_LOCATION), with the configuration's detector settings."""
    return Index.open(location or DEFAULT_LOCATION, create=create, **config.detector_settings())


def run_index(args: argparse.Namespace, config: Config, read: Callable[[], list]) -> int:
    """Run one ``dedup index`` action; returns the exit status."""
    action = args.index_command
    with open_index(args.index, config, create=action == "add") as index:
        if action == "add":
            docs = read()
            passages = index.add_many(docs)
            if not args.quiet:
                say(f"dedup: archived {_count(len(docs), 'document')} ({_count(passages, 'passage')}) "
                    f"in {index.location}; {_count(len(index), 'document')} in all")
        elif action == "remove":
            missing = [doc_id for doc_id in map(printable, args.ids) if not index.remove(doc_id)]
            for doc_id in missing:
                say(f"dedup: warning: {doc_id}: not in {index.location}")
        elif action == "stats":
            say(json.dumps(index.stats(), ensure_ascii=False, indent=2), sys.stdout)
        elif action == "vacuum":
            index.vacuum()
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
