"""By-hand benchmark (not a test) of scanning a CloudTrail archive for root usage: `make bench-archive`.

Why: proving the root user unused over a year means reading a year of log files, so the scan must
cost about what reading them costs. This makes (once, cached in bench/.archive) a 1 M-record
archive in CloudTrail's S3 layout, ~1,800 gzip files, ~0.1 % root records (bench/archive_gen.py),
then times in the same run, over the same files, for CIS 4.3's root-usage pattern:
- the zlib floor: read and inflate every file on one core, nothing else;
- rootwatch: ``rootwatch.logarchive.scan`` over a ``LocalArchive``, no cache;
- an orjson loop: inflate, ``orjson.loads``, rootwatch's compiled predicate per record;
- DuckDB on 2 threads in its two fast forms (``duckdb_sql``), the faster being the baseline:
  ``read_json`` told the one column it needs, and ``read_json_objects`` + ``from_json``;
- jq behind zcat; pandas (``json_normalize`` per file) only with ``--with-pandas``: it takes minutes.
``--layout reexport`` times the same on the records as a SIEM exports them back (another key order
per record, vendor fields: bench/.archive-reexport), where no record can be sliced out by its first
key. ``--bomb`` instead scans a 2 MB gzip bomb (2 GB inflated) beside one good file, in a fresh
process, and reports its time, peak RSS and what it said of the bomb.
Each contender runs in a fresh process (best of ``--repeat`` rounds; slow ones once), which reports
wall and CPU time without interpreter start and imports, and its own peak RSS (jq: the larger of
zcat and jq). Every contender must count the records the generator planted (checked). Goals: rootwatch
within 1.5x of the floor, 1.5x faster than DuckDB, peak under 300 MB. It exits 0 whatever the
timings (a report: they depend on the machine), 1 if a contender miscounts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from archive_gen import Manifest, Spec, ensure_archive, read_manifest
from rootwatch.patterns import compile_pattern

PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
GOAL_FLOOR, GOAL_DUCKDB, GOAL_PEAK_MB = 1.5, 1.5, 300
BUSY = 0.2  # cores kept busy by other work above which the timings are skewed
DEFAULT_DIR = Path(__file__).resolve().parent / ".archive"
LAYOUT_DIRS = {"cloudtrail": DEFAULT_DIR, "reexport": DEFAULT_DIR.with_name(".archive-reexport")}
BOMB_DIR = DEFAULT_DIR.with_name(".bomb")
BOMB_DAY = "AWSLogs/402913786551/CloudTrail/us-east-1/2025/01/01"
GLOB = "AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
MAX_OBJECT = 256 * 1024 * 1024  # one log file is one JSON object; DuckDB's default limit is 16 MiB
# SQL NULL semantics give the pattern's: a missing invokedBy is NULL, and a missing eventType makes
# `!=` NULL, so the record is not counted, as CloudWatch Logs does not count it.
WHERE = "r.userIdentity.type = 'Root' AND r.userIdentity.invokedBy IS NULL AND r.eventType != 'AwsServiceEvent'"
RECORD = "STRUCT(eventType VARCHAR, userIdentity STRUCT(type VARCHAR, invokedBy VARCHAR))"
SCHEMA = json.dumps({"Records": [{"eventType": "VARCHAR", "userIdentity": {"type": "VARCHAR", "invokedBy": "VARCHAR"}}]})
JQ_FILTER = ('.Records[] | select(.userIdentity.type == "Root" and (.userIdentity | has("invokedBy") | not) '
             'and (.eventType | type) == "string" and .eventType != "AwsServiceEvent")')


@dataclass(frozen=True)
class Outcome:
    """What one timed run found: matching records (None for the floor) and the scanner's own account."""

    matches: int | None
    stats: str | None = None


Work = Callable[[], Outcome]


