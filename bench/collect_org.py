"""By-hand benchmark (not a test) of organization-wide collection: `make bench-org`.

Why: real runs cover dozens to thousands of accounts in every enabled region, where the time
goes into round trips. This starts a sandbox organization of 100 accounts (`rootwatch sandbox
--accounts 100`) in its own process, with a fixed latency added to every request, collects every
account in 4 regions on rootwatch's bounded pool, and compares the wall time with the ideal
`calls × latency / concurrency` measured in the same run. Goals: within 1.5× of the ideal and
under 30 s. It always exits 0: it is a report. Wall time depends on what else the machine runs, so
the CPU seconds of the collector (its child processes included) and of the sandbox process are
printed too (Linux: /proc). LookupEvents is not paced: the sandbox sets no limit, and AWS's 2 per
second would measure sleep. ``--processes 1`` collects in-process, for comparing with the default.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from rootwatch.catalog import load_catalog
from rootwatch.collect.chain import Target, collect
from rootwatch.models import Window

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]


def start_sandbox(accounts: int, latency_ms: int) -> tuple[subprocess.Popen, dict[str, str], list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "rootwatch", "sandbox", "--accounts", str(accounts), "--days", "2",
                             "--latency-ms", str(latency_ms)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    env, roles = {}, []
    for line in proc.stdout:
        if line.startswith("export "):
            key, value = line.removeprefix("export ").strip().split("=", 1)
            env[key] = value
        elif line.startswith("#   "):
            roles.append(line.split()[-1])
        if len(roles) == accounts:
            break
    return proc, env, roles


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux), for a figure that other load does not inflate."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def collector_cpu() -> float:
    """CPU of this process and of its ended children: the collection's processes (an organisation's
    accounts are spread over one per core), not the sandbox, which is reaped only after."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, default=None,
                        help="collector processes (default: rootwatch's choice, one per core here); 1: in-process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seeding = time.perf_counter()
    proc, env, roles = start_sandbox(args.accounts, args.latency_ms)
    seeded = time.perf_counter() - seeding
    seed_cpu = cpu_seconds(proc.pid)
    try:
        base = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
        targets = [Target(role.split(":")[4], base, role) for role in roles]
        now = datetime.now(UTC)
        controls = [load_catalog().control("4.3")]
        start, cpu = time.perf_counter(), collector_cpu()
        evidence = collect(targets, REGIONS, Window(now - timedelta(days=2), now), controls,
                           endpoint_url=env["AWS_ENDPOINT_URL"], concurrency=args.concurrency,
                           lookup_rate=None, processes=args.processes)
        wall, cpu = time.perf_counter() - start, collector_cpu() - cpu
        served_cpu = cpu_seconds(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    calls = sum(len(ev.calls) for ev in evidence)
    retries = sum(c.retries for ev in evidence for c in ev.calls)
    gaps = sum(len(ev.gaps) for ev in evidence)
    ideal = calls * args.latency_ms / 1000 / args.concurrency
    result = {"accounts": len(evidence), "regions": len(REGIONS), "account_regions": len(evidence) * len(REGIONS),
              "latency_ms": args.latency_ms, "concurrency": args.concurrency, "api_calls": calls,
              "calls_per_account_region": round(calls / (len(evidence) * len(REGIONS)), 2), "retries": retries,
              "gaps": gaps, "seed_seconds": round(seeded, 1), "seed_cpu_seconds": _round(seed_cpu),
              "collector_cpu_seconds": round(cpu, 2),
              "sandbox_cpu_seconds": _round(served_cpu - seed_cpu if None not in (seed_cpu, served_cpu) else None),
              "wall_seconds": round(wall, 2),
              "ideal_seconds": round(ideal, 2), "ratio": round(wall / ideal, 2),
              "goal_ratio": "PASS" if wall <= 1.5 * ideal else "MISS", "goal_30s": "PASS" if wall < 30 else "MISS"}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['accounts']} accounts x {len(REGIONS)} regions, {args.latency_ms} ms per request, "
              f"{args.concurrency} workers (sandbox seeded in {result['seed_seconds']} s, "
              f"{result['seed_cpu_seconds']} s of CPU)")
        print(f"  API calls {calls} ({result['calls_per_account_region']} per account-region), retries {retries}, "
              f"gaps {gaps}")
        print(f"  wall {wall:.2f} s   ideal calls x latency / concurrency {ideal:.2f} s   ratio {wall / ideal:.2f}")
        print(f"  CPU: collector {result['collector_cpu_seconds']} s, sandbox {result['sandbox_cpu_seconds']} s")
        print(f"  goals: within 1.5x of ideal {result['goal_ratio']}, under 30 s {result['goal_30s']}")
    return 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    sys.exit(main())
