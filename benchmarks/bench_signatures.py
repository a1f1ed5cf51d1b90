"""Raw sentence text -> 128-permutation MinHash signatures, side by side on the same sentences.

Contenders, each timed end to end from the raw sentence strings (word 3-gram shingles):
  dedup                 shingle_texts(word:3) (normalize and shingle, no normalized strings built)
                        + MinHasher.signatures
  dedup, no normalize   shingle_batch(word:3) + MinHasher.signatures on the raw text
  datasketch bulk       Python shingling (str.split + 3-gram join, utf-8 bytes) -> MinHash.bulk
  datasketch update     one MinHash + update_batch per sentence (a subsample, rate extrapolated)
  rensa                 Python shingling (str tokens) -> RMinHash.digest_matrix_from_token_sets
Reference rows (not contenders): dedup through the normalized strings (normalize_many +
shingle_batch + signatures, the Detector's path), Python shingling alone, dedup's normalization
alone, and rensa on prebuilt shingle lists.

Also checks correctness: for a sample of sentences, datasketch.MinHash(num_perm=128, seed=1,
hashfunc=dedup.shingle.shingle_hash) fed dedup.shingle.shingle_strings(normalize(s)) must equal
dedup's signature row from the timed run.

    python benchmarks/bench_signatures.py [--sentences 100000] [--repeats 3] [--retain-freed-memory] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NUM_PERM, SEED, NGRAM = 128, 1, 3


def python_shingles(text: str, n: int = NGRAM) -> list[str]:
    """Word n-grams by str.split and join; a sentence shorter than n words is one shingle
    (as in dedup)."""
    words = text.split()
    if len(words) < n:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=100_000, help="sentences to sketch (default 100000)")
    parser.add_argument("--update-sample", type=int, default=10_000,
                        help="sentences for the slow datasketch update_batch path (default 10000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per contender (median; default 3)")
    parser.add_argument("--verify", type=int, default=300, help="sentences checked against datasketch (default 300)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads rensa may use (RAYON_NUM_THREADS; default 1, like the single-threaded others)")
    parser.add_argument("--seed", type=int, default=0, help="sentence sample seed")
    parser.add_argument("--retain-freed-memory", action="store_true",
                        help="tune glibc, for the whole process and so for every contender, as the dedup command "
                             "tunes it for itself (freed memory kept instead of handed back to the kernel)")
    common.add_output_args(parser)
    args = parser.parse_args(argv)
    common.environment()  # recorded as the run starts
    os.environ.setdefault("RAYON_NUM_THREADS", str(args.threads))  # before rensa is imported
    if args.retain_freed_memory:
        from dedup.cli import _retain_freed_memory

        _retain_freed_memory()

    import numpy as np
    from datasketch import MinHash

    from dedup.normalize import normalize
    from dedup.shingle import ShingleSpec, shingle_batch, shingle_hash, shingle_strings
    from dedup.sketch import MinHasher

    try:
        from rensa import RMinHash
    except ImportError:  # rensa is an optional benchmark dependency
        RMinHash = None

    sentences = common.sample_sentences(args.sentences, seed=args.seed)
    n = len(sentences)
    sub = sentences[: min(args.update_sample, n)]
    spec = ShingleSpec.parse(f"word:{NGRAM}")
    hasher = MinHasher(NUM_PERM, SEED)
    print(f"{n:,} sentences, {sum(map(len, sentences)) / n:.0f} characters and "
          f"{sum(len(s.split()) for s in sentences) / n:.1f} words on average", file=sys.stderr)

    normalize_many = common.normalizer()
    from dedup import shingle as shingle_module

    shingle_texts = getattr(shingle_module, "shingle_texts", None)  # absent before it was written

    def dedup_via_strings():
        return hasher.signatures(shingle_batch(normalize_many(sentences), spec))

    def dedup_full():
        if shingle_texts is None:
            return dedup_via_strings()
        return hasher.signatures(shingle_texts(sentences, spec))

    def dedup_raw():
        return hasher.signatures(shingle_batch(sentences, spec))

    def datasketch_bulk():
        encoded = ([g.encode("utf-8") for g in python_shingles(s)] for s in sentences)
        return MinHash.bulk(encoded, num_perm=NUM_PERM, seed=SEED)

    def datasketch_update():
        out = []
        for s in sub:
            m = MinHash(num_perm=NUM_PERM, seed=SEED)
            m.update_batch([g.encode("utf-8") for g in python_shingles(s)])
            out.append(m)
        return out

    def rensa_e2e():
        return RMinHash.digest_matrix_from_token_sets((python_shingles(s) for s in sentences), NUM_PERM, SEED)

    contenders = {
        "dedup": dedup_full,
        "dedup, no normalize": dedup_raw,
        "datasketch bulk": datasketch_bulk,
        f"datasketch update ({len(sub):,})": datasketch_update,
    }
    if RMinHash is not None:
        contenders["rensa"] = rensa_e2e

    # reference rows, timed in the same rounds
    prebuilt: list[list[str]] = []

    def shingling_only():
        return [python_shingles(s) for s in sentences]

    def normalize_only():
        return normalize_many(sentences)

    def normalize_each():
        return [normalize(s) for s in sub]

    references = {"ref: dedup via normalized strings": dedup_via_strings,
                  "ref: Python shingling only": shingling_only, "ref: dedup normalization only": normalize_only,
                  f"ref: dedup normalize() per sentence ({len(sub):,})": normalize_each}
    if RMinHash is not None:
        def rensa_prebuilt():
            return RMinHash.digest_matrix_from_token_sets(prebuilt, NUM_PERM, SEED)
        references["ref: rensa on prebuilt shingle lists"] = rensa_prebuilt

    kept: dict[str, object] = {}

    def keep(name, result):
        if name == "dedup":
            kept[name] = result

    prebuilt = shingling_only()
    times = common.interleaved({**contenders, **references}, repeats=args.repeats, keep=keep)
    del prebuilt[:]

    counts = {name: (len(sub) if name.endswith(f"({len(sub):,})") else n) for name in times}
    rates = {name: counts[name] / common.median(t) for name, t in times.items()}

    # correctness: dedup's rows equal datasketch's MinHash with our hash function
    signatures = kept["dedup"]
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(n, size=min(args.verify, n), replace=False)
    mismatched = []
    for i in picks.tolist():
        m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=shingle_hash)
        m.update_batch(shingle_strings(normalize(sentences[i]), spec))
        if not np.array_equal(np.asarray(m.hashvalues, dtype=np.uint32), signatures[i]):
            mismatched.append(i)
    verified = f"{len(picks) - len(mismatched)}/{len(picks)} sampled rows equal datasketch MinHash(hashfunc=shingle_hash)"

    ds_names = [k for k in contenders if k.startswith("datasketch")]
    ds_best = max(ds_names, key=lambda k: rates[k])
    rows = []
    for name in times:
        ratio_ds = rates[name] / rates[ds_best]
        ratio_rensa = rates[name] / rates["rensa"] if "rensa" in rates else float("nan")
        t = times[name]
        rows.append([name, counts[name], common.median(t), min(t), max(t), rates[name], ratio_ds, ratio_rensa])
    headers = ["approach", "sentences", "median s", "min s", "max s", "sentences/s", "x datasketch best", "x rensa"]
    goals = {
        "dedup / datasketch fastest >= 10": rates["dedup"] / rates[ds_best],
    }
    if "rensa" in rates:
        goals["dedup / rensa >= 2"] = rates["dedup"] / rates["rensa"]
    notes = [
        f"same {n:,} real sentences for every contender, num_perm={NUM_PERM}, seed={SEED}, word {NGRAM}-grams; "
        f"median of {args.repeats} interleaved runs; datasketch's fastest path here: {ds_best}",
        f"rows marked ({len(sub):,}) are timed on the first {len(sub):,} sentences and their rate extrapolated",
        (f"rensa threads: RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS')}; rensa's output is its digest matrix "
         "(not converted to numpy); datasketch's is a list of MinHash objects") if RMinHash is not None
        else "rensa is not installed: its rows are left out (pip install rensa)",
        "verification: " + verified + (f" (MISMATCH at {mismatched[:10]})" if mismatched else ""),
        "allocator: " + ("glibc keeping freed memory for every contender (--retain-freed-memory, as the dedup "
                         "command does)" if args.retain_freed_memory else "glibc defaults (see --retain-freed-memory)"),
    ] + [f"goal {k}: {v:.2f}x {'met' if v >= float(k.split('>=')[1]) else 'NOT met'}" for k, v in goals.items()]
    results = {
        "sentences": n,
        "update_sample": len(sub),
        "repeats": args.repeats,
        "times_s": times,
        "sentences_per_s": rates,
        "datasketch_fastest": ds_best,
        "ratios": goals,
        "verified_rows": len(picks) - len(mismatched),
        "verify_sample": len(picks),
        "mismatched": mismatched,
        "rensa_threads": os.environ.get("RAYON_NUM_THREADS"),
        "retain_freed_memory": args.retain_freed_memory,
    }
    common.emit(args, "MinHash signatures from raw sentences", headers, rows, results, notes)
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
