"""Configuration: ``.dedup.toml``, ``dedup.toml``, or ``[tool.dedup]`` in ``pyproject.toml``.

Discovery works like ruff's: walk up from the checked paths to the filesystem root and take
the first directory holding a config file (``.dedup.toml`` > ``dedup.toml`` > a
``pyproject.toml`` with a ``[tool.dedup]`` table). The closest file wins whole: nothing is
merged across files. Keys are kebab-case in TOML and snake_case on `Config`; command-line
flags win over the file through `Config.with_overrides`, validated the same way.

Which findings are reported is chosen by rule code, as in ruff: ``select`` and ``ignore`` hold
selectors of `dedup.rules` (``ALL``, ``DD003``, a prefix such as ``DD``, or a kind's name);
``per-file-ignores`` takes the same selectors per glob. The older ``kinds`` list still applies
on top of them.

Every problem is a `ConfigError` with a one-line message naming the file and the key.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from pathspec import GitIgnoreSpec

from .editorial import EditorialRules
from .formats import FORMATS
from .model import Finding
from .normalize import PROFILE, normalize_many
from .readers.errors import InputError, printable
from .readers.limits import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_RECORD_BYTES, ReadLimits, parse_size, read_file
from .rules import ALL, SelectorError, kinds_of, normalize_selector, selected_kinds
from .shingle import ShingleSpec
from .verify import KINDS, Thresholds

CONFIG_FILES = (".dedup.toml", "dedup.toml", "pyproject.toml")
"""Config file names in order of precedence within one directory."""
PYPROJECT = "pyproject.toml"
LEVELS = ("error", "warning", "info")
"""Severity levels, most severe first."""
ALL_KINDS = "all"
"""In ``per-file-ignores``, stands for every kind (as ``ALL`` does)."""

DEFAULT_SEVERITY: Mapping[str, str] = {
    "exact": "error", "normalized": "error", "near": "warning", "contained": "warning", "conflict": "error",
}
DEFAULT_INCLUDE = ("*.md", "*.markdown", "*.mdx", "*.html", "*.htm", "*.txt")
DEFAULT_EXCLUDE = (".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", ".dedup")


STRUCTURAL_CHOICES = ("omit", "info")
MAX_NUM_PERM = 1024
"""More permutations buy no accuracy a news check can use, and cost time and memory in proportion."""
MAX_MIN_WORDS = 1000
MAX_SHINGLE_N = 32
MAX_CONFIG_BYTES = 1024 * 1024
"""A configuration file is a few hundred bytes; one over a MiB is refused, not parsed."""


class ConfigError(Exception):
    """A configuration file or value that cannot be used (the command exits 2); one-line message."""


@dataclass(frozen=True)
class Config:
    """Every resolved setting; the defaults are what a run without a config file uses."""

    threshold: float = 0.4
    min_words: int = 5  # shorter passages are matched only for exact repeats
    num_perm: int = 128
    shingles: str = "word:1"
    kinds: tuple[str, ...] = KINDS  # the kinds reported (with select and ignore)
    select: tuple[str, ...] = (ALL,)  # rule selectors to report (dedup.rules)
    ignore: tuple[str, ...] = ()  # rule selectors not to report
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    fail_on: str = "warning"  # findings at or above this level fail the run
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True  # skip what .gitignore and .git/info/exclude list
    force_exclude: bool = False  # apply exclude and .gitignore to files named on the command line too
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # glob -> kinds
    allowlist: tuple[str, ...] = ()  # boilerplate sentences, compared after normalization
    allowlist_patterns: tuple[re.Pattern[str], ...] = ()  # searched in the later passage's raw text
    normalization: str = PROFILE
    id_field: str = "id"
    text_field: str = "text"
    format: str = "text"
    structural: str = "omit"  # repeats by design (standfirst restated, pull quote): "omit" or "info"
    max_file_size: int = DEFAULT_MAX_FILE_BYTES  # bytes per file (standard input too); 0: no limit
    max_record_size: int = DEFAULT_MAX_RECORD_BYTES  # bytes per JSONL or CSV record; 0: no limit

    @property
    def excluded(self) -> tuple[str, ...]:
        """`exclude` and `extend_exclude` together."""
        return self.exclude + tuple(g for g in self.extend_exclude if g not in self.exclude)

    @property
    def reported_kinds(self) -> tuple[str, ...]:
        """The kinds reported: selected by `select` and `ignore`, and listed in `kinds`."""
        return tuple(kind for kind in selected_kinds(self.select, self.ignore) if kind in self.kinds)

    def with_overrides(self, **values: Any) -> Config:
        """A copy with command-line `values` (snake_case names; None means not given) winning.

        ``severity`` entries override this config's per kind, and ``extend_exclude`` and
        ``ignore`` add to this config's, as in the file; every other value replaces the file's.
        A given ``select`` starts the selection afresh, dropping this config's ``ignore`` (as
        ruff's ``--select`` does); an ``ignore`` given with it applies.
        """
        given = {name: value for name, value in values.items() if value is not None}
        unknown = sorted(given.keys() - _VALIDATORS.keys())
        if unknown:
            raise TypeError(f"Config.with_overrides() got unknown setting {unknown[0]!r}")
        base = dataclasses.replace(self, ignore=()) if "select" in given else self
        return _apply(base, given, _Source("command line", cli=True))

    @property
    def read_limits(self) -> ReadLimits:
        """The size limits the readers apply."""
        return ReadLimits(self.max_file_size, self.max_record_size)

    def detector_settings(self) -> dict[str, Any]:
        """Keyword arguments for ``dedup.Detector(**...)``."""
        return {
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "shingles": self.shingles,
            "verify": dataclasses.replace(Thresholds(), min_words=self.min_words),
            "editorial": EditorialRules(report_structural=self.structural == "info"),
        }


# --- discovery ----------------------------------------------------------------------------

def find_config(start: Path) -> Path | None:
    """The config file of the closest directory from `start` (a directory) up to the root.

    A pyproject.toml counts only with a ``[tool.dedup]`` table; one that is not valid TOML
    is a ConfigError, as in ruff.
    """
    start = Path(start).resolve()
    for directory in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if _is_file(candidate) and (name != PYPROJECT or _has_dedup_table(candidate)):
                return candidate
    return None


def _is_file(candidate: Path) -> bool:
    """Whether a config file stands at `candidate`; ConfigError when its folder cannot be
    searched (a config file there would be missed without a word)."""
    try:
        return candidate.is_file()
    except OSError as err:
        if not isinstance(err, PermissionError):
            return False  # a name too long, a loop of links: the path itself is reported when it is read
        raise ConfigError(f"{printable(str(candidate.parent))}: cannot look for a configuration file: "
                          f"{err.strerror or err} (use --config FILE or --isolated)") from None


def config_for(paths: Sequence[str], cwd: Path) -> tuple[Config, Path | None]:
    """The config for checking `paths` (``-`` is standard input: `cwd`), and its file.

    It is found from the common parent of the paths: directories themselves, files' parents.
    Relative paths in `Config.per_file_ignores` are relative to the file's directory.
    """
    source = find_config(_common_parent(paths, Path(cwd)))
    return (Config() if source is None else load_config(source)), source


def _common_parent(paths: Sequence[str], cwd: Path) -> Path:
    directories = [cwd if p == "-" else _directory_of(cwd / p) for p in paths]
    if not directories:
        return cwd
    return Path(os.path.commonpath([os.path.abspath(d) for d in directories]))


def _directory_of(path: Path) -> Path:
    try:
        return path if path.is_dir() else path.parent
    except OSError:  # a folder on the way may not be searched: look from the one above
        return path.parent


def _has_dedup_table(pyproject: Path) -> bool:
    return _dedup_table(_read_toml(pyproject)) is not None


def _dedup_table(pyproject: Mapping[str, Any]) -> Any:
    """The value of ``tool.dedup`` in a parsed pyproject.toml, or None."""
    tool = pyproject.get("tool")
    return tool.get("dedup") if isinstance(tool, dict) else None


# --- loading and validation ---------------------------------------------------------------

@dataclass(frozen=True)
class _Source:
    """Where values come from, for error messages."""

    name: str  # the file, or "command line"
    table: str = ""  # "[tool.dedup]", or "" for the top level of the file
    cli: bool = False

    def key(self, name: str) -> str:
        kebab = name.replace("_", "-")
        return f"--{kebab}" if self.cli else repr(kebab)

    def where(self) -> str:
        return f"in {self.table}" if self.table else "at the top level"


class _Invalid(Exception):
    """A value's problem, raised by a validator; becomes a ConfigError naming file and key."""


