"""The archive index: build time, size on disk, and query latency for one article.

(a) SQLite at scale: an archive built with `Index.add_many` from a cached corpus of
    bench_end_to_end.py (real articles of ../shared/corpora, then spliced synthetic ones) until
    it holds --passages stored passages (every 20th real article held out); then --drafts
    drafts of 30 sentences are checked with `Index.query`, each draft 27 sentences of the
    held-out real articles and 3 garbled copies (20% of the words dropped) of random archived
    passages. The index file is read once before the queries (see `warm_page_cache`). Reports
    build seconds, bytes per passage on disk, query p50/p99, and the share of planted copies
    found.
(b) Redis, side by side with datasketch: on one redis-server (started here on loopback unless
    --redis-url is given), the same --compare-passages sentences are inserted into our Redis
    index (`Index.add_many`, from the documents' text: segmenting and sketching included) and
    into datasketch's `MinHashLSH(storage_config={"type": "redis"})` (its fastest path: an
    insertion session, given LeanMinHash signatures precomputed by dedup, which are
    datasketch-compatible: `insert_ratio`; `insert_ratio_from_text` adds what datasketch needs
    first, `MinHash.bulk` over the lower-cased words of each stored sentence), then
    the same drafts are queried: ours = `Index.query(draft)` (lookup and verification),
    datasketch = `lsh.query(m)` for each of the draft's 30 sentences (candidates only).

    python benchmarks/bench_archive.py [--passages 1000000] [--drafts 200] [--compare-passages 20000]
                                       [--redis-url redis://127.0.0.1:6379/0] [--skip-sqlite] [--skip-redis]
                                       [--keep-index PATH] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import common  # noqa: E402
from bench_end_to_end import build_corpus  # noqa: E402

import dedup  # noqa: E402

DRAFT_SENTENCES, COPIES = 30, 3


def corpus_documents(passages: int) -> list[tuple[str, str]]:
    """Documents of a cached corpus large enough for `passages` stored passages (about 0.9 of
    the sentences are stored: the rest are short or headlines)."""
    size = next((n for n in (100_000, 300_000, 1_000_000, 1_200_000) if 0.9 * n >= passages), 2 * passages)
    path, _ = build_corpus(size, synthesis="spliced")
    docs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            docs.append((record["id"], record["text"]))
    return docs


def garble(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    keep = [w for w in words if rng.random() > 0.2] or words
    return " ".join(keep)


def hold_out(docs: list[tuple[str, str]], drafts: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(documents to archive, sentences of real articles kept out of the archive): every 20th
    real article is held out until there are enough sentences for `drafts` drafts."""
    needed = drafts * (DRAFT_SENTENCES - COPIES)
    archived, held = [], []
    for k, (doc_id, text) in enumerate(docs):
        if len(held) < needed and k % 20 == 0 and not doc_id.startswith("synthetic/"):
            held.extend(s for s in common.split_sentences(text) if len(s.split()) >= 5)
        else:
            archived.append((doc_id, text))
    return archived, held[:needed]


def make_drafts(archived: list[str], fresh: list[str], count: int, seed: int = 99) -> list[tuple[str, set[str]]]:
    """(draft text, the archived sentences planted in it) for `count` drafts: 27 sentences of
    real articles that are not in the archive, and 3 garbled copies of archived sentences."""
    rng = random.Random(seed)
    per_draft = DRAFT_SENTENCES - COPIES
    drafts = []
    for k in range(count):
        sentences = fresh[k * per_draft:(k + 1) * per_draft]
        planted = rng.sample(archived, COPIES)
        for s in planted:
            sentences.insert(rng.randrange(len(sentences) + 1), garble(s, rng))
        drafts.append(("\n".join(s if s.endswith((".", "!", "?", "؟")) else s + "." for s in sentences), set(planted)))
    return drafts


