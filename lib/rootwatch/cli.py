"""The ``rootwatch`` command: argument parsing, one library call per subcommand, and the one
exit-code table. Errors are printed on one line of stderr: the problem, then what to do."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from enum import IntEnum
from pathlib import Path
from typing import NoReturn

from rootwatch import __version__, untrusted
from rootwatch.errors import Interrupted, ParameterError, RootwatchError, Unreachable
from rootwatch.log import Log
from rootwatch.models import Status, roll_up

CACHE = Path("~/.cache/rootwatch/archive")
INTERRUPT_GRACE_S = 10.0  # after a SIGINT/SIGTERM, the longest a run may take to unwind on its own
NOTIFY = re.compile(r"^([^@\s]+@[^@\s]+\.[^@\s]+|https://\S+|\+[1-9]\d{7,14})$")  # SNS email, https, sms


class Exit(IntEnum):
    PASS = 0  # every verdict PASS
    FAIL = 1  # at least one FAIL
    BAD_INPUT = 2  # bad parameters, pattern, credentials, bundle or usage
    GAP = 3  # evidence gaps, no FAIL
    INCOMPLETE = 4  # the run could not complete (disk full, notebook error): left <run-id>.incomplete, unsigned
    SIGINT = 130  # interrupted (128 + signal number, as shells report it): left incomplete, unsigned
    SIGTERM = 143


VERDICT = {Status.PASS: Exit.PASS, Status.FAIL: Exit.FAIL, Status.GAP: Exit.GAP}  # the run's verdicts, rolled up


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"rootwatch: {message}; run '{self.prog} --help' for usage\n")
        raise SystemExit(Exit.BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rootwatch", description="Signed evidence that the CIS monitoring controls work.")
    parser.add_argument("--version", action="version", version=f"rootwatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    pattern = commands.add_parser("pattern", help="judge CloudWatch Logs filter patterns by meaning")
    pattern_commands = pattern.add_subparsers(dest="pattern_command", required=True, parser_class=_Parser)
    check = pattern_commands.add_parser("check", help="does PATTERN cover a control? (exit 0 yes, 1 no)")
    check.add_argument("pattern", help="the metric filter's pattern, e.g. '{ $.userIdentity.type = Root }'")
    check.add_argument("--control", required=True, help="catalog control id, e.g. 4.3")
    check.add_argument("--benchmark", help="benchmark edition (default: the catalog's default)")
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.set_defaults(handler=_pattern_check)
    table = pattern_commands.add_parser("table", help="judge every catalog text under one benchmark")
    table.add_argument("--benchmark", help="benchmark edition (default: the catalog's default)")
    table.add_argument("--json", action="store_true", help="print the rows as JSON")
    table.set_defaults(handler=_pattern_table)
    editions = pattern_commands.add_parser("editions", help="how each edition's reference relates to the default's")
    editions.set_defaults(handler=_pattern_editions)

    run = commands.add_parser("run", help="run the evidence notebook into a new report directory")
    run.add_argument("params", help="parameter file, e.g. parameters/sandbox.yaml")
    run.add_argument("--out", help="the run directory to create (default: a new directory under reports/)")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter (YAML value), e.g. --set window=2026-Q3; repeatable")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no progress lines")
    run.add_argument("--log-format", choices=("text", "json"), default="text",
                     help="stderr as text lines (default) or one JSON object per line, for schedulers")
    run.set_defaults(handler=_run)

    verify = commands.add_parser("verify", help="verify a bundle's files and signatures against the signer you "
                                                "were given (exit 0 verified, 1 not)")
    verify.add_argument("bundle", help="a run directory, e.g. reports/20261125T120000Z-sandbox-2026-Q3")
    verify.add_argument("--trusted-key", action="append", default=[], metavar="FILE.pub",
                        help="the signer's OpenSSH public key (or an allowed_signers file); repeatable")
    verify.add_argument("--trusted-ca", action="append", default=[], metavar="FILE.pem",
                        help="an X.509 CA certificate the CMS signer must chain to, or the signer's certificate "
                             "itself (PEM or DER); repeatable")
    verify.add_argument("--trusted-kms", action="append", default=[], metavar="FILE",
                        help="a KMS key's public key, as aws kms get-public-key exports it (DER or PEM); repeatable")
    verify.add_argument("--no-pin", action="store_true",
                        help="exit 0 for 'integrity intact; signer not pinned': who signed is not checked")
    verify.set_defaults(handler=_verify)

    events = commands.add_parser("events", help="scan CloudTrail log files (a folder or s3://) with a control's pattern")
    where = events.add_mutually_exclusive_group(required=True)
    where.add_argument("--archive", metavar="DIR|s3://BUCKET/PREFIX",
                       help="where AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz lives")
    where.add_argument("--athena", metavar="DATABASE.TABLE", help="query the trail's Athena table instead")
    where.add_argument("--lake", metavar="EVENT_DATA_STORE_ID", help="query a CloudTrail Lake event data store")
    events.add_argument("--workgroup", default="primary", help="Athena workgroup (default primary)")
    events.add_argument("--output-location", help="Athena results location s3://... (default: the workgroup's)")
    events.add_argument("--print-sql", action="store_true", help="print the --athena/--lake SQL and stop")
    what = events.add_mutually_exclusive_group(required=True)
    what.add_argument("--control", help="catalog control id: scan with its reference pattern, e.g. 4.3")
    what.add_argument("--pattern", help="a filter pattern of your own, e.g. '{ $.userIdentity.type = Root }'")
    events.add_argument("--benchmark", help="benchmark edition for --control (default: the catalog's default)")
    events.add_argument("--start", help="first day (YYYY-MM-DD) or instant (ISO 8601); default: 90 days before --end")
    events.add_argument("--end", help="last day, included (YYYY-MM-DD), or exclusive instant; default: now")
    events.add_argument("--out", metavar="FILE.parquet", help="the matching events (a new file; required unless "
                                                             "--print-sql)")
    events.add_argument("--cache", default=str(CACHE), help=f"Parquet cache of scanned days (default {CACHE})")
    events.add_argument("--no-cache", action="store_true", help="scan every file again, write no cache")
    events.add_argument("--profile", help="AWS profile for s3:// archives (default: the standard chain)")
    events.set_defaults(handler=_events)

    remediate = commands.add_parser("remediate", help="plan (or --apply) the changes that make failing links pass")
    remediate.add_argument("params", help="parameter file, e.g. parameters/sandbox.yaml")
    remediate.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                           help="override a parameter (YAML value), e.g. --set controls=all; repeatable")
    remediate.add_argument("--notify", action="append", default=[], metavar="ADDRESS",
                           help="subscribe ADDRESS (email, https:// or phone) to a new alerts topic; repeatable")
    remediate.add_argument("--out", help="directory for the plan (CLI, CloudFormation, Terraform) and evidence "
                                         "(default: a new directory under reports/)")
    remediate.add_argument("--apply", action="store_true", help="make the changes (default: dry run)")
    remediate.add_argument("--yes", action="store_true", help="apply without asking (needed when not interactive)")
    remediate.set_defaults(handler=_remediate)

    drill = commands.add_parser("drill", help="prove the root-usage alarm fires: write one synthetic, marked root "
                                              "record to the trail's log group and watch it through (opt-in)")
    drill.add_argument("params", help="parameter file, e.g. parameters/sandbox.yaml")
    drill.add_argument("--account", help="the account to drill (id or label) when the parameters name several")
    probes = drill.add_mutually_exclusive_group()
    probes.add_argument("--probe-queue", metavar="URL", help="an SQS queue you control, subscribed to the alarm's "
                                                            "topic: the drill also waits for its message there")
    probes.add_argument("--probe-endpoint", metavar="URL",
                        help="an HTTPS endpoint you control, subscribed to the alarm's topic, whose GET answers the "
                             "JSON list of notifications it received: the drill also waits for its message there")
    drill.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                       help="override a parameter (YAML value); repeatable")
    drill.add_argument("--out", help="the bundle directory to create (default: a new directory under reports/)")
    drill.add_argument("--max-wait", type=float, metavar="SECONDS", help="wait at most this long for each step "
                                                                         "(default: 10 min, the alarm's periods + 5 min)")
    drill.add_argument("--interval", type=float, default=None, metavar="SECONDS",
                       help="time between two reads while waiting (default 15)")
    drill.add_argument("--dry-run", action="store_true", help="show the plan (what would be written) and stop")
    drill.add_argument("--yes", action="store_true", help="drill without asking (needed when not interactive)")
    drill.set_defaults(handler=_drill)

    sandbox = commands.add_parser("sandbox", help="serve the sandbox organisation on 127.0.0.1 until Ctrl-C")
    sandbox.add_argument("--accounts", type=int, help="clone the organisation up to N accounts (benchmarks)")
    sandbox.add_argument("--days", type=int, default=90, help="days of CloudTrail records per account (default 90)")
    sandbox.add_argument("--latency-ms", type=int, default=0, help="added to every request once seeded")
    sandbox.add_argument("--hostile", action="store_true",
                         help="the healthy account's CloudTrail also carries root events with hostile text "
                              "(markup, control characters, 100 KB values, formulas: sandbox/hostile.py)")
    sandbox.add_argument("--faults", metavar="YAML", help="answer chosen calls with AWS failures once seeded "
                                                          "(throttling, 5xx, timeouts, AccessDenied...: see "
                                                          "lib/rootwatch/sandbox/faults.yaml)")
    sandbox.add_argument("--clock-speed", type=float, default=1.0, metavar="X",
                         help="the sandbox's clock runs X times real time once seeded (default 1; 600: a 5-minute "
                              "alarm period in half a second). Its time: <endpoint>/rootwatch-sandbox/clock")
    sandbox.set_defaults(handler=_sandbox)
    return parser


def _run(args: argparse.Namespace) -> Exit:
    from rootwatch import runner

    out: Log = args.messages
    stage = "preparation (nothing written yet)"

    def on_stage(name: str) -> None:
        nonlocal stage
        stage = name
        out.info("stage", f"rootwatch run: {name}", stage=name)

    plan = None

    def stopped(exc: Interrupted) -> Exit:
        left = runner.abandon(plan, exc) if plan else None
        kept = f"the partial run is {left} (not evidence, not signed)" if left else "nothing was written"
        out.error("interrupted", f"rootwatch: {exc} during {stage}; {kept}; run again", signal=exc.name,
                  stage=stage, incomplete=str(left) if left else None)
        return Exit(128 + exc.signum)

    with _interruptible(last_resort=stopped) as stop:
        try:
            plan = runner.prepare(args.params, args.sets, args.out)
            with runner.claim(plan):
                out.info("start", f"rootwatch run: {plan.params.source}, window {plan.params.window_label}, "
                                  f"writing {plan.directory}", source=plan.params.source,
                         window=plan.params.window_label, directory=str(plan.directory))
                result = runner.execute(plan, progress=not (args.quiet or out.json), on_stage=on_stage)
        except Interrupted as exc:
            return stop(exc)
        except (runner.RunFailed, OSError) as exc:
            if plan is None:
                raise
            left = runner.incomplete_path(plan.directory)
            problem = exc.one_line() if isinstance(exc, runner.RunFailed) else \
                f"could not write the run during {stage} ({exc.strerror or exc}: {exc.filename or ''}); free space " \
                f"or fix permissions and run again"
            out.error("incomplete", f"rootwatch: {problem}; the partial run is {left} (not evidence, not signed)",
                      stage=stage, incomplete=str(left) if left else None)
            return Exit.INCOMPLETE
    if not result.pdf.produced:
        out.warning("pdf", f"rootwatch run: {result.pdf.message}")
    for line in result.account_lines():
        out.info("account", line)
    code = VERDICT[roll_up(result.statuses)]
    if out.json:  # a machine reads one record per finding and the summary's counts; a text log would repeat stdout
        for f in result.findings:
            out.info("finding", f"{f.account_label} ({f.account_id}): {f.key} {f.status}", account_id=f.account_id,
                     account_label=f.account_label, control=f.control, check=str(f.check), key=f.key,
                     status=str(f.status), benchmark=f.benchmark)
        out.info("summary", result.summary(), **{k.lower(): v for k, v in result.counts().items()},
                 rootwatch_tests={k.lower(): v for k, v in result.counts(tests=True).items()},
                 gaps=result.gaps, bundle=str(result.directory), exit=int(code))
    print(result.summary())
    return code


@contextlib.contextmanager
def _interruptible(last_resort: Callable[[Interrupted], Exit] | None = None) \
        -> Iterator[Callable[[Interrupted], Exit]]:
    """SIGINT and SIGTERM raise ``Interrupted`` in the main thread, so the run unwinds through its
    cleanup (the bundle is marked incomplete and left unsigned) instead of dying mid-write. Yields
    ``last_resort`` as the block's handler of ``Interrupted``.

    An exception raised by a signal lands wherever the main thread is, and a library can hang on it:
    urllib3's connection pool once waited forever on a lock it held when the signal arrived. So if
    the process is still there ``INTERRUPT_GRACE_S`` after the signal, ``last_resort`` runs from a
    thread of its own and the process exits with its code: a scheduler's SIGTERM never leaves a run
    hanging. It runs once, in whichever thread comes first."""
    once = threading.Lock()
    watchdog: threading.Timer | None = None

    def handle(exc: Interrupted) -> Exit:
        if not once.acquire(blocking=False):  # the watchdog has it, and exits the process
            threading.Event().wait()
        return last_resort(exc) if last_resort else Exit(128 + exc.signum)

    def exit_now(exc: Interrupted) -> None:
        if once.acquire(blocking=False):  # the main thread has not reached its handler
            code = last_resort(exc)
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(int(code))

    def interrupt(signum: int, frame: object) -> None:
        nonlocal watchdog
        exc = Interrupted(signum)
        if last_resort is not None and watchdog is None:
            watchdog = threading.Timer(INTERRUPT_GRACE_S, exit_now, args=(exc,))
            watchdog.daemon = True
            watchdog.start()
        raise exc

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield handle
    finally:
        if watchdog is not None:
            watchdog.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _verify(args: argparse.Namespace) -> Exit:
    from rootwatch.bundle.verify import Trust, verify_bundle

    result = verify_bundle(Path(args.bundle), Trust.load(args.trusted_key, args.trusted_ca, args.trusted_kms,
                                                         args.no_pin))
    print("\n".join(result.lines()))
    return Exit.PASS if result.ok else Exit.FAIL


def _remediate(args: argparse.Namespace) -> Exit:
    from rootwatch.remediate import apply as remediate
    from rootwatch.params import RUN_KEYS, apply_sets, load_file

    loaded = apply_sets(load_file(args.params), args.sets)
    mapping = {k: v for k, v in loaded.items() if k not in RUN_KEYS}
    bad = [a for a in args.notify if not NOTIFY.match(a)]
    if bad:
        raise ParameterError(f"--notify {bad[0]!r} is not an email address, https:// URL or phone number",
                             "e.g. --notify secops@example.com or --notify +15555550100")
    if args.apply and not args.yes and not sys.stdin.isatty():
        raise ParameterError("--apply would change AWS accounts and this run cannot ask for confirmation",
                             "add --yes to apply without asking, or run without --apply for the plan")

    def review(result: remediate.Remediation) -> bool:
        """The plan, written and printed before anything changes; then the go-ahead."""
        print(result.cli())
        for plan in result.plans:
            for note in plan.notes:
                print(f"# note, {plan.label}: {note}")
        sys.stdout.flush()
        return bool(args.apply and result.changes) and (args.yes or _confirm(mapping))

    try:
        result = remediate.start(mapping, args.notify, apply=args.apply,
                                 out=Path(args.out) if args.out else remediate.unused_directory(),
                                 delivery_role=remediate.delivery_role(loaded.get("remediate")), review=review)
    except OSError as exc:
        print(f"rootwatch: could not write the remediation record ({exc.strerror or exc}: {exc.filename or ''}); "
              "nothing was changed after that, and the changes made before it (if any) are listed in the "
              "directory's changes.jsonl; free space or fix permissions and run again", file=sys.stderr)
        return Exit.INCOMPLETE
    print(result.comparison().to_string(index=False), file=sys.stderr)
    for failure in result.failed:
        print(f"rootwatch remediate: refused: {failure}", file=sys.stderr)
    made = len([c for c in result.calls if c.operation not in ("AssumeRole",) and not c.error])
    print(f"rootwatch remediate: {result.changes} change(s) planned, {made} made; plan and evidence in "
          f"{result.directory}", file=sys.stderr)
    return Exit.FAIL if result.failed else VERDICT[roll_up(result.statuses())]


def _confirm(mapping: dict) -> bool:
    answer = input(f"Apply the planned changes to the accounts of {mapping.get('source')}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


MAX_DRILL_WAIT_S = 3600.0  # CloudWatch's longest alarm period is a day, but a drill proves the next minutes


def _drill(args: argparse.Namespace) -> Exit:
    from rootwatch.drill import run as drill

    if not (args.dry_run or args.yes or sys.stdin.isatty()):
        raise ParameterError("a drill writes to the account and this run cannot ask for confirmation",
                             "add --yes to drill without asking, or --dry-run for the plan")

    def review(plan: drill.DrillPlan) -> bool:
        print("\n".join(untrusted.terminal(line, 10_000) for line in plan.lines()))
        sys.stdout.flush()
        if args.dry_run:
            return False
        if args.yes:
            return True
        answer = input(f"Write this record to {untrusted.terminal(plan.account_label)} ({plan.account_id})? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            return True
        raise ParameterError("the drill was not confirmed; nothing was written", "answer y, or add --yes")

    if any(v is not None and not 0 < v <= MAX_DRILL_WAIT_S for v in (args.max_wait, args.interval)):
        raise ParameterError("--max-wait and --interval must be seconds above 0", f"at most {MAX_DRILL_WAIT_S:.0f}")
    with _interruptible() as stop:
        try:
            result = drill.start(args.params, args.sets, args.account, args.probe_queue,
                                 Path(args.out) if args.out else None, review,
                                 say=lambda line: print(untrusted.terminal(line), file=sys.stderr),
                                 max_wait=args.max_wait, interval=args.interval, probe_endpoint=args.probe_endpoint)
        except Interrupted as exc:
            print(f"rootwatch drill: {exc}; nothing was signed; the drill's directory, if one was begun, holds "
                  "what was done so far and is marked INCOMPLETE (not evidence)", file=sys.stderr)
            return stop(exc)
        except OSError as exc:
            print(f"rootwatch drill: could not write the drill's record ({exc.strerror or exc}: {exc.filename or ''});"
                  " nothing was signed; the drill's directory, if one was begun, is marked INCOMPLETE (not evidence); "
                  "free space or fix permissions and drill again", file=sys.stderr)
            return Exit.INCOMPLETE
    if result is None:
        print("rootwatch drill: dry run: nothing was written")
        return Exit.PASS
    print(result.summary())
    return VERDICT[result.status]


LEFTOVER = "remove it if no rootwatch events is writing it"


def _events(args: argparse.Namespace) -> Exit:
    from rootwatch.frames.arrow import ARCHIVE_EVENTS, archive_rows, write_parquet
    from rootwatch.outputs import new_file, refuse_existing, usable_output
    from rootwatch.params import instant_range

    pattern = _events_pattern(args)
    start, end = instant_range(args.start, args.end)
    if args.print_sql:
        print(_events_sql(args, pattern, start, end))
        return Exit.PASS
    if not args.out:
        raise ParameterError("--out is missing", "name the Parquet file to write, e.g. --out root.parquet")
    out = Path(args.out)
    partial = out.with_name(f".{out.name}.partial")
    usable_output(out, "--out")
    refuse_existing(partial, "the partial file", LEFTOVER)  # a symlink planted there would be followed
    result = _events_query(args, pattern, start, end) if args.athena or args.lake else \
        _events_scan(args, pattern, start, end)
    with new_file(partial, "the partial file", LEFTOVER) as handle:
        write_parquet(ARCHIVE_EVENTS, archive_rows(result), handle)  # what pandas writes, without its import
    partial.replace(out)
    print(f"rootwatch events: {result.archive} {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC, "
          f"{result.stats.files_listed:,} files listed")
    print(f"rootwatch events: {result.stats.line()} -> {out}")
    return Exit.GAP if result.stats.warned else Exit.PASS


def _events_scan(args: argparse.Namespace, pattern, start, end):
    from rootwatch import logarchive as archive

    session = None
    if args.archive.startswith("s3://"):
        from rootwatch.collect.session import make_session

        session = make_session(args.profile)
    source = archive.open_archive(args.archive, session)
    result = archive.scan(source, pattern, start, end, cache=None if args.no_cache else args.cache)
    if result.stats.warned:
        from rootwatch.untrusted import terminal

        stats = result.stats
        shown = f"the first {len(stats.examples)}" if stats.unnamed else "each"
        print(f"rootwatch events: skipped {stats.counts()} (an evidence gap: exit 3); {shown}:", file=sys.stderr)
        for example in stats.examples:  # S3 keys are anyone's text who can write to the bucket
            print(f"rootwatch events:   {terminal(example)}", file=sys.stderr)
    return result


def _events_sql(args: argparse.Namespace, pattern, start, end) -> str:
    if not (args.athena or args.lake):
        raise ParameterError("--print-sql needs --athena or --lake", "name the table or event data store")
    from rootwatch.models import Window
    from rootwatch.patterns.sql import ATHENA, CLOUDTRAIL_LAKE, query

    return query(pattern, ATHENA if args.athena else CLOUDTRAIL_LAKE, args.athena or args.lake, Window(start, end))


def _events_query(args: argparse.Namespace, pattern, start, end):
    """Athena or CloudTrail Lake: the SQL from the pattern, every returned row re-checked by the evaluator."""
    from rootwatch.logarchive.scan import ArchiveScan, Match, ScanStats
    from rootwatch.collect.athena import AthenaLocation, athena_events, lake_events
    from rootwatch.collect.session import make_session

    sql = _events_sql(args, pattern, start, end)
    session = make_session(args.profile)
    if args.athena:
        rows = athena_events(session.client("athena"), sql, AthenaLocation(args.athena.split(".")[0], args.workgroup,
                                                                           args.output_location))
    else:
        rows = lake_events(session.client("cloudtrail"), sql)
    label = f"athena:{args.athena}" if args.athena else f"lake:{args.lake}"
    matches = [Match(e, label) for e in rows if pattern.matches(e)]
    stats = ScanStats(records_read=len(rows), records_skipped=0, records_matched=len(matches))
    return ArchiveScan(label, pattern.text, start, end, matches, stats)


def _events_pattern(args: argparse.Namespace):
    from rootwatch.catalog import load_catalog
    from rootwatch.patterns import compile_pattern

    if args.pattern is not None:
        return compile_pattern(args.pattern)
    return load_catalog().control(args.control, args.benchmark).reference


MAX_SANDBOX_ACCOUNTS = 1000  # bench/collect_org.py uses 100; each clone holds 90 days of records in memory


def _sandbox(args: argparse.Namespace) -> Exit:
    import time

    from rootwatch.extras import require

    require("sandbox", "rootwatch sandbox")
    if (args.accounts is not None and not 1 <= args.accounts <= MAX_SANDBOX_ACCOUNTS) or not 1 <= args.days <= 90 \
            or args.latency_ms < 0:
        raise ParameterError("sandbox options out of range", f"--accounts 1..{MAX_SANDBOX_ACCOUNTS}, --days 1..90, "
                                                             "--latency-ms >= 0")
    if not 0 <= args.clock_speed < float("inf"):
        raise ParameterError(f"--clock-speed {args.clock_speed:g} is out of range",
                             "give a number >= 0 (1 is real time)")
    from rootwatch.sandbox import Sandbox
    from rootwatch.sandbox.cloudwatch import CLOCK_PATH
    from rootwatch.sandbox.faults import load as load_faults

    faults = load_faults(args.faults) if args.faults else None
    try:
        with _interruptible(), Sandbox(accounts=args.accounts, days=args.days, latency=args.latency_ms / 1000,
                                       hostile=args.hostile, faults=faults,
                                       clock_speed=args.clock_speed) as sb:  # seeding stops on a signal too
            print(f"rootwatch sandbox: serving the sandbox organisation at {sb.endpoint} (Ctrl-C stops it)")
            print("# for a shell or JupyterLab (auditor credentials of the management account):")
            for key, value in sb.environment().items():
                print(f"export {key}={value}")
            for fault in sb.faults:
                print(f"# fault armed: {fault.describe()}")
            if args.clock_speed != 1:
                print(f"# sandbox clock: {args.clock_speed:g} x real time, now {sb.clock.now():%Y-%m-%dT%H:%M:%SZ} "
                      f"({sb.endpoint}{CLOCK_PATH})")
            print("# member accounts (assume their audit role):")
            for account in sb.accounts:
                print(f"#   {account.account_id}  {account.alias:<8}  {account.role_arn}")
            sys.stdout.flush()
            while True:
                time.sleep(3600)
    except Interrupted:
        pass
    print("rootwatch sandbox: stopped")
    return Exit.PASS


def _pattern_check(args: argparse.Namespace) -> Exit:
    from rootwatch.catalog import load_catalog
    from rootwatch.report.console import coverage_text
    from rootwatch.judge.pattern_coverage import judge

    control = load_catalog().control(args.control, args.benchmark)
    verdict = judge(control, args.pattern)
    print(json.dumps(verdict.to_dict(), indent=2) if args.json else coverage_text(verdict, control.title))
    return Exit.PASS if verdict.covers else Exit.FAIL


def _pattern_table(args: argparse.Namespace) -> Exit:
    from rootwatch.report.console import RELATION, table
    from rootwatch.judge.pattern_coverage import judge_catalog

    rows = judge_catalog(args.benchmark)
    if args.json:
        print(json.dumps([{"text": label, **cov.to_dict()} for _, label, cov in rows], indent=2))
    else:
        bench = rows[0][2].benchmark if rows else args.benchmark
        print(f"Catalog texts judged under {bench}\n")
        print(table(["control", "text", "verdict", "rule", "meaning", "canonical pattern"],
                    [(c.id, label, cov.status, cov.rule, RELATION[cov.relation], cov.canonical)
                     for c, label, cov in rows]))
        for control, label, cov in rows:
            if cov.warning:
                print(f"\nWarning, {control.id} ({label}): {cov.warning}")
    return Exit.PASS


def _pattern_editions(args: argparse.Namespace) -> Exit:
    from rootwatch.catalog import load_catalog
    from rootwatch.report.console import table
    from rootwatch.judge.pattern_coverage import edition_relations

    catalog = load_catalog()
    benches = list(catalog.benchmarks)
    rows = edition_relations(catalog)
    print(f"Each edition's printed reference compared by meaning with {catalog.default_benchmark}'s\n")
    print(table(["control", *benches], [(cid, *(cells[b] for b in benches)) for cid, cells in rows]))
    return Exit.PASS


def command() -> int:
    """The ``rootwatch`` command: ``main``, then an exit that skips the interpreter's last garbage
    collection over everything the run imported (pandas, WeasyPrint, papermill...): half a second of
    every command's wall time, freeing memory the process is about to give back anyway. Exit
    handlers and finalizers still run. Not for in-process callers, whose memory must stay collectable."""
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.messages = Log(json=getattr(args, "log_format", "text") == "json", quiet=getattr(args, "quiet", False))
    with args.messages.capturing(show=args.command != "verify"):  # verify's output is its verdict alone
        try:
            return int(args.handler(args))
        except RootwatchError as exc:
            args.messages.error("error", f"rootwatch: {exc.one_line()}", error=type(exc).__name__)
            return int(Exit.INCOMPLETE if isinstance(exc, Unreachable) else Exit.BAD_INPUT)
        except Exception as exc:  # noqa: BLE001 - a bug of rootwatch's: "could not complete", never exit 1 (FAIL)
            args.messages.error("internal-error", f"rootwatch: internal error ({type(exc).__name__}: "
                                f"{untrusted.terminal(str(exc))[:300]}); nothing was judged or signed by this "
                                "failure; please report it with the command you ran", error=type(exc).__name__)
            return int(Exit.INCOMPLETE)