@dataclass(frozen=True)
class Contender:
    name: str
    prepare: Callable[[Path, Manifest], Work]  # imports and set-up, kept out of the timing
    slow: bool = False       # timed once unless --repeat-slow says otherwise
    external: bool = False   # the work runs in child processes: their peak RSS is the figure
    pool: bool = False       # the work spreads over a process pool: the whole tree is measured


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    matches: int | None
    stats: str | None


def busy_cores(seconds: float = 2.0) -> float:
    """Cores other work keeps busy just before timing (Linux /proc/stat): on a 2-core machine a test
    run elsewhere halves what the parallel contenders get, so the report says so."""
    def sample() -> tuple[int, int]:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait
    total, idle = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return (os.cpu_count() or 1) * (1 - (idle2 - idle) / max(total2 - total, 1))


def log_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(GLOB))


def zlib_floor(folder: Path, manifest: Manifest) -> Work:
    """Read and inflate every file on one core and nothing else: no scanner does less work."""
    def run() -> Outcome:
        for path in log_files(folder):
            zlib.decompress(path.read_bytes(), 31)
        return Outcome(None)
    return run


def rootwatch_scan(folder: Path, manifest: Manifest) -> Work:
    from rootwatch.logarchive import LocalArchive, scan

    pattern = compile_pattern(PATTERN)
    start, end = manifest.window

    def run() -> Outcome:
        stats = (result := scan(LocalArchive(folder), pattern, start, end)).stats
        return Outcome(len(result.events), f"{stats.files_read:,} files read ({stats.files_skipped:,} skipped), "
                                            f"{stats.records_read:,} records read ({stats.records_skipped:,} "
                                            f"skipped unparsed), {stats.records_matched:,} matched")
    return run


def orjson_loop(folder: Path, manifest: Manifest) -> Work:
    """The naive Python scanner: every record parsed and tested."""
    import orjson

    matches = compile_pattern(PATTERN).matches

    def run() -> Outcome:
        return Outcome(sum(matches(r) for p in log_files(folder)
                           for r in orjson.loads(zlib.decompress(p.read_bytes(), 31))["Records"]))
    return run


def duckdb_sql(objects: bool, glob: str) -> str:
    """DuckDB's two fast forms: ``read_json`` told the one column it needs, typed down to the three
    fields the pattern reads, or each file as one object (``read_json_objects``) typed by ``from_json``."""
    options = f"compression='gzip', maximum_object_size={MAX_OBJECT}"
    if objects:
        rows = (f"SELECT unnest(from_json(json, '{SCHEMA}').Records) AS r "
                f"FROM read_json_objects('{glob}', format='newline_delimited', {options})")
    else:
        rows = (f"SELECT unnest(Records) AS r FROM read_json('{glob}', format='unstructured', records=true, "
                f"columns={{Records: '{RECORD}[]'}}, {options})")
    return f"SELECT count(*) FROM ({rows}) WHERE {WHERE}"


def duckdb_query(objects: bool) -> Callable[[Path, Manifest], Work]:
    def prepare(folder: Path, manifest: Manifest) -> Work:
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 2")
        sql = duckdb_sql(objects, str(folder / GLOB))
        return lambda: Outcome(con.execute(sql).fetchone()[0])
    return prepare


def jq_pipe(folder: Path, manifest: Manifest) -> Work:
    """zcat inflates, jq parses and filters: two processes, so up to two cores."""
    def run() -> Outcome:
        zcat = subprocess.Popen(["zcat", "--", *map(str, log_files(folder))], stdout=subprocess.PIPE)
        jq = subprocess.Popen(["jq", "-c", JQ_FILTER], stdin=zcat.stdout, stdout=subprocess.PIPE)
        zcat.stdout.close()
        lines = sum(1 for _ in jq.stdout)
        if jq.wait() or zcat.wait():
            raise RuntimeError(f"zcat exited {zcat.returncode}, jq {jq.returncode}")
        return Outcome(lines)
    return run