def latencies(index: dedup.Index, drafts: list[tuple[str, set[str]]]) -> tuple[list[float], float]:
    """Seconds per `index.query(draft)`, and the share of planted copies found."""
    seconds, found = [], 0
    index.query(drafts[0][0])  # warm the caches once
    for text, planted in drafts:
        started = time.perf_counter()
        findings = index.query(text)
        seconds.append(time.perf_counter() - started)
        found += len(planted & {f.match.text for f in findings})
    return seconds, found / (len(drafts) * COPIES)


def warm_page_cache(path: Path) -> None:
    """Read the index file once, so that queries find it in the OS page cache, as on a server
    that keeps answering queries (this VM hands idle cache back to the host: a cold index
    costs a disk read per B-tree page a query touches)."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def archived_sentences(index: dedup.Index, docs: list[tuple[str, str]], limit: int = 20000) -> list[str]:
    rows = index.rows_of([dedup.Document(i, t) for i, t in docs[:2000]])
    return [t for r in rows for t in r.text if len(t.split()) >= 10][:limit]



def fill_index(index: "dedup.Index", docs: list[tuple[str, str]], passages: int) -> float:
    """Add `docs` to an empty `index`, 2,000 at a time, until it holds `passages` stored
    passages (an index already filled is left as it is); the seconds it took."""
    started = time.perf_counter()
    stored, used = (0, 0) if len(index) == 0 else (index.stats()["passages"], len(docs))
    while stored < passages and used < len(docs):
        batch = docs[used:used + 2000]
        stored += index.add_many(batch)
        used += len(batch)
        print(f"  built {stored} passages from {used} documents, {time.perf_counter() - started:.0f} s",
              file=sys.stderr, flush=True)
    return time.perf_counter() - started

def sqlite_at_scale(passages: int, drafts_count: int, keep: str | None) -> dict:
    docs, fresh = hold_out(corpus_documents(passages), drafts_count)
    with tempfile.TemporaryDirectory(dir=common.RESULTS) as tmp:
        path = Path(keep) if keep else Path(tmp) / "archive.sqlite"
        with dedup.Index.open(path) as index:
            build_s = fill_index(index, docs, passages)
            stats = index.stats()
            drafts = make_drafts(archived_sentences(index, docs), fresh, drafts_count)
            warm_page_cache(path)
            seconds, recall = latencies(index, drafts)
        return {"backend": "sqlite", "documents": stats["documents"], "passages": stats["passages"],
                "build_s": round(build_s, 1), "bytes": stats["bytes"],
                "bytes_per_passage": round(stats["bytes"] / max(1, stats["passages"])),
                "drafts": len(drafts), "p50_ms": round(1000 * percentile(seconds, 0.5), 2),
                "p99_ms": round(1000 * percentile(seconds, 0.99), 2), "planted_found": round(recall, 3)}


def redis_side_by_side(url: str, passages: int, drafts_count: int) -> dict:
    from datasketch import MinHashLSH

    docs, fresh = hold_out(corpus_documents(passages), drafts_count)
    detector = dedup.Detector()
    prefix = f"bench{random.randrange(10**9)}"
    with dedup.Index.open(f"{url}?prefix={prefix}") as index:
        started, stored, used = time.perf_counter(), 0, 0
        while stored < passages:
            batch = docs[used:used + 500]
            stored += index.add_many(batch)
            used += len(batch)
        ours_insert = time.perf_counter() - started
        sentences = [t for d, t in docs[:used]]
        table_rows = index.rows_of([dedup.Document(i, t) for i, t in docs[:used]])
        stored_texts = [t for r in table_rows for t in r.text]
        drafts = make_drafts([t for t in stored_texts if len(t.split()) >= 10], fresh, drafts_count)
        ours_query, ours_recall = latencies(index, drafts)
        index.store.close()

    from dedup.normalize import normalize_many
    from dedup.shingle import ShingleSpec, shingle_batch
    from dedup.sketch import MinHasher
    from dedup.stopwords import STOPWORDS

    settings = detector.settings  # the same signatures for both: dedup's are datasketch-compatible
    hasher, spec = MinHasher(settings.num_perm, settings.seed), ShingleSpec.parse(settings.shingles, STOPWORDS)

    def lean(texts: list[str]) -> list:
        signatures = hasher.signatures(shingle_batch(normalize_many(texts), spec))
        return [hasher.to_lean_minhash(row) for row in signatures]

    stored_signatures = lean(stored_texts)
    started = time.perf_counter()  # what a datasketch user pays first: MinHashes from the text
    from datasketch import LeanMinHash, MinHash
    bulk = MinHash.bulk([[w.encode("utf-8") for w in t.lower().split()] for t in stored_texts],
                        num_perm=detector.settings.num_perm, seed=detector.settings.seed)
    [LeanMinHash(m) for m in bulk]
    ds_sketch = time.perf_counter() - started
    host, port = url.removeprefix("redis://").split("/")[0].split(":")
    bands, rows = detector.settings.bands()
    lsh = MinHashLSH(num_perm=detector.settings.num_perm, params=(bands, rows),
                     storage_config={"type": "redis", "basename": prefix.encode() + b"-ds",
                                     "redis": {"host": host, "port": int(port)}})
    started = time.perf_counter()
    with lsh.insertion_session(buffer_size=50000) as session:
        for k, m in enumerate(stored_signatures):
            session.insert(k, m, check_duplication=False)
    ds_insert = time.perf_counter() - started
    ds_query = []
    draft_signatures = [lean(split_sentences(text)) for text, _ in drafts]
    for signatures in draft_signatures:
        started = time.perf_counter()
        for m in signatures:
            lsh.query(m)
        ds_query.append(time.perf_counter() - started)
    import redis as redis_client

    client = redis_client.Redis.from_url(url)
    for pattern in (f"{prefix}:*", f"{prefix}-ds*"):
        keys = list(client.scan_iter(match=pattern, count=10000))
        for lo in range(0, len(keys), 10000):
            client.delete(*keys[lo:lo + 10000])
    return {"backend": "redis", "passages": len(stored_texts), "documents": used,
            "ours_insert_s": round(ours_insert, 2), "datasketch_insert_s": round(ds_insert, 2),
            "insert_ratio": round(ds_insert / ours_insert, 1),
            "datasketch_sketch_s": round(ds_sketch, 2),
            "insert_ratio_from_text": round((ds_sketch + ds_insert) / ours_insert, 1),
            "ours_p50_ms": round(1000 * percentile(ours_query, 0.5), 2),
            "ours_p99_ms": round(1000 * percentile(ours_query, 0.99), 2),
            "datasketch_p50_ms": round(1000 * percentile(ds_query, 0.5), 2),
            "datasketch_p99_ms": round(1000 * percentile(ds_query, 0.99), 2),
            "query_ratio_p50": round(percentile(ds_query, 0.5) / percentile(ours_query, 0.5), 1),
            "planted_found": round(ours_recall, 3), "drafts": len(drafts), "sentences_in_docs": len(sentences)}


def split_sentences(text: str) -> list[str]:
    return [s for s in common.split_sentences(text) if s]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=1_000_000)
    ap.add_argument("--drafts", type=int, default=200)
    ap.add_argument("--compare-passages", type=int, default=20_000)
    ap.add_argument("--redis-url", default=None)
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--keep-index", metavar="PATH", help="build the SQLite index at PATH and keep it (reused if there)")
    ap.add_argument("--skip-redis", action="store_true")
    ap.add_argument("--json", nargs="?", const=str(common.RESULTS / "archive.json"), default=None)
    args = ap.parse_args()
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict = {"environment": common.environment()}
    if not args.skip_sqlite:
        results["sqlite"] = sqlite_at_scale(args.passages, args.drafts, args.keep_index)
        print(json.dumps(results["sqlite"]))
    if not args.skip_redis:
        if args.redis_url:
            results["redis"] = redis_side_by_side(args.redis_url, args.compare_passages, args.drafts)
        else:
            from redis_server import redis_server

            with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
                results["redis"] = redis_side_by_side(url, args.compare_passages, args.drafts)
        print(json.dumps(results["redis"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