def load_config(path: Path) -> Config:
    """Read and validate the config file `path` (a pyproject.toml's ``[tool.dedup]`` table)."""
    data = _read_toml(path)
    source = _Source(str(path))
    if path.name == PYPROJECT:
        data = _dedup_table(data)
        source = _Source(str(path), "[tool.dedup]")
        if data is None:
            data = {}
        elif not isinstance(data, dict):
            raise ConfigError(f"{path}: [tool.dedup] must be a table, not {_type_name(data)}")
    return _apply(Config(), _snake_case_keys(data, source), source)


def _read_toml(path: Path) -> dict[str, Any]:
    shown = printable(str(path))
    try:
        data = read_file(str(path), shown, MAX_CONFIG_BYTES, "for a configuration file")
    except InputError as err:
        raise ConfigError(str(err)) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{shown}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{shown}: invalid TOML: not UTF-8 ({err.reason} at byte {err.start})") from None
    except RecursionError:
        raise ConfigError(f"{shown}: invalid TOML: arrays or tables nested too deeply") from None


def _snake_case_keys(table: Mapping[str, Any], source: _Source) -> dict[str, Any]:
    known = [name.replace("_", "-") for name in _VALIDATORS]
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{source.name}: unknown key {key!r} {source.where()}{_did_you_mean(key, known)}")
        values[key.replace("-", "_")] = value
    return values


