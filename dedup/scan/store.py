"""The scan's folder: its manifest, and the work units each stage leaves on disk.

A work unit is a folder of ``.npy`` arrays (memory-mapped when read back) written by one task
of one stage, finished by a ``DONE.json`` that lists each file's size and CRC-32, written last
and renamed into place. A unit without it was cut off (the run was killed) and is done again;
a unit whose files no longer match it is damage, which `--resume` refuses to build on.
Strings are kept as one UTF-8 blob with byte and character offsets, so that any subset of
them can be read without loading the rest.
"""
from __future__ import annotations

import codecs
import functools
import json
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..readers import InputError
from .output import FORMAT, MANIFEST

DONE = "DONE.json"


class ScanFolderError(InputError):
    """An output folder that a scan cannot use: foreign, damaged, or from another run."""


@dataclass(frozen=True)
class Unit:
    """One task's output folder under the work area (``work/<stage>/<name>``)."""

    path: Path

    def done(self) -> bool:
        return (self.path / DONE).is_file()

    def array(self, name: str, mmap: bool = True) -> np.ndarray:
        path = self.path / f"{name}.npy"
        if not mmap:
            return np.load(path, allow_pickle=False)
        st = path.stat()
        if st.st_size > _CACHED_BYTES:  # a large array: mapped for this call only (its pages count as memory)
            return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
        return _mapped(str(path), st.st_mtime_ns, st.st_size)

    def json(self) -> dict[str, Any]:
        return json.loads((self.path / DONE).read_text(encoding="utf-8"))["meta"]

    def strings(self, name: str) -> StringColumn:
        return StringColumn(self.array(f"{name}.blob"), self.array(f"{name}.bytes"))


_CACHED_BYTES = 1 << 20


@functools.lru_cache(maxsize=4096)
def _mapped(path: str, mtime_ns: int, size: int) -> np.ndarray:
    """A finished unit's small array (bounds, offsets), memory-mapped once per process: a
    task reads those of every unit of a stage. A unit is never rewritten in place: a new one
    has another modification time."""
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


class UnitWriter:
    """Writes a unit: arrays and strings into a fresh folder, then `close` marks it done."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        if unit.path.exists():
            shutil.rmtree(unit.path)
        unit.path.mkdir(parents=True)
        self._files: dict[str, list[int]] = {}

    def array(self, name: str, values: np.ndarray) -> None:
        path = self.unit.path / f"{name}.npy"
        np.save(path, np.ascontiguousarray(values), allow_pickle=False)
        self._files[path.name] = [path.stat().st_size, _crc(path)]

    def strings(self, name: str, values: Sequence[str]) -> None:
        """`values` as one UTF-8 blob with each string's byte offsets."""
        encoded = [v.encode("utf-8", "surrogatepass") for v in values]
        byte_offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=byte_offsets[1:])
        self.array(f"{name}.blob", np.frombuffer(b"".join(encoded), dtype=np.uint8))
        self.array(f"{name}.bytes", byte_offsets)

    def close(self, meta: dict[str, Any] | None = None) -> Unit:
        content = json.dumps({"files": self._files, "meta": meta or {}}, sort_keys=True)
        temporary = self.unit.path / f".{DONE}.tmp"
        temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, self.unit.path / DONE)
        return self.unit


@dataclass(frozen=True)
class StringColumn:
    """Strings stored as a UTF-8 blob with byte offsets."""

    blob: np.ndarray
    byte_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.byte_offsets) - 1

    def take(self, rows: np.ndarray) -> list[str]:
        """The strings of `rows`, each decoded from its bytes."""
        rows = np.asarray(rows, dtype=np.int64)
        view = memoryview(self.blob.data)
        decode = codecs.utf_8_decode
        return [decode(view[a:b], "surrogatepass", True)[0]
                for a, b in zip(self.byte_offsets[rows].tolist(), self.byte_offsets[rows + 1].tolist())]

    def all(self) -> list[str]:
        return self.take(np.arange(len(self)))


def _crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            crc = zlib.crc32(chunk, crc)
    return crc


def check_unit(unit: Unit, shown: str) -> None:
    """ScanFolderError when a finished unit's files are not what it recorded (damage)."""
    try:
        recorded = json.loads((unit.path / DONE).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ScanFolderError(f"{shown}: damaged work file {unit.path / DONE}: unreadable; "
                              "delete the folder and scan again") from None
    for name, (size, crc) in recorded.items():
        path = unit.path / name
        try:
            ok = path.stat().st_size == size and _crc(path) == crc
        except OSError:
            ok = False
        if not ok:
            raise ScanFolderError(f"{shown}: damaged work file {path}: it is not what the scan wrote; "
                                  "delete the folder and scan again")


@dataclass(frozen=True)
class ScanFolder:
    """The output folder of one scan: manifest, results and the work area."""

    root: Path

    @property
    def shown(self) -> str:
        return str(self.root)

    @property
    def work(self) -> Path:
        return self.root / "work"

    def unit(self, stage: str, name: str) -> Unit:
        return Unit(self.work / stage / name)

    def manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ScanFolderError(f"{self.shown}: not a dedup scan output folder (no {MANIFEST})") from None
        except (OSError, ValueError) as err:
            raise ScanFolderError(f"{path}: damaged scan manifest: {err}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ScanFolderError(f"{path}: not a {FORMAT} manifest")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        from ..atomic import write_atomically
        write_atomically(self.root / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    def open(self, manifest: dict[str, Any], resume: bool) -> bool:
        """Make the folder ready for a run with `manifest`: a new or empty folder is started;
        with `resume`, one of the same run is taken up (True). Anything else is refused."""
        if self.root.exists() and not self.root.is_dir():
            raise ScanFolderError(f"{self.shown}: exists and is not a folder")
        if not self.root.exists() or not any(self.root.iterdir()):
            self.root.mkdir(parents=True, exist_ok=True)
            self.write_manifest(manifest)
            return False
        found = self.manifest()
        if not resume:
            raise ScanFolderError(f"{self.shown}: holds a scan already; pass --resume to finish or reuse it, "
                                  "or choose another folder")
        for key in ("inputs", "settings"):
            if found.get(key) != manifest.get(key):
                raise ScanFolderError(f"{self.shown}: the scan there was run with other {key}; "
                                      "choose another folder or scan again without --resume in a new one")
        for unit in self.finished_units():
            check_unit(unit, self.shown)
        return True

    def finished_units(self) -> Iterable[Unit]:
        if not self.work.is_dir():
            return
        for stage in sorted(self.work.iterdir()):
            for path in sorted(stage.iterdir()) if stage.is_dir() else ():
                if (path / DONE).is_file():
                    yield Unit(path)

    def work_bytes(self) -> dict[str, int]:
        """Bytes in the work area, by stage folder."""
        if not self.work.is_dir():
            return {}
        return {stage.name: sum(f.stat().st_size for f in stage.rglob("*") if f.is_file())
                for stage in sorted(self.work.iterdir()) if stage.is_dir()}