def pandas_normalize(folder: Path, manifest: Manifest) -> Work:
    """How an analyst would do it in a notebook: one flattened frame per file, a boolean mask."""
    import pandas as pd

    def count(frame: pd.DataFrame) -> int:
        def column(name: str) -> pd.Series:
            return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
        event_type = column("eventType")
        return int((column("userIdentity.type").eq("Root") & column("userIdentity.invokedBy").isna()
                    & event_type.map(lambda v: isinstance(v, str)) & event_type.ne("AwsServiceEvent")).sum())

    def run() -> Outcome:
        return Outcome(sum(count(pd.json_normalize(json.loads(zlib.decompress(p.read_bytes(), 31))["Records"]))
                           for p in log_files(folder)))
    return run


CONTENDERS = {c.name: c for c in [
    Contender("zlib-floor", zlib_floor),
    Contender("rootwatch", rootwatch_scan, pool=True),
    Contender("duckdb", duckdb_query(objects=False)),
    Contender("duckdb-objects", duckdb_query(objects=True)),
    Contender("orjson-loop", orjson_loop, slow=True),
    Contender("jq", jq_pipe, slow=True, external=True),
    Contender("pandas", pandas_normalize, slow=True),
]}


def run_contender(name: str, folder: Path) -> dict:
    """The child's side: set up, time one run, report wall and CPU seconds (CPU time is what the work
    costs whatever else the machine runs), the count and its own peak RSS, as JSON."""
    contender, manifest = CONTENDERS[name], read_manifest(folder)
    if manifest is None:
        raise SystemExit(f"no archive in {folder}: run without --contender first")
    who = resource.RUSAGE_CHILDREN if contender.external else resource.RUSAGE_SELF
    work = contender.prepare(folder, manifest)
    tree = TreeMonitor() if contender.pool else None
    before, start = resource.getrusage(who), time.perf_counter()
    outcome = work()
    seconds, after = time.perf_counter() - start, resource.getrusage(who)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak = after.ru_maxrss / 1024
    if tree:
        tree_cpu, peak = tree.stop()
        cpu += tree_cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak, **asdict(outcome)}


class TreeMonitor:
    """Peak RSS of this process and all its descendants together, and the descendants' CPU time,
    sampled from /proc every 10 ms: a process pool's workers are not this process's children to
    getrusage (a forkserver forks them), yet their memory and CPU are the scan's."""

    def __init__(self) -> None:
        import threading

        self.peak_kb, self.cpu_ticks, self.done = 0, {}, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def stop(self) -> tuple[float, float]:
        self.done.set()
        self.thread.join()
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"), self.peak_kb / 1024

    def _watch(self) -> None:
        while not self.done.wait(0.01):
            pids = _descendants(os.getpid())
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in [os.getpid(), *pids]))
            for pid in pids:
                self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), _cpu_ticks(pid))


