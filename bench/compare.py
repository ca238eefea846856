"""Print a before/after table of two bench result files.

    python bench/compare.py bench/results/2026-12-03-sqlite-baseline.json \\
        bench/results/2026-12-10-sqlite.json

Server CPU per unit is the figure to judge a change by; req/s and latency move with
whatever else the machine is doing (bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from results import markdown_table

HEADER = ("scenario", "server CPU ms/unit", "change", "DB CPU ms/unit", "p99 ms", "per s",
          "errors")


def _pair(a, b, digits: int = 1) -> str:
    def fmt(v):
        return "–" if v is None else f"{v:,.{digits}f}"
    return f"{fmt(a)} → {fmt(b)}"


def _change(a, b) -> str:
    if not a or b is None:
        return "–"
    return f"{(b - a) / a * 100:+.0f}%"


def compare(before: dict, after: dict) -> str:
    """Return a Markdown table of the scenarios both runs have, in ``after``'s order."""
    old = {s["name"]: s for s in before["scenarios"]}
    rows = []
    for new in after["scenarios"]:
        was = old.get(new["name"])
        if was is None:
            continue
        rows.append([
            new["name"],
            _pair(was["server_cpu_ms_per_req"], new["server_cpu_ms_per_req"], 2),
            _change(was["server_cpu_ms_per_req"], new["server_cpu_ms_per_req"]),
            _pair(was["db_cpu_ms_per_req"], new["db_cpu_ms_per_req"], 2),
            _pair(was["p99_ms"], new["p99_ms"]),
            _pair(was["rps"], new["rps"]),
            f"{was['errors']} → {new['errors']}",
        ])
    return markdown_table(HEADER, rows)


def _describe(run: dict, path: Path) -> str:
    dirty = ", uncommitted changes" if run["git"]["dirty"] else ""
    return (f"{path.name}: {run['database']}, commit {run['git']['commit']}{dirty}, "
            f"{run['settings']['users']:,} citizens, `{run['settings']['server']}`")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Compare two bench result files (JSON).")
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    args = p.parse_args(argv)
    before, after = (json.loads(path.read_text()) for path in (args.before, args.after))
    print(f"before: {_describe(before, args.before)}")
    print(f"after:  {_describe(after, args.after)}\n")
    print(compare(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
