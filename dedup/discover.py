"""File discovery: the files a ``dedup check PATH...`` run reads.

Directories are walked (sorted, depth first, symlinked and hidden directories skipped) and
give the files that match an `include` glob and no `exclude` pattern; excluded and
git-ignored directories are pruned, not descended. Files named on the command line are
always read, unless ``force_exclude`` is set and they are excluded or git-ignored (what
pre-commit needs, as it names every changed file; ruff's ``--force-exclude``).

Patterns use gitignore syntax, and are matched the way git matches them (its ``wildmatch``),
one directory level at a time: a pattern without a ``/`` (but a trailing one) matches the name
of a file or directory at any depth, one with a ``/`` the path relative to `root` (for include
and exclude) or to the directory of its ``.gitignore``; the last matching pattern decides. A
pattern matches an entry itself, never the entries below a directory it matches: a directory
is pruned where it is ignored, so what is below it stays ignored whatever a later ``!``
pattern says (git "cannot re-include a file if a parent directory of that file is
excluded"), and ``*.md`` then ``!/sub/`` keeps ``sub/x.md`` ignored, as git does.
``.gitignore`` files apply to their own directory and below, from the repository root (the
nearest directory holding ``.git``) down, deeper files overriding shallower ones;
``.git/info/exclude`` applies under the whole repository, and a nested repository has its
own. Outside a repository the ``.gitignore`` files inside the walked directory apply.

Only what can be looked at is found, and never silently less: a path that cannot be looked at,
or a directory named on the command line that cannot be listed, is an InputError; a
subdirectory met in the walk that cannot be listed is skipped with a warning naming it.
Special files (FIFOs, devices, sockets) in a walked directory are not files to read.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .readers.errors import InputError, printable

__all__ = ["STDIN", "collect_files"]

STDIN = "-"


def collect_files(paths: Sequence[str], *, include: Sequence[str], exclude: Sequence[str],
                  force_exclude: bool = False, respect_gitignore: bool = True,
                  root: Path | None = None, on_skipped: Callable[[str], None] | None = None) -> list[str]:
    """The files to read for `paths` (files, directories or ``-`` for stdin), in argument order
    and sorted within directories, each once, written as the user wrote its argument
    (``docs`` gives ``docs/a.md``). Raises InputError for a path that does not exist or cannot
    be looked at, and for a directory named in `paths` that cannot be listed.

    A subdirectory found in the walk that cannot be listed (no permission) is skipped with a
    message naming it passed to `on_skipped`; without `on_skipped` it is an InputError."""
    finder = _Finder(_Patterns.parse(include), _Patterns.parse(exclude), force_exclude,
                     _GitIgnores() if respect_gitignore else None, os.path.abspath(root or Path.cwd()),
                     on_skipped)
    found: dict[str, str] = {}  # identity of the file (its real path) -> the path returned for it
    for path in paths:
        for identity, shown in finder.files_of(path):
            found.setdefault(identity, shown)
    return list(found.values())


# --- patterns ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Pattern:
    """One gitignore-syntax pattern."""

    regex: re.Pattern[str]  # the pattern's body as git's wildmatch reads it, to match a whole path or name
    negated: bool  # a "!pattern"
    anchored: bool  # has a "/" before its end: matched against the relative path, else the name
    directories_only: bool  # ends with "/"
    parent: re.Pattern[str] | None = None  # for a pattern ending in "/**": the directory whose contents it matches

    def matches(self, prefix: str, name: str, is_dir: bool) -> bool:
        if self.directories_only and not is_dir:
            return False
        return self.regex.fullmatch(f"{prefix}{name}" if self.anchored else name) is not None

    def matches_all_inside(self, prefix: str, name: str) -> bool:
        """Whether the pattern matches every entry below the directory `name` (``docs/**``)."""
        return self.parent is not None and self.parent.fullmatch(f"{prefix}{name}") is not None


class _Patterns:
    """An ordered list of gitignore-syntax patterns; the last one matching an entry decides."""

    def __init__(self, patterns: Iterable[_Pattern]) -> None:
        self.patterns = tuple(patterns)

    @classmethod
    def parse(cls, lines: Iterable[str]) -> _Patterns:
        """The patterns of `lines`, blank lines and comments left out."""
        return cls(pattern for line in lines if (pattern := _compile(line)) is not None)

    def verdict(self, prefix: str, name: str, is_dir: bool) -> bool | None:
        """Whether the entry `name` of the directory at `prefix` ("" or ending in "/") is
        selected (True), selected then negated (False), or matched by no pattern (None)."""
        for pattern in reversed(self.patterns):
            if pattern.matches(prefix, name, is_dir):
                return not pattern.negated
        return None

    def select(self, prefix: str, name: str, is_dir: bool) -> bool:
        return self.verdict(prefix, name, is_dir) is True

    def select_all_inside(self, prefix: str, name: str) -> bool:
        """Whether every entry below the directory `name` is selected, whatever its name: a
        ``docs/**`` pattern matches the directory and no later pattern is a negation."""
        for pattern in reversed(self.patterns):
            if pattern.negated:
                return False
            if pattern.matches_all_inside(prefix, name):
                return True
        return False

    def select_path(self, path: str, is_dir: bool) -> bool:
        """Whether the relative `path` ("/"-separated), or a directory on the way to it, is selected."""
        *parents, name = path.split("/")
        prefix = ""
        for parent in parents:
            if self.select(prefix, parent, is_dir=True):
                return True
            prefix += parent + "/"
        return self.select(prefix, name, is_dir)

    def without_matching(self, directory: str) -> _Patterns:
        """These patterns less those matching the relative path `directory` (ending in "/")
        or a directory on the way to it."""
        levels = _levels(directory)
        return _Patterns(p for p in self.patterns
                         if not any(p.matches(prefix, name, is_dir=True) for prefix, name in levels))

    def __bool__(self) -> bool:
        return bool(self.patterns)


def _levels(directory: str) -> list[tuple[str, str]]:
    """(prefix, name) of each directory on the relative path `directory`: "a/b/" gives
    ("", "a") and ("a/", "b")."""
    names = directory.strip("/").split("/")
    return [("".join(f"{n}/" for n in names[:i]), name) for i, name in enumerate(names)]


def _compile(line: str) -> _Pattern | None:
    """The pattern of one line of a gitignore-syntax list; None for a blank line, a comment, or
    a pattern git cannot read either (``a\\``, ``[z-a]``: git ignores such a line of a
    .gitignore; include and exclude globs are checked when the configuration is read)."""
    body = _strip_trailing_spaces(line)
    if not body or body.startswith("#") or _ends_in_lone_backslash(body):
        return None
    negated = body.startswith("!")
    body = body[1:] if negated else body  # "\!" and "\#" are escapes that `_wildmatch` reads
    directories_only = body.endswith("/")
    body = body.rstrip("/") if directories_only else body
    anchored = "/" in body
    body = body.lstrip("/")
    if not body:
        return None
    try:
        parent = _wildmatch(body[:-3]) if body.endswith("/**") and not directories_only else None
        return _Pattern(_wildmatch(body), negated, anchored, directories_only, parent)
    except re.error:  # a range backwards, [z-a]
        return None


def _ends_in_lone_backslash(body: str) -> bool:
    """Whether `body` ends in a backslash that escapes nothing (an odd run of them)."""
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1


def _strip_trailing_spaces(line: str) -> str:
    """`line` without its line break and its trailing spaces, unless a backslash escapes one."""
    line = line.rstrip("\r\n")
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line) and not stripped.endswith("\\\\"):
        return stripped + " "
    return stripped


def _wildmatch(body: str) -> re.Pattern[str]:
    """A regular expression that matches (with ``fullmatch``) the paths git's wildmatch matches
    with pattern `body`: ``*`` and ``?`` and ``[...]`` within one path component, a leading
    ``**/`` any leading directories, ``/**/`` zero or more directories, a trailing ``/**``
    everything inside; any other ``**`` is a ``*``."""
    out: list[str] = []
    i, n = 0, len(body)
    if body.startswith("**/"):
        out.append("(?:.*/)?")
        i = 3
    while i < n:
        if body.startswith("/**/", i):
            out.append("/(?:.*/)?")
            i += 4
        elif body.startswith("/**", i) and i + 3 == n:
            out.append("/.+")
            i = n
        elif body[i] == "*":
            while i < n and body[i] == "*":
                i += 1
            out.append("[^/]*")
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[":
            part, i = _character_class(body, i)
            out.append(part)
        elif body[i] == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


_POSIX_CLASSES = {"alnum": "0-9A-Za-z", "alpha": "A-Za-z", "blank": " \\t", "digit": "0-9", "lower": "a-z",
                  "upper": "A-Z", "space": " \\t\\n\\r\\f\\v", "xdigit": "0-9A-Fa-f",
                  "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")}


def _character_class(body: str, start: int) -> tuple[str, int]:
    """The regular expression of the bracket expression at `start` and where it ends; a "["
    that no "]" closes is a "[" to match."""
    i = start + 1
    negated = i < len(body) and body[i] in "!^"
    i += negated
    members: list[str] = []
    first = True
    while i < len(body) and (body[i] != "]" or first):
        first = False
        if body.startswith("[:", i) and (close := body.find(":]", i + 2)) > 0 and body[i + 2:close] in _POSIX_CLASSES:
            members.append(_POSIX_CLASSES[body[i + 2:close]])
            i = close + 2
            continue
        char, i = (body[i + 1], i + 2) if body[i] == "\\" and i + 1 < len(body) else (body[i], i + 1)
        if body.startswith("-", i) and i + 1 < len(body) and body[i + 1] != "]":
            last, i = (body[i + 2], i + 3) if body[i + 1] == "\\" and i + 2 < len(body) else (body[i + 1], i + 2)
            members.append(f"{re.escape(char)}-{re.escape(last)}")
        else:
            members.append(re.escape(char))
    if i >= len(body):
        return re.escape("["), start + 1
    return ("[^/" if negated else "(?!/)[") + "".join(members) + "]", i + 1


# --- .gitignore files --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Rule:
    """One ignore file in force in a directory: its patterns, and the directory's path relative
    to the ignore file's own directory ("" there, else ending in "/")."""

    patterns: _Patterns
    prefix: str

    def below(self, name: str) -> _Rule:
        return _Rule(self.patterns, f"{self.prefix}{name}/")


Rules = tuple[_Rule, ...]


def _is_ignored(rules: Rules, name: str, is_dir: bool) -> bool:
    """Whether entry `name` of a directory is git-ignored there: the deepest ignore file
    with a matching pattern decides."""
    for rule in reversed(rules):
        verdict = rule.patterns.verdict(rule.prefix, name, is_dir)
        if verdict is not None:
            return verdict
    return False


class _GitIgnores:
    """Reads and caches the ignore files of the walked repositories."""

    def __init__(self) -> None:
        self._files: dict[str, _Patterns | None] = {}
        self._inside: dict[str, tuple[Rules, bool]] = {}

    def rules_inside(self, directory: str) -> tuple[Rules, bool]:
        """The ignore rules in force inside real path `directory`, and whether a directory
        from the repository root down to it (the root itself excepted) is ignored."""
        if directory not in self._inside:
            self._inside[directory] = self._rules_from_top(directory)
        return self._inside[directory]

    def _rules_from_top(self, directory: str) -> tuple[Rules, bool]:
        top = _repository_root(directory) or directory
        rules = self._own_rules(top, self._info_exclude(top))
        ignored = False
        current = top
        for name in _parts_below(top, directory):
            ignored = ignored or _is_ignored(rules, name, is_dir=True)
            current = os.path.join(current, name)
            rules = self.descend(rules, name, current)
        return rules, ignored

    def descend(self, rules: Rules, name: str, directory: str) -> Rules:
        """The rules in force in subdirectory `name` (real path `directory`); a nested
        repository (a submodule) starts afresh with its own."""
        if _holds_repository(directory):
            return self._own_rules(directory, self._info_exclude(directory))
        return self._own_rules(directory, tuple(rule.below(name) for rule in rules))

    def _own_rules(self, directory: str, inherited: Rules) -> Rules:
        patterns = self._read(os.path.join(directory, ".gitignore"))
        return inherited if patterns is None else (*inherited, _Rule(patterns, ""))

    def _info_exclude(self, top: str) -> Rules:
        """``.git/info/exclude`` of the repository at `top`, the weakest rule of all."""
        patterns = self._read(os.path.join(top, ".git", "info", "exclude"))
        return () if patterns is None else (_Rule(patterns, ""),)

    def _read(self, path: str) -> _Patterns | None:
        """The patterns of ignore file `path`; None when it is absent, unreadable or has none."""
        if path not in self._files:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    patterns = _Patterns.parse(handle.read().splitlines())
            except OSError:
                patterns = None
            self._files[path] = patterns or None
        return self._files[path]


def _holds_repository(directory: str) -> bool:
    """Whether `directory` is a repository root (``.git`` is a file in worktrees and submodules)."""
    return os.path.lexists(os.path.join(directory, ".git"))


def _repository_root(directory: str) -> str | None:
    """The nearest repository root from `directory` up."""
    current = directory
    while not _holds_repository(current):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return current


def _parts_below(top: str, directory: str) -> list[str]:
    relative = os.path.relpath(directory, top)
    return [] if relative == os.curdir else relative.split(os.sep)


# --- paths -------------------------------------------------------------------------------

def _relative_to(root: str, absolute: str) -> str:
    """`absolute` relative to `root`, with "/" separators; outside `root` the whole path
    without its anchor, so that name patterns still match its names."""
    base = root.rstrip(os.sep) + os.sep
    if absolute == root:
        return ""
    if absolute.startswith(base):
        relative = absolute[len(base):]
    else:
        relative = os.path.splitdrive(absolute)[1].lstrip(os.sep)
    return relative.replace(os.sep, "/")


def _prefix_of(directory: str) -> str:
    """What the paths of a directory's entries start with: "docs" gives "docs/", "." gives ""."""
    if os.path.normpath(directory) == os.curdir:
        return ""
    return directory if directory.endswith(("/", os.sep)) else directory + os.sep


def _is_directory(path: str) -> bool:
    """Whether `path` is a directory; InputError when it does not exist or cannot be looked at
    (a folder on its way that may not be searched), naming it."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        raise InputError(f"{printable(path)}: no such file or directory") from None
    except OSError as err:
        raise InputError(f"{printable(path)}: cannot look at it: {err.strerror or err}") from None


# --- the walk ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Dir:
    """A directory being walked."""

    shown: str  # prefix of the paths returned for its entries: "" or ending in a separator
    real: str  # its real path, to recognize a file reached twice
    rel: str  # its path relative to the root, "" or ending in "/", for include and exclude
    exclude: _Patterns  # the exclude patterns in force inside it
    rules: Rules  # the ignore files in force inside it


class _Finder:
    """Turns one argument into the files it names; see `collect_files`."""

    def __init__(self, include: _Patterns, exclude: _Patterns, force_exclude: bool,
                 gitignores: _GitIgnores | None, root: str, on_skipped: Callable[[str], None] | None) -> None:
        self.include = include
        self.exclude = exclude
        self.force_exclude = force_exclude
        self.gitignores = gitignores
        self.root = root
        self.on_skipped = on_skipped

    def files_of(self, path: str) -> Iterator[tuple[str, str]]:
        """(identity, path as shown) of each file `path` gives."""
        if path == STDIN:
            yield STDIN, STDIN
        elif _is_directory(path):
            if not (self.force_exclude and self._dropped(path, is_dir=True)):
                top = self._top(path)
                if not os.access(path, os.R_OK | os.X_OK):
                    raise InputError(f"{printable(path)}: cannot list the directory: Permission denied")
                yield from self._walk(top)
        elif not (self.force_exclude and self._dropped(path, is_dir=False)):
            yield os.path.realpath(path), path

    def _dropped(self, path: str, is_dir: bool) -> bool:
        """Whether a path named on the command line is excluded or git-ignored."""
        absolute = os.path.abspath(path)
        rel = _relative_to(self.root, absolute)
        if rel and self.exclude.select_path(rel, is_dir):
            return True
        if self.gitignores is None or (is_dir and _holds_repository(absolute)):
            return False  # a repository's root is never ignored by the files around it
        parent, name = os.path.split(absolute)
        rules, parent_ignored = self.gitignores.rules_inside(os.path.realpath(parent))
        return parent_ignored or _is_ignored(rules, name, is_dir)

    def _top(self, path: str) -> _Dir:
        """A directory named on the command line. It is walked even when excluded or ignored;
        inside it, the path patterns that match it are set aside, as they would match all."""
        real = os.path.realpath(path)
        rel = _relative_to(self.root, os.path.abspath(path))
        rel = rel + "/" if rel else ""
        exclude = self.exclude.without_matching(rel) if rel else self.exclude
        rules: Rules = ()
        if self.gitignores is not None:
            rules, ignored = self.gitignores.rules_inside(real)
            if ignored:
                rules = tuple(_Rule(r.patterns.without_matching(r.prefix), r.prefix) if r.prefix else r
                              for r in rules)
        return _Dir(_prefix_of(path), real, rel, exclude, rules)

    def _walk(self, top: _Dir) -> Iterator[tuple[str, str]]:
        """The files under `top`, depth first; an explicit stack, so no depth limit."""
        stack = [self._entries(top)]
        while stack:
            item = next(stack[-1], None)
            if item is None:
                stack.pop()
            elif isinstance(item, _Dir):
                stack.append(self._entries(item))
            else:
                yield item

    def _entries(self, directory: _Dir) -> Iterator[_Dir | tuple[str, str]]:
        """The kept entries of one directory, by name: subdirectories to walk and files."""
        try:
            with os.scandir(directory.shown or os.curdir) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except FileNotFoundError:
            return  # removed meanwhile: nothing in it
        except OSError as err:
            self._skipped(f"{printable(directory.shown.rstrip(os.sep) or os.curdir)}: cannot list the directory: "
                          f"{err.strerror or err}; skipped")
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith(".") and self._keeps(directory, entry.name, is_dir=True):
                    yield self._subdir(directory, entry.name)
            elif entry.is_file() and self._keeps(directory, entry.name, is_dir=False):
                yield self._identity(directory, entry), directory.shown + entry.name

    def _skipped(self, message: str) -> None:
        if self.on_skipped is None:
            raise InputError(message.removesuffix("; skipped"))
        self.on_skipped(message)

    def _keeps(self, directory: _Dir, name: str, is_dir: bool) -> bool:
        if not is_dir and not self.include.select(directory.rel, name, is_dir=False):
            return False
        if directory.exclude.select(directory.rel, name, is_dir):
            return False
        if is_dir and directory.exclude.select_all_inside(directory.rel, name):
            return False  # pruned: it could only give excluded files
        return not _is_ignored(directory.rules, name, is_dir)

    def _subdir(self, parent: _Dir, name: str) -> _Dir:
        real = os.path.join(parent.real, name)
        rules = parent.rules if self.gitignores is None else self.gitignores.descend(parent.rules, name, real)
        return _Dir(f"{parent.shown}{name}{os.sep}", real, f"{parent.rel}{name}/", parent.exclude, rules)

    @staticmethod
    def _identity(directory: _Dir, entry: os.DirEntry[str]) -> str:
        if entry.is_symlink():
            return os.path.realpath(entry.path)
        return os.path.join(directory.real, entry.name)