def _descendants(pid: int) -> list[int]:
    try:
        children = [int(c) for t in os.listdir(f"/proc/{pid}/task")
                    for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    except OSError:
        return []
    return [d for c in children for d in (c, *_descendants(c))]


def _rss_kb(pid: int) -> int:
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0
    return int(line.split()[1])


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def one_run(name: str, folder: Path) -> dict:
    child = subprocess.run([sys.executable, __file__, "--contender", name, "--dir", str(folder)],
                           check=False, capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(f"{name} failed:\n{child.stderr}")
    return json.loads(child.stdout.splitlines()[-1])


def measure(names: list[str], folder: Path, repeat: int, repeat_slow: int) -> dict[str, Timing]:
    """Round after round of every contender, so a burst of other work hurts them alike rather than
    one of them; best wall time per contender, and the highest peak RSS among its runs."""
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(max(repeat, repeat_slow)):
        for name in names:
            if round_ < (repeat_slow if CONTENDERS[name].slow else repeat):
                runs[name].append(one_run(name, folder))
    timings = {}
    for name, done in runs.items():
        best = min(done, key=lambda r: r["seconds"])
        timings[name] = Timing(name, best["seconds"], best["cpu_seconds"], max(r["peak_mb"] for r in done),
                               best["matches"], best["stats"])
    return timings


def fastest_duckdb(timings: dict[str, Timing]) -> Timing | None:
    """The baseline is DuckDB at its best, whichever form that is on this machine."""
    forms = [t for name, t in timings.items() if name.startswith("duckdb")]
    return min(forms, key=lambda t: t.seconds, default=None)


def verdicts(timings: dict[str, Timing]) -> dict[str, str]:
    """PASS / MISS per goal, or n/a when a contender it needs was not run."""
    ours, floor, duck = timings.get("rootwatch"), timings.get("zlib-floor"), fastest_duckdb(timings)

    def verdict(holds: Callable[[], bool], *needed: Timing | None) -> str:
        return "n/a" if None in needed else "PASS" if holds() else "MISS"
    return {
        f"rootwatch <= {GOAL_FLOOR}x floor": verdict(lambda: ours.seconds <= GOAL_FLOOR * floor.seconds, ours, floor),
        f"DuckDB / rootwatch >= {GOAL_DUCKDB}": verdict(lambda: duck.seconds >= GOAL_DUCKDB * ours.seconds, ours, duck),
        f"rootwatch peak < {GOAL_PEAK_MB} MB": verdict(lambda: ours.peak_mb < GOAL_PEAK_MB, ours),
    }


def print_report(manifest: Manifest, made: bool, folder: Path, busy: float, timings: dict[str, Timing]) -> None:
    print(f"{manifest.records:,} records ({manifest.spec.layout} layout) in {manifest.files:,} files ({manifest.raw_bytes / 1e6:,.0f} MB of JSON, "
          f"{manifest.gz_bytes / 1e6:,.0f} MB gzip) in {folder}, "
          + (f"made in {manifest.seconds:.0f} s" if made else "reused"))
    print(f"{manifest.roots:,} root records, {manifest.expected:,} match CIS 4.3; {os.cpu_count()} cores, "
          f"warm page cache, {busy:.1f} cores busy with other work before timing"
          + (" (the figures are not reliable)" if busy > BUSY else ""))
    floor, duck = timings.get("zlib-floor"), fastest_duckdb(timings)
    print(f"{'contender':<16}{'seconds':>9}{'x floor':>9}{'DuckDB/this':>13}{'CPU s':>8}{'peak MB':>9}{'matches':>9}")
    for t in timings.values():
        print(f"{t.name:<16}{t.seconds:>9.2f}{t.seconds / floor.seconds if floor else float('nan'):>9.2f}"
              f"{duck.seconds / t.seconds if duck else float('nan'):>13.2f}{t.cpu_seconds:>8.2f}{t.peak_mb:>9.0f}"
              f"{'-' if t.matches is None else f'{t.matches:,}':>9}")
    if floor:
        print(f"floor: {manifest.raw_bytes / 1e6 / floor.seconds:,.0f} MB/s of JSON inflated on one core")
    if duck:
        print(f"DuckDB baseline: {duck.name}, 2 threads")
    if "rootwatch" in timings:
        print(f"rootwatch scan: {timings['rootwatch'].stats}")
    print("goals: " + ", ".join(f"{goal}: {verdict}" for goal, verdict in verdicts(timings).items()))


def make_bomb(folder: Path) -> int:
    """A 2 MB gzip file that inflates to about 2 GB (gzip allows member after member: 1 MiB of
    spaces is about 1 KB compressed) beside a good file with one root record; the bytes it inflates to."""
    import gzip

    member = gzip.compress(b" " * 2**20, compresslevel=9, mtime=0)
    members = 2_000_000 // len(member)
    day = folder / BOMB_DAY
    day.mkdir(parents=True, exist_ok=True)
    (day / "402913786551_CloudTrail_us-east-1_20250101T0005Z_bomb000000000000.json.gz").write_bytes(member * members)
    root = {"eventVersion": "1.09", "userIdentity": {"type": "Root"}, "eventTime": "2025-01-01T00:01:00Z",
            "eventType": "AwsApiCall", "eventName": "ConsoleLogin", "eventID": "good"}
    (day / "402913786551_CloudTrail_us-east-1_20250101T0005Z_good000000000000.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": [root]}).encode()))
    return members * 2**20


