"""All-pairs LSH candidates at Jaccard threshold 0.5 for N sentences (default 100k), 128 perms.

Signatures are computed once, untimed (dedup: normalize + word 3-grams + MinHasher), then:
  dedup            band_keys + pairs_from_keys(cap=64) over the signature matrix
  dedup, no cap    the same with the bucket cap off (every pair of every bucket)
  datasketch       MinHashLSH(threshold=0.5, num_perm=128): insert every sentence (insertion
                   session), then query every sentence; the same signatures, handed over as
                   LeanMinHash objects by MinHasher.to_lean_minhash (conversion untimed)
  rensa            RMinHashLSH(0.5, 128, 32 bands) on rensa's own sketches of the same
                   shingle sets (its own hash; it needs bands dividing 128, so 32 x 4, the
                   best such layout by the same error integral): insert_many + query_all;
                   and the flags-only insert_matrix_and_query_duplicate_flags
Pairs are collected as unique (i < j) pairs for every contender (inside the timing). Reports
seconds, ratios, candidate-pair counts (and whether dedup without the cap finds exactly
datasketch's pairs) and peak memory per sentence (tracemalloc for dedup; RSS peak growth for
all, which also sees rensa's Rust allocations).

    python benchmarks/bench_candidates.py [--sentences 100000] [--repeats 3] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NUM_PERM, SEED, THRESHOLD, RENSA_BANDS = 128, 1, 0.5, 32


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=100_000, help="sentences (default 100000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per contender (median; default 3)")
    parser.add_argument("--cap", type=int, default=64, help="dedup's bucket cap (default 64, the Detector's)")
    parser.add_argument("--no-datasketch", action="store_true", help="skip datasketch (slow past 100k)")
    parser.add_argument("--threads", type=int, default=1, help="RAYON_NUM_THREADS for rensa (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="sentence sample seed")
    common.add_output_args(parser)
    args = parser.parse_args(argv)
    common.environment()  # recorded as the run starts
    os.environ.setdefault("RAYON_NUM_THREADS", str(args.threads))

    import numpy as np

    from dedup.candidates import band_keys, optimal_bands, pairs_from_keys
    from dedup.shingle import ShingleSpec, shingle_batch, shingle_strings
    from dedup.sketch import MinHasher

    try:
        from rensa import RMinHash, RMinHashLSH
    except ImportError:
        RMinHash = RMinHashLSH = None

    sentences = common.sample_sentences(args.sentences, seed=args.seed)
    spec = ShingleSpec.parse("word:3")
    hasher = MinHasher(NUM_PERM, SEED)
    normalized = common.normalizer()(sentences)
    keep = np.array([bool(t) for t in normalized])  # an empty text has no shingles to sketch
    normalized = [t for t, k in zip(normalized, keep) if k]
    signatures = hasher.signatures(shingle_batch(normalized, spec))
    n = len(signatures)
    bands, rows = optimal_bands(THRESHOLD, NUM_PERM)
    print(f"{n:,} sentences with shingles (of {len(sentences):,}); bands x rows = {bands} x {rows}", file=sys.stderr)

    def dedup(cap):
        return lambda: pairs_from_keys(band_keys(signatures, bands, rows), cap=cap)

    contenders = {"dedup": dedup(args.cap), "dedup, no cap": dedup(n + 1)}

    if not args.no_datasketch:
        from datasketch import MinHashLSH

        lean = [hasher.to_lean_minhash(row) for row in signatures]

        def datasketch():
            lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
            with lsh.insertion_session() as session:
                for i, m in enumerate(lean):
                    session.insert(i, m, check_duplication=False)
            found = set()
            for i, m in enumerate(lean):
                for j in lsh.query(m):
                    if j != i:
                        found.add((i, j) if i < j else (j, i))
            return found

        contenders["datasketch MinHashLSH"] = datasketch

    if RMinHash is not None:
        token_sets = [shingle_strings(t, spec) for t in normalized]
        rensa_objs = RMinHash.from_token_sets(token_sets, NUM_PERM, SEED)
        rensa_matrix = RMinHash.digest_matrix_from_token_sets(token_sets, NUM_PERM, SEED)
        del token_sets

        def rensa_pairs():
            lsh = RMinHashLSH(THRESHOLD, NUM_PERM, RENSA_BANDS)
            lsh.insert_many(rensa_objs)
            found = set()
            for i, keys in enumerate(lsh.query_all(rensa_objs)):
                for j in keys:
                    if j != i:
                        found.add((i, j) if i < j else (j, i))
            return found

        def rensa_flags():
            lsh = RMinHashLSH(THRESHOLD, NUM_PERM, RENSA_BANDS)
            return lsh.insert_matrix_and_query_duplicate_flags(rensa_matrix)

        contenders["rensa RMinHashLSH"] = rensa_pairs
        contenders["rensa flags only"] = rensa_flags

    results_kept: dict[str, object] = {}
    times = common.interleaved(contenders, repeats=args.repeats, keep=lambda k, r: results_kept.__setitem__(k, r))

    def as_codes(found) -> np.ndarray:
        if isinstance(found, np.ndarray):
            return found[:, 0].astype(np.int64) * n + found[:, 1]
        return np.fromiter((i * n + j for i, j in found), dtype=np.int64, count=len(found))

    counts: dict[str, int] = {}
    for name, found in results_kept.items():
        counts[name] = int(sum(found)) if name == "rensa flags only" else len(found)
    agreement = None
    if "datasketch MinHashLSH" in results_kept:
        ours, theirs = as_codes(results_kept["dedup, no cap"]), as_codes(results_kept["datasketch MinHashLSH"])
        agreement = {
            "only_dedup_no_cap": int(len(np.setdiff1d(ours, theirs))),
            "only_datasketch": int(len(np.setdiff1d(theirs, ours))),
        }
    results_kept.clear()

    # peak memory, in separate untimed runs
    memory: dict[str, dict[str, int]] = {}
    traced, _ = common.traced_peak(contenders["dedup"])
    memory["dedup"] = {"tracemalloc_peak": traced}
    for name, fn in contenders.items():
        rss, _ = common.rss_peak_during(fn)
        memory.setdefault(name, {})["rss_peak_growth"] = rss
        del _

    base = "datasketch MinHashLSH" if "datasketch MinHashLSH" in times else None
    med = {k: common.median(v) for k, v in times.items()}
    rows_out = []
    for name in times:
        unit = "flagged sentences" if name == "rensa flags only" else "pairs"
        rows_out.append([
            name, med[name], min(times[name]), max(times[name]),
            med[base] / med[name] if base else float("nan"),
            f"{counts[name]:,} {unit}",
            memory[name].get("tracemalloc_peak", float("nan")) / n if "tracemalloc_peak" in memory[name] else None,
            memory[name]["rss_peak_growth"] / n,
        ])
    headers = ["approach", "median s", "min s", "max s", "x faster than datasketch", "candidates",
               "traced B/sentence", "RSS B/sentence"]
    notes = [
        f"{n:,} real sentences, word 3-grams of normalized text, num_perm={NUM_PERM}, threshold {THRESHOLD}: "
        f"dedup and datasketch use {bands} bands x {rows} rows on the same signatures; "
        + (f"rensa {RENSA_BANDS} x {NUM_PERM // RENSA_BANDS} on its own sketches; " if RMinHash is not None
           else "rensa not installed; ")
        + f"median of {args.repeats} interleaved runs",
        "signature computation and object conversion are not timed; pair collection is",
        "memory: tracemalloc peak of dedup's band_keys + pairs_from_keys (the signature matrix itself, "
        f"{signatures.nbytes / n:.0f} B/sentence, is input and not counted); RSS = peak resident growth during "
        "one run (includes each index and its result set)",
    ]
    if agreement is not None:
        extra, missed = agreement["only_dedup_no_cap"], agreement["only_datasketch"]
        key_bits = 8 * band_keys(signatures[:1], bands, rows).dtype.itemsize
        expected = bands * n * (n - 1) / 2 / 2.0**key_bits  # chance collisions of hashed band keys
        agreement["expected_key_collisions"] = expected
        verdict = ("identical" if extra == missed == 0 else
                   "datasketch's pairs all found" if missed == 0 else "DIFFERENT: dedup misses pairs")
        notes.append(f"dedup without cap vs datasketch pairs: {verdict} ({extra} only in dedup, {missed} only in "
                     f"datasketch; {key_bits}-bit band keys give about {expected:.1f} chance collisions)")
    if base:
        notes.append(f"goal dedup >= 50x datasketch: {med[base] / med['dedup']:.1f}x "
                     f"{'met' if med[base] / med['dedup'] >= 50 else 'NOT met'}")
    traced_per = memory["dedup"]["tracemalloc_peak"] / n
    notes.append(f"goal dedup candidate stage <= 1 KB/sentence: {traced_per:.0f} B traced "
                 f"{'met' if traced_per <= 1024 else 'NOT met'}")
    results = {
        "sentences": n, "bands": bands, "rows": rows, "rensa_bands": RENSA_BANDS, "cap": args.cap,
        "times_s": times, "median_s": med, "candidates": counts, "agreement": agreement, "memory_bytes": memory,
        "memory_per_sentence": {k: {m: v / n for m, v in d.items()} for k, d in memory.items()},
    }
    common.emit(args, "LSH candidate pairs", headers, rows_out, results, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
