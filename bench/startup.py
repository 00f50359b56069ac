"""By-hand benchmark (not a test) of command start-up: `make bench-startup`.

Why: every command pays its imports before doing anything, and a scheduler or a shell loop pays them
each time. This runs three commands that do almost nothing else, each in a fresh process, several
times: `rootwatch --help`, `rootwatch pattern check` (the catalog and the pattern engine) and
`rootwatch events` over an archive with no file in the window (pandas and pyarrow, to write the empty
Parquet file). Goal: each under 0.5 s. Wall time depends on what else the machine runs, so the CPU
seconds (user + system) of each process are printed too. It always exits 0: it is a report.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 0.5
PATTERN = ('{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) '
           '&& ($.eventType != "AwsServiceEvent") }')


def commands(archive: Path) -> dict[str, list[str]]:
    rootwatch = [sys.executable, "-m", "rootwatch"]
    return {
        "rootwatch --help": [*rootwatch, "--help"],
        "rootwatch pattern check ... --control 4.3": [*rootwatch, "pattern", "check", PATTERN, "--control", "4.3"],
        "rootwatch events (no file in the window)": [*rootwatch, "events", "--archive", str(archive), "--control",
                                                     "4.3", "--start", "2026-01-01", "--end", "2026-01-02",
                                                     "--out", str(archive / "out.parquet"), "--no-cache"],
    }


def timed(command: list[str], out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``command`` in a fresh process."""
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: a pattern that does not cover the control is an answer too
        sys.exit(f"bench/startup.py: {' '.join(command[2:4])} exited {done.returncode}: {done.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp)
        day = archive / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2025" / "01" / "01"
        day.mkdir(parents=True)
        (day / "111122223333_CloudTrail_us-east-1_20250101T0000Z_AAAAAAAAAAAAAAAA.json.gz").write_bytes(
            gzip.compress(b'{"Records":[]}'))
        results = {}
        for name, command in commands(archive).items():
            runs = [timed(command, archive / "out.parquet") for _ in range(args.runs)]
            results[name] = {"wall_median": round(statistics.median(w for w, _ in runs), 2),
                             "cpu_median": round(statistics.median(c for _, c in runs), 2)}
    if args.json:
        print(json.dumps({"runs": args.runs, "goal_seconds": GOAL, "commands": results}, indent=1))
        return 0
    print(f"command start-up, {args.runs} runs each (fresh process), {os.cpu_count()} cores")
    for name, r in results.items():
        verdict = "PASS" if r["wall_median"] < GOAL else "MISS"
        print(f"  {name:<44} median wall {r['wall_median']:5.2f} s   CPU {r['cpu_median']:5.2f} s   "
              f"goal < {GOAL} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