def bomb_child(folder: Path) -> dict:
    """The child's side of ``--bomb``: one scan with the default limit, its own peak RSS."""
    from datetime import UTC, datetime

    from rootwatch.logarchive import LocalArchive, scan

    pattern = compile_pattern(PATTERN)
    start = time.perf_counter()
    result = scan(LocalArchive(folder), pattern, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    return {"seconds": time.perf_counter() - start, "matches": len(result.events),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "said": result.stats.examples}


def bomb_report() -> int:
    inflated = make_bomb(BOMB_DIR)
    bomb = next((BOMB_DIR / BOMB_DAY).glob("*bomb*"))
    child = subprocess.run([sys.executable, __file__, "--bomb-child", str(BOMB_DIR)], check=False,
                           capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(f"the bomb scan failed:\n{child.stderr}")
    got = json.loads(child.stdout.splitlines()[-1])
    baseline = json.loads(subprocess.run([sys.executable, "-c", "import json, resource, rootwatch.logarchive; print("
                                          "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"],
                                         check=True, capture_output=True, text=True).stdout)
    print(f"gzip bomb: {bomb.stat().st_size / 1e6:.1f} MB inflating to {inflated / 1e9:.1f} GB, beside one good file")
    print(f"rootwatch scan: {got['seconds']:.2f} s, peak RSS {got['peak_mb']:.0f} MB (an idle process with "
          f"rootwatch.logarchive imported: {baseline:.0f} MB), {got['matches']} match(es)")
    print(f"it said: {'; '.join(got['said'])}")
    return 0 if got["matches"] == 1 and got["said"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where the archive is made and kept (default: by --layout)")
    parser.add_argument("--layout", choices=list(LAYOUT_DIRS), default="cloudtrail",
                        help="records as CloudTrail writes them, or as a SIEM exports them back")
    parser.add_argument("--bomb", action="store_true", help="scan a 2 MB gzip bomb instead: time and peak RSS")
    parser.add_argument("--events", type=int, default=Spec.events)
    parser.add_argument("--files", type=int, default=Spec.files)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast contender (best is kept)")
    parser.add_argument("--repeat-slow", type=int, default=1, help="runs of orjson, jq and pandas")
    parser.add_argument("--only", help="comma-separated contenders, e.g. zlib-floor,rootwatch")
    parser.add_argument("--with-pandas", action="store_true", help="also time pandas (minutes)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--contender", choices=list(CONTENDERS), help=argparse.SUPPRESS)  # a child's one run
    parser.add_argument("--bomb-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.dir = args.dir or LAYOUT_DIRS[args.layout]
    if args.contender:
        print(json.dumps(run_contender(args.contender, args.dir)))
        return 0
    if args.bomb_child:
        print(json.dumps(bomb_child(args.bomb_child)))
        return 0
    if args.bomb:
        return bomb_report()
    manifest, made = ensure_archive(args.dir, Spec(events=args.events, files=args.files, layout=args.layout))
    busy = busy_cores()
    names = args.only.split(",") if args.only else [n for n in CONTENDERS if n != "pandas" or args.with_pandas]
    timings = measure(names, args.dir, args.repeat, args.repeat_slow)
    wrong = {t.name: t.matches for t in timings.values() if t.matches not in (None, manifest.expected)}
    if args.json:
        print(json.dumps({"archive": asdict(manifest), "busy_cores": busy, "timings": [asdict(t) for t in timings.values()],
                          "goals": verdicts(timings), "miscounts": wrong}, indent=1))
    else:
        print_report(manifest, made, args.dir, busy, timings)
    if wrong:
        print(f"MISCOUNT: expected {manifest.expected:,} matches, got {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
