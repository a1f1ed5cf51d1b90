"""The scan output folder: writing and reading back its findings as JSON Lines and as Parquet.

Builds --findings N generated findings (default 100,000; the same generator as
`bench_json_output.py`: Arabic and English passages, the kinds, scopes and groups of a real
report), then, for each output (``jsonl``, ``parquet``), times `dedup.scan.output.FindingWriter`
writing them in chunks of 2,048 to a temporary folder (the disk included: the file is flushed
and synced before it is renamed) and `read_findings` reading them all back, interleaved, median
of --repeats. It reports each file's size, and the most memory reading held at once: Python
objects by tracemalloc (the findings are counted and dropped as they come, as a streaming
reader would), and Arrow's own buffers by its memory pool. It checks that both read back
byte for byte what was written.

Needs nothing beside the repository but pyarrow (the parquet extra).

    python benchmarks/bench_scan_output.py [--findings 100000] [--repeats 3] [--seed 7] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bench_json_output import build_report  # noqa: E402

from dedup.scan.output import FINDINGS_FILES, FindingWriter, read_findings  # noqa: E402

CHUNK = 2048
OUTPUTS = ("jsonl", "parquet")


def write(folder: Path, output: str, findings: list) -> None:
    with FindingWriter(folder, output) as writer:
        for begin in range(0, len(findings), CHUNK):
            writer.write(findings[begin:begin + CHUNK])


def count(folder: Path, output: str) -> int:
    return sum(1 for _ in read_findings(folder, output))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    common.add_output_args(parser)
    args = parser.parse_args()
    import pyarrow as pa

    findings = build_report(args.findings, args.seed).findings
    expected = [f.to_json() for f in findings]
    with tempfile.TemporaryDirectory() as tmp:
        folders = {output: Path(tmp) / output for output in OUTPUTS}
        for folder in folders.values():
            folder.mkdir()
        contenders = {}
        for output in OUTPUTS:
            contenders[f"write {output}"] = lambda output=output: write(folders[output], output, findings)
            contenders[f"read {output}"] = lambda output=output: count(folders[output], output)
        write(folders["jsonl"], "jsonl", findings)  # so that the first read has a file
        write(folders["parquet"], "parquet", findings)
        times = common.interleaved(contenders, repeats=args.repeats)
        rows, results = [], {}
        for output in OUTPUTS:
            folder = folders[output]
            assert [f.to_json() for f in read_findings(folder, output)] == expected
            size = (folder / FINDINGS_FILES[output]).stat().st_size
            pa.default_memory_pool().release_unused()
            arrow_before = pa.default_memory_pool().max_memory()
            python_peak, counted = common.traced_peak(lambda folder=folder, output=output: count(folder, output))
            assert counted == args.findings
            arrow_peak = pa.default_memory_pool().max_memory() if output == "parquet" else 0
            write_s, read_s = common.median(times[f"write {output}"]), common.median(times[f"read {output}"])
            rows.append((output, args.findings, write_s, read_s, size / 2**20, python_peak / 2**20,
                         arrow_peak / 2**20))
            results[output] = {"findings": args.findings, "write_s": times[f"write {output}"],
                               "read_s": times[f"read {output}"], "write_median_s": write_s, "read_median_s": read_s,
                               "mebibytes": size / 2**20, "read_python_peak_mib": python_peak / 2**20,
                               "arrow_pool_max_mib": arrow_peak / 2**20, "arrow_pool_max_before_mib":
                               arrow_before / 2**20}
    common.emit(args, "scan output: findings written and read back", (
        "output", "findings", "write s", "read s", "file MiB", "read: Python peak MiB", "Arrow pool max MiB"),
        rows, results, notes=[(f"median of {args.repeats}; writes in chunks of {CHUNK}, synced to disk; "
                               "Arrow's pool max is the most it held since the process started")])


if __name__ == "__main__":
    main()
