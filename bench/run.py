"""By-hand benchmark (not a test) of a whole `rootwatch run` on the sandbox: `make bench-run`.

Why: an evidence run should be quick enough to run on every change to an account, not a batch
job. Each run is `rootwatch run parameters/sandbox.yaml` in a fresh process, as `make demo` runs it
(imports included), timed from launch to exit; its JSON log dates each stage — start-up (imports,
parameters, keys), the notebook (sandbox start, collection, judging, charts, in a fresh kernel), the
HTML export, the PDF, and bundling with an SSH signature — over several runs, best and median. Goal:
the whole run under 10 s on a 2-core machine. It always exits 0: it is a report, and timings depend
on the machine — and on what else it runs, so the CPU seconds of the run and its kernel are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 10.0
STARTUP = "start-up (imports, parameters, keys)"


def one_run(renderer: str, workdir: Path, index: int) -> dict[str, float]:
    params = workdir / "params.yaml"
    params.write_text((ROOT / "parameters" / "sandbox.yaml").read_text() + f"pdf: {{renderer: {renderer}}}\n")
    command = [sys.executable, "-m", "rootwatch", "run", str(params), "--out", str(workdir / f"run{index}"),
               "--quiet", "--log-format", "json"]
    cpu, launched, start = _children_cpu(), datetime.now(UTC), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    total, ended = time.perf_counter() - start, datetime.now(UTC)
    if done.returncode not in (0, 1, 3):
        sys.exit(f"bench/run.py: rootwatch run exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    log = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    marks = [(STARTUP, launched)] + [(r["stage"], datetime.fromisoformat(r["time"])) for r in log
                                     if r["event"] == "stage"] + [("", ended)]
    stages = {name: (after - at).total_seconds() for (name, at), (_, after) in zip(marks, marks[1:])}
    return {**stages, "total": total, "CPU (rootwatch run and its kernel)": _children_cpu() - cpu}


def _children_cpu() -> float:
    """User + system CPU of the child processes that have ended (the run, and the kernel it waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