def _apply(base: Config, values: Mapping[str, Any], source: _Source) -> Config:
    """`base` with `values` (snake_case names) validated and merged in."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        try:
            parsed = _VALIDATORS[name](value)
        except _Invalid as problem:
            where = "" if source.cli else f" {source.where()}"
            raise ConfigError(f"{source.name}: invalid {source.key(name)}{where}: {problem}") from None
        changes[name] = _merge(name, getattr(base, name), parsed)
    return dataclasses.replace(base, **changes)


def _merge(name: str, current: Any, given: Any) -> Any:
    """Given severity entries override per kind; extend-exclude and ignore add; others replace."""
    if name == "severity":
        return {**current, **given}
    if name in ("extend_exclude", "ignore"):
        return current + tuple(g for g in given if g not in current)
    return given


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            tuple: "an array", dict: "a table"}.get(type(value), type(value).__name__)


# --- validators: raw value -> stored value, or _Invalid ------------------------------------

def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
        raise _Invalid(f"must be a number in (0, 1], not {_show(value)}")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {_show(value)}")
    return value


def _positive_int(value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise _Invalid(f"must be a positive integer up to {most}, not {_show(value)}")
    return value


def _size(value: Any) -> int:
    """A size in bytes: an integer, or a string such as "64 MiB"; 0 means no limit."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Invalid(f"must be a size such as \"64 MiB\" or a number of bytes, not {_show(value)}")
    try:
        return parse_size(value)
    except ValueError as err:
        raise _Invalid(str(err)) from None


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid(f"must be a non-empty string, not {_show(value)}")
    return value


def _shingle_spec(value: Any) -> str:
    try:
        spec = ShingleSpec.parse(_string(value))
    except ValueError:
        raise _Invalid(f"expected word:N or char:N, not {_show(value)}") from None
    if spec.n > MAX_SHINGLE_N:
        raise _Invalid(f"N must be from 1 to {MAX_SHINGLE_N}, not {_show(value)}")
    return str(spec)


def _string_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise _Invalid(f"must be an array of non-empty strings, not {_show(value)}")
    return tuple(dict.fromkeys(value))


