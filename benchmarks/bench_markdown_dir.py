"""``dedup check`` over a directory of Markdown files, as a CI step would run it.

Builds a content tree of N Markdown files (default 2,000) from real articles of
../shared/corpora (half Arabic, half English, fixed seed): YAML front matter, the title as a
``#`` heading, paragraphs wrapped at 72 columns, and every tenth file a fenced code block and
a link. Then times ``dedup check DIR --format json -o FILE`` as a subprocess (median of
--repeats runs) and reports files, sentences and findings from its report.

    python benchmarks/bench_markdown_dir.py [--files 2000] [--repeats 3] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def markdown_of(article: dict[str, str], number: int) -> str:
    title, *paragraphs = [p.strip() for p in article["text"].split("\n") if p.strip()] or ["Untitled"]
    parts = [f"---\nid: {article['id']}\nlang: {article['lang']}\n---\n", f"# {title}\n"]
    for k, paragraph in enumerate(paragraphs):
        parts.append(textwrap.fill(paragraph, width=72) + "\n")
        if number % 10 == 0 and k == 0:
            parts.append("```python\nprint('code is not prose')\n```\n")
            parts.append(f"See [the archive](https://example.org/{number}) for more.\n")
    return "\n".join(parts)


def build_tree(root: Path, files: int, seed: int = 7) -> None:
    per_lang = {"ar": [], "en": []}
    for article in common.iter_articles():
        per_lang[article["lang"]].append(article)
    rng = random.Random(seed)
    chosen = rng.sample(per_lang["ar"], files - files // 2) + rng.sample(per_lang["en"], files // 2)
    for number, article in enumerate(chosen):
        path = root / article["lang"] / f"section-{number % 20:02d}" / f"article-{number:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown_of(article, number), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", nargs="?", const=str(common.RESULTS / "markdown_dir.json"), default=None)
    args = ap.parse_args()
    dedup = str(Path(sys.executable).with_name("dedup"))
    with tempfile.TemporaryDirectory() as tmp:
        tree, report_path = Path(tmp) / "content", Path(tmp) / "report.json"
        build_tree(tree, args.files)
        runs = [common.run_child([dedup, "check", str(tree), "--format", "json", "-o", str(report_path)])
                for _ in range(args.repeats)]
        if any(r["returncode"] not in (0, 1) for r in runs):
            sys.exit(f"dedup check failed: {runs[0]['stderr_tail']}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
        shutil.rmtree(tree)
    stats = report["stats"]
    result = {
        "files": args.files,
        "documents": stats["documents"],
        "sentences": stats["sentences"],
        "findings": stats["findings"],
        "wall_s": [round(r["wall_s"], 2) for r in runs],
        "median_wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
        "check_seconds": stats["seconds"],
        "peak_rss_mib": round(max(r["peak_rss_bytes"] for r in runs) / 2**20),
        "environment": common.environment(),
    }
    print(f"dedup check over {result['documents']} Markdown files ({result['sentences']} sentences, "
          f"{result['findings']} findings): median {result['median_wall_s']} s wall "
          f"(runs {result['wall_s']}), {result['check_seconds']} s in the engine, "
          f"peak RSS {result['peak_rss_mib']} MiB")
    if args.json:
        common.RESULTS.mkdir(exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
