"""Hard-wrapped plain text: does wrapping a corpus change what ``dedup`` finds?

Takes the real articles of ../shared/corpora (all 2,225 English ones of bbc-news-en, and the
first --ar N Arabic ones of ant-news-ar, default 3000; --ar 0 leaves Arabic out), writes them to
a JSONL file as they are and again hard-wrapped at --width columns (default 70: each paragraph
wrapped the way ``textwrap`` does it, blank lines kept; hyphenated words are not broken unless
--break-on-hyphens), reads both files with dedup's records reader (which unwraps a wrapped
text, `dedup.readers.wrap`) and checks each with ``Detector(workers=-1).check_many``.

Prints, for both forms: documents, sentences (the report's ``stats["sentences"]``), findings
and findings by kind; how many sentences the wrapped form would have had without unwrapping
(the segmenter on the raw wrapped texts); how many wrapped documents were found wrapped; and
how many findings agree, matched by document id + normalized sentence text + normalized match
text + kind, with a few examples of those that do not (--examples).

    python benchmarks/bench_wrapped.py [--width 70] [--ar 3000] [--break-on-hyphens] [--examples 5] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def load(path: Path, limit: int | None) -> list[dict[str, str]]:
    """The first `limit` records ({"id", "text"}) of a gzipped JSONL corpus (all when None)."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(out) >= limit:
                break
            record = json.loads(line)
            out.append({"id": record["id"], "text": record["text"]})
    return out


def hard_wrap(text: str, width: int, break_on_hyphens: bool = False) -> str:
    """`text` with each line (a paragraph) wrapped at `width`, blank lines kept."""
    return "\n".join(
        "\n".join(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=break_on_hyphens)) or line
        for line in text.split("\n"))


def write_jsonl(path: Path, records: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def finding_key(f) -> tuple[str, str, str, str]:
    from dedup import normalize

    return (f.sentence.doc, normalize(f.sentence.text), normalize(f.match.text), f.kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=70, help="wrap width in columns (default 70)")
    parser.add_argument("--ar", type=int, default=3000, metavar="N",
                        help="also the first N Arabic articles (default 3000; 0: English only)")
    parser.add_argument("--break-on-hyphens", action="store_true",
                        help="let the wrapper break hyphenated words after the hyphen (textwrap's default)")
    parser.add_argument("--examples", type=int, default=5, help="findings shown that only one form has (default 5)")
    common.add_output_args(parser)
    args = parser.parse_args()
    common.environment()  # recorded as the run starts

    corpora = [common.CORPORA["en"]] + ([common.CORPORA["ar"]] if args.ar > 0 else [])
    missing = [str(p) for p in corpora if not p.exists()]
    if missing:
        sys.exit(f"skipped: benchmark data not found: {', '.join(missing)} "
                 "(expected ../shared next to the repository)")

    from dedup import Detector
    from dedup.readers import read_path
    from dedup.segment import segment_many

    articles = load(common.CORPORA["en"], None) + (load(common.CORPORA["ar"], args.ar) if args.ar > 0 else [])
    wrapped_articles = [{"id": a["id"], "text": hard_wrap(a["text"], args.width, args.break_on_hyphens)}
                        for a in articles]
    detector = Detector(workers=-1)
    forms: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, records in (("original", articles), ("wrapped", wrapped_articles)):
            path = Path(tmp) / f"{name}.jsonl"
            write_jsonl(path, records)
            started = time.perf_counter()
            docs = list(read_path(str(path)))
            read_s = time.perf_counter() - started
            started = time.perf_counter()
            report = detector.check_many(docs)
            check_s = time.perf_counter() - started
            forms[name] = {"docs": docs, "report": report, "read_s": read_s, "check_s": check_s}

    raw = segment_many([a["text"] for a in wrapped_articles])
    raw_sentences = int((~raw.is_clause).sum())
    unwrapped_docs = sum(d.analysis is not None for d in forms["wrapped"]["docs"])
    wrapped_at_all = sum(w["text"] != a["text"] for a, w in zip(articles, wrapped_articles))

    keys = {name: Counter(finding_key(f) for f in form["report"].findings) for name, form in forms.items()}
    agree = sum((keys["original"] & keys["wrapped"]).values())
    only = {name: keys[name] - keys[other] for name, other in (("original", "wrapped"), ("wrapped", "original"))}
    kinds = sorted({f.kind for form in forms.values() for f in form["report"].findings})

    headers = ["", "original", f"wrapped at {args.width}"]
    rows = [
        ["documents", len(forms["original"]["docs"]), len(forms["wrapped"]["docs"])],
        ["documents unwrapped (analysis text given)", sum(d.analysis is not None for d in forms["original"]["docs"]),
         unwrapped_docs],
        ["sentences", forms["original"]["report"].stats.get("sentences"),
         forms["wrapped"]["report"].stats.get("sentences")],
        ["sentences without unwrapping", "", raw_sentences],
        ["findings", len(forms["original"]["report"].findings), len(forms["wrapped"]["report"].findings)],
        *[[f"  {kind}", sum(f.kind == kind for f in forms["original"]["report"].findings),
           sum(f.kind == kind for f in forms["wrapped"]["report"].findings)] for kind in kinds],
        ["findings in both forms", agree, agree],
        ["findings in this form only", sum(only["original"].values()), sum(only["wrapped"].values())],
        ["read (s)", forms["original"]["read_s"], forms["wrapped"]["read_s"]],
        ["check_many (s)", forms["original"]["check_s"], forms["wrapped"]["check_s"]],
    ]
    notes = [f"{wrapped_at_all} of {len(articles)} articles have a line longer than {args.width} columns "
             f"(wrapping changed them); {unwrapped_docs} were found wrapped and unwrapped"]
    examples = []
    for name, extra in only.items():
        for key in list(extra)[: args.examples]:
            doc, sentence, match, kind = key
            examples.append({"only_in": name, "doc": doc, "kind": kind, "sentence": sentence, "match": match})
    results = {
        "width": args.width, "break_on_hyphens": args.break_on_hyphens, "arabic_articles": args.ar,
        "forms": {name: {"documents": len(form["docs"]), "sentences": form["report"].stats.get("sentences"),
                         "findings": len(form["report"].findings),
                         "by_kind": dict(Counter(f.kind for f in form["report"].findings)),
                         "read_s": form["read_s"], "check_many_s": form["check_s"]}
                  for name, form in forms.items()},
        "wrapped_sentences_without_unwrapping": raw_sentences,
        "documents_unwrapped": unwrapped_docs,
        "findings_agree": agree,
        "findings_only": {name: sum(extra.values()) for name, extra in only.items()},
        "examples": examples,
    }
    common.emit(args, f"Hard-wrapped corpus (width {args.width})", headers, rows, results, notes)
    out = sys.stderr if getattr(args, "json", None) == "-" else sys.stdout
    for example in examples:
        print(f"only {example['only_in']}: {example['doc']} {example['kind']}: {example['sentence'][:110]!r}\n"
              f"    repeats {example['match'][:110]!r}", file=out)


if __name__ == "__main__":
    main()
