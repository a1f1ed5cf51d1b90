"""Interoperation with datasketch, for users who already keep MinHashes or an LSH index there.

dedup's signatures are bit-compatible with ``datasketch.MinHash(num_perm, seed,
hashfunc=dedup.shingle.shingle_hash)`` (datasketch 2.x, ``affine32`` permutations; see
`dedup.sketch`), and `lsh_params` chooses the bands and rows that ``datasketch.MinHashLSH``
chooses for a threshold. The engine never imports datasketch: it is an optional extra
(``pip install 'dedup-prose[datasketch]'``), imported here only when a function needs it, with
a one-line error naming the extra when it is missing.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .candidates import optimal_bands
from .sketch import SCHEME

if TYPE_CHECKING:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

INSTALL_HINT = "pip install 'dedup-prose[datasketch]'"


class DatasketchMissing(ImportError):
    """datasketch is needed for this and is not installed."""


def datasketch() -> ModuleType:
    """The datasketch module, or `DatasketchMissing` saying how to install it."""
    try:
        return importlib.import_module("datasketch")
    except ImportError as err:
        raise DatasketchMissing(f"datasketch is not installed; this needs it: {INSTALL_HINT}", name="datasketch") \
            from err


def _row(signature: Any) -> np.ndarray:
    row = np.asarray(signature)
    if row.ndim != 1 or len(row) == 0:
        raise ValueError(f"a signature is one non-empty row of hash values, not an array of shape {row.shape}")
    if row.dtype != np.uint32:
        if not np.issubdtype(row.dtype, np.integer) or row.min() < 0 or row.max() > 0xFFFFFFFF:
            raise ValueError("signature values must be 32-bit unsigned integers (an affine32 MinHash)")
        row = row.astype(np.uint32)
    return row


def to_minhash(signature: Any, seed: int = 1) -> MinHash:
    """One signature row (as `dedup.sketch.MinHasher(num_perm, seed).signatures` gives) as a
    ``datasketch.MinHash`` with the same seed and scheme. Feeding it more strings with
    ``update`` needs ``hashfunc=dedup.shingle.shingle_hash``, which it is given."""
    from .shingle import shingle_hash

    row = _row(signature)
    return datasketch().MinHash(num_perm=len(row), seed=seed, hashfunc=shingle_hash, hashvalues=row, scheme=SCHEME)


def to_lean_minhash(signature: Any, seed: int = 1) -> LeanMinHash:
    """One signature row as a ``datasketch.LeanMinHash``: ready for ``MinHashLSH``,
    ``MinHashLSHForest`` and datasketch's storage backends, and serializable."""
    return datasketch().LeanMinHash(seed=seed, hashvalues=_row(signature), scheme=SCHEME)


def from_minhash(minhash: Any, seed: int = 1) -> np.ndarray:
    """The signature row of a datasketch ``MinHash`` or ``LeanMinHash`` (uint32), checked to be
    comparable with dedup's: the same ``affine32`` scheme and `seed`."""
    scheme = getattr(minhash, "scheme", None)
    if scheme != SCHEME:
        raise ValueError(f"the MinHash uses the {scheme!r} scheme; dedup's signatures are {SCHEME!r}")
    if minhash.seed != seed:
        raise ValueError(f"the MinHash has seed {minhash.seed}; expected {seed}")
    return _row(minhash.hashvalues)


def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """(bands, rows) for a Jaccard `threshold`: those ``datasketch.MinHashLSH(threshold,
    num_perm, weights)`` chooses, and those dedup's candidate search uses. No datasketch needed."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], not {threshold}")
    if num_perm < 1:
        raise ValueError(f"num_perm must be positive, not {num_perm}")
    return optimal_bands(threshold, num_perm, weights[0], weights[1])


def minhash_lsh(threshold: float = 0.4, num_perm: int = 128, **kwargs: Any) -> MinHashLSH:
    """A ``datasketch.MinHashLSH`` banded as dedup bands for `threshold` (`lsh_params`), so it
    finds the candidates dedup's main banding finds; `kwargs` go to ``MinHashLSH``
    (``storage_config`` for Redis or Cassandra, ``prepickle``, ...)."""
    weights = kwargs.pop("weights", (0.5, 0.5))
    params = lsh_params(threshold, num_perm, weights)
    return datasketch().MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights, params=params, **kwargs)


__all__ = ["INSTALL_HINT", "DatasketchMissing", "datasketch", "from_minhash", "lsh_params", "minhash_lsh",
           "to_lean_minhash", "to_minhash"]
