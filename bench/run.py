"""By-hand benchmark (not a test) of a whole `rootwatch run` on the sandbox: `make bench-run`.

Why: an evidence run should be quick enough to run on every change to an account, not a batch
job. This times each stage — the notebook (sandbox start, collection, judging, charts, in a fresh
kernel), the HTML export, the PDF, and bundling with an SSH signature — over several runs, best
and median. Goal: the whole run under 10 s on a 2-core machine. It always exits 0: it is a
report, and timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rootwatch import runner

ROOT = Path(__file__).resolve().parents[1]
GOAL = 10.0


def one_run(renderer: str, workdir: Path, index: int) -> dict[str, float]:
    params = workdir / "params.yaml"
    params.write_text((ROOT / "parameters" / "sandbox.yaml").read_text() + f"pdf: {{renderer: {renderer}}}\n")
    start = time.perf_counter()
    plan = runner.prepare(params, [], workdir / f"run{index}")
    prepared = time.perf_counter() - start
    result = runner.execute(plan, progress=False)
    total = time.perf_counter() - start
    return {"prepare (parameters, keys)": prepared, **result.seconds, "total": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--renderer", default="weasyprint", choices=["weasyprint", "chromium"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        runs = [one_run(args.renderer, Path(tmp), i) for i in range(args.runs)]
    stages = list(runs[0])
    table = {s: {"best": min(r[s] for r in runs), "median": statistics.median(r[s] for r in runs)} for s in stages}
    if args.json:
        print(json.dumps({"runs": args.runs, "renderer": args.renderer, "stages": table,
                          "goal_seconds": GOAL, "goal": "PASS" if table["total"]["median"] < GOAL else "MISS"}))
        return 0
    print(f"rootwatch run on the sandbox, {args.runs} runs, PDF by {args.renderer}, {os.cpu_count()} cores")
    for stage in stages:
        print(f"  {stage:<42} best {table[stage]['best']:6.2f} s   median {table[stage]['median']:6.2f} s")
    verdict = "PASS" if table["total"]["median"] < GOAL else "MISS"
    print(f"goal: whole run under {GOAL:.0f} s (median): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