def _globs(value: Any) -> tuple[str, ...]:
    """An array of gitignore-style globs, each one that pathspec can compile."""
    globs = _string_list(value)
    for glob in globs:
        _glob(glob)
    return globs


def _glob(glob: str) -> str:
    try:
        _glob_spec(glob)
    except (ValueError, re.error) as err:
        raise _Invalid(f"invalid glob {_show(glob)}: {err}") from None
    return glob


def _choice(value: Any, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        hint = _did_you_mean(value, choices) if isinstance(value, str) else ""
        raise _Invalid(f"unknown {what} {_show(value)}, expected one of {', '.join(choices)}{hint}")
    return value


def _kinds(value: Any) -> tuple[str, ...]:
    return tuple(_choice(kind, KINDS, "kind") for kind in _string_list(value))


def _level(value: Any) -> str:
    return _choice(value, LEVELS, "level")


def _severity(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"must be a table of kind = level, not {_show(value)}")
    return {_choice(kind, KINDS, "kind"): _level(level) for kind, level in value.items()}


def _selectors(value: Any) -> tuple[str, ...]:
    """Rule selectors (``ALL``, ``DD003``, ``DD``, ``near``), in their written form."""
    try:
        return tuple(dict.fromkeys(normalize_selector(s) for s in _string_list(value)))
    except SelectorError as err:
        raise _Invalid(str(err)) from None


def _selector_kinds(value: Any) -> tuple[str, ...]:
    """The kinds a list of selectors (or ``all``) names, in the order of the kinds."""
    listed = _string_list(value)
    if ALL_KINDS in listed:
        return KINDS
    named = {kind for selector in _selectors(listed) for kind in kinds_of(selector)}
    return tuple(kind for kind in KINDS if kind in named)


def _per_file_ignores(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"must be a table of glob = [rule codes or kinds], not {_show(value)}")
    return {_glob(_string(glob)): _selector_kinds(selectors) for glob, selectors in value.items()}


def _allowlist(value: Any) -> tuple[str, ...]:
    sentences = _string_list(value)
    for sentence, normalized in zip(sentences, normalize_many(list(sentences))):
        if not normalized:
            raise _Invalid(f"entry {_show(sentence)} has no words")
    return sentences


def _patterns(value: Any) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in _string_list(value):
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise _Invalid(f"invalid regular expression {_show(pattern)}: {err}") from None
    return tuple(compiled)


def _profile(value: Any) -> str:
    return _choice(value, (PROFILE,), "normalization profile")


def _show(value: Any) -> str:
    """A value as the message quotes it: on one line, at most 60 characters."""
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "threshold": _fraction,
    "min_words": lambda value: _positive_int(value, MAX_MIN_WORDS),
    "num_perm": lambda value: _positive_int(value, MAX_NUM_PERM),
    "shingles": _shingle_spec,
    "kinds": _kinds,
    "select": _selectors,
    "ignore": _selectors,
    "severity": _severity,
    "fail_on": _level,
    "include": _globs,
    "exclude": _globs,
    "extend_exclude": _globs,
    "respect_gitignore": _boolean,
    "force_exclude": _boolean,
    "per_file_ignores": _per_file_ignores,
    "allowlist": _allowlist,
    "allowlist_patterns": _patterns,
    "normalization": _profile,
    "id_field": _string,
    "text_field": _string,
    "structural": lambda value: _choice(value, STRUCTURAL_CHOICES, "structural setting"),
    "format": lambda value: _choice(_string(value), tuple(sorted(FORMATS)), "format"),
    "max_file_size": _size,
    "max_record_size": _size,
}


# --- applying the config to findings -------------------------------------------------------

def level_of(kind: str, config: Config) -> str:
    """The severity level of findings of `kind`."""
    return config.severity[kind]


def finding_level(finding: Finding, config: Config) -> str:
    """The severity level of one finding: ``info`` for a structural repeat (a standfirst
    restated in the body, a pull quote), reported only with ``structural = "info"``."""
    return "info" if finding.structural else level_of(finding.kind, config)


