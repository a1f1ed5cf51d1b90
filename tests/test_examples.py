"""The bundled examples: `dedup check examples` reports exactly the repeats that
examples/README.md says were planted, at the positions it gives."""
from __future__ import annotations

import json
import re
import subprocess

from conftest import REPO, dedup_command

ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| (?P<later>\d+:\d+) \| (?:`(?P<mfile>[^`]+)` )?(?P<earlier>\d+:\d+) \| "
                 r"(?P<kinds>[^|]+) \|")
KINDS = ("exact", "normalized", "near", "contained", "conflict")


def planted() -> dict[tuple[str, str], tuple[str, str, set[str]]]:
    rows = {}
    for line in (REPO / "examples" / "README.md").read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            kinds = {k for k in KINDS if k in m["kinds"]}
            rows[(m["file"], m["later"])] = (m["mfile"] or m["file"], m["earlier"], kinds)
    return rows


def test_examples_report_exactly_the_planted_repeats():
    proc = subprocess.run([*dedup_command(), "check", "examples", "--format", "json"], cwd=REPO,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 1, proc.stderr
    expected = planted()
    assert len(expected) >= 26
    found = {}
    for f in json.loads(proc.stdout)["findings"]:
        s, m = f["sentence"], f["match"]
        key = (s["doc"].removeprefix("examples/"), f"{s['line']}:{s['column']}")
        found[key] = (m["doc"].removeprefix("examples/"), f"{m['line']}:{m['column']}", f["kind"])
    assert set(found) == set(expected)
    for key, (mfile, earlier, kind) in found.items():
        want_file, want_earlier, kinds = expected[key]
        assert (mfile, earlier) == (want_file, want_earlier), key
        assert kind in kinds, (key, kind, kinds)