def fails(findings: Iterable[Finding], config: Config) -> bool:
    """Is any finding at or above `config.fail_on`?"""
    worst_allowed = LEVELS.index(config.fail_on)
    return any(LEVELS.index(finding_level(f, config)) <= worst_allowed for f in findings)


def filter_findings(findings: list[Finding], config: Config, root: Path | None,
                    cwd: Path | None = None) -> list[Finding]:
    """The findings `config` reports: of its `reported_kinds` (``select``, ``ignore`` and
    ``kinds``), not ignored for the later passage's file, and with neither passage allowlisted.

    `per_file_ignores` globs are relative to `root` (the config file's directory); a finding's
    document id is read as a path relative to `cwd` (default: the working directory).
    """
    reported = set(config.reported_kinds)
    kept = [f for f in findings if f.kind in reported]
    if config.per_file_ignores:
        ignored = _ignored_by_file(kept, config.per_file_ignores, root, Path.cwd() if cwd is None else cwd)
        kept = [f for f, drop in zip(kept, ignored) if not drop]
    if config.allowlist or config.allowlist_patterns:
        kept = [f for f, drop in zip(kept, _allowlisted(kept, config)) if not drop]
    return kept


def _ignored_by_file(findings: list[Finding], ignores: Mapping[str, tuple[str, ...]], root: Path | None,
                     cwd: Path) -> list[bool]:
    relative: dict[str, str] = {}
    ignored = []
    for f in findings:
        doc = f.sentence.doc
        if doc not in relative:
            relative[doc] = _path_from_root(doc, root, cwd)
        ignored.append(any(f.kind in kinds and glob_matches(glob, relative[doc]) for glob, kinds in ignores.items()))
    return ignored


def _path_from_root(doc: str, root: Path | None, cwd: Path) -> str:
    """`doc` as a POSIX path relative to `root` when it lies inside, else as given."""
    if root is not None:
        absolute = Path(os.path.abspath(cwd / doc))
        for path, top in ((absolute, Path(os.path.abspath(root))), (absolute.resolve(), root.resolve())):
            if path.is_relative_to(top):
                return path.relative_to(top).as_posix()
    return Path(doc).as_posix()


def _allowlisted(findings: list[Finding], config: Config) -> list[bool]:
    dropped = [any(p.search(f.sentence.text) for p in config.allowlist_patterns) for f in findings]
    if config.allowlist:
        boilerplate = set(normalize_many(list(config.allowlist)))
        later = normalize_many([f.sentence.text for f in findings])
        earlier = normalize_many([f.match.text for f in findings])
        dropped = [d or a in boilerplate or b in boilerplate for d, a, b in zip(dropped, later, earlier)]
    return dropped


def glob_matches(glob: str, path: str) -> bool:
    """Does the POSIX relative `path` match `glob`? Gitignore style, as file discovery reads
    ``include``/``exclude``: a glob without a slash matches a name at any depth, one with a
    slash is anchored at the root, ``**`` crosses directories, and a glob matching a directory
    matches everything under it."""
    return _glob_spec(glob).match_file(path)


@lru_cache(maxsize=256)
def _glob_spec(glob: str) -> GitIgnoreSpec:
    return GitIgnoreSpec.from_lines([glob])


# --- showing the resolved config ------------------------------------------------------------

def render_config(config: Config, source: Path | None) -> str:
    """Every resolved key as TOML (what ``dedup config --show`` prints); it reads back with
    tomllib to the same values. The first line says which file the values came from."""
    header = f"# from {source}" if source is not None else "# no config file found: defaults"
    lines = [header]
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if not isinstance(value, Mapping):
            lines.append(f"{_toml_key(f.name.replace('_', '-'))} = {_toml_value(value)}")
    for name in ("severity", "per_file_ignores"):
        lines.append(f"\n[{name.replace('_', '-')}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in getattr(config, name).items())
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, re.Pattern):
        return _toml_string(value.pattern)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)  # int, float


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but TOML also forbids a raw DEL)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
