"""``rootwatch drill``: audit the root-usage chain of one account, plan the drill from its verdict,
show the plan, and only after the go-ahead write the record and watch it through; the evidence is
a signed bundle that ``rootwatch verify`` checks like a run's.

The order is the safeguard, as for remediation: the signing keys are opened and the parameters
checked before any AWS call; the plan, the verdict it rests on and every read behind it are on disk
(with ``INCOMPLETE``) before the first write; each call is on disk as it returns and each step in
``steps.jsonl`` as it ends. A drill that cannot finish leaves its directory marked INCOMPLETE and
unsigned: never mistaken for evidence."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from rootwatch import __version__
from rootwatch.bundle import manifest as mf
from rootwatch.bundle.readme import SIGNATURES_LINE, UNSIGNED, procedure
from rootwatch.bundle.sign import FILES, Signer
from rootwatch.catalog import load_catalog
from rootwatch.collect.chain import AccountEvidence, Target, assume, collect
from rootwatch.collect.evidence import Recorder, write_raw
from rootwatch.collect.session import Clients
from rootwatch.drill.plan import DrillPlan, plan_drill
from rootwatch.drill.record import new_drill_id
from rootwatch.drill.steps import Drive, Say, Step, StepResult
from rootwatch.errors import ParameterError
from rootwatch.judge.chain import judge_account
from rootwatch.models import SANDBOX_BANNER, Finding, Role, Status, dump_findings, roll_up
from rootwatch.outputs import usable_output
from rootwatch.params import RUN_KEYS, RunOptions, RunParams, apply_sets, load_file
from rootwatch.remediate.apply import new_directory, unused_directory
from rootwatch.runner import kms_signer, local_signers
from rootwatch.scope import Clock, Scope, opened

JOURNAL = "steps.jsonl"
# on the sandbox, its clock runs this much faster than ours: a 5-minute alarm period passes in 2.5 s
SANDBOX_SPEED = 120.0


@dataclass
class DrillResult:
    plan: DrillPlan
    directory: Path
    steps: list[StepResult]
    signers: list[str]

    @property
    def status(self) -> Status:
        """PASS only when every planned step was reached: a drill that stopped early proves nothing more."""
        expected = len(Step) - (0 if self.plan.probe else 1)
        status = roll_up(s.status for s in self.steps)
        return status if status != Status.PASS or len(self.steps) == expected else Status.GAP

    @property
    def latency(self) -> float | None:
        """Seconds from the write to the last step, when every step was reached."""
        if self.status != Status.PASS:
            return None
        first, last = self.steps[0], self.steps[-1]
        return ((last.at or last.seen) - (first.at or first.seen)).total_seconds()

    def summary(self) -> str:
        signed = ("signed bundle" if self.signers else "UNSIGNED bundle (signing names no signer)") + \
            (f" ({SANDBOX_BANNER})" if self.plan.sandbox else "")
        if self.status == Status.PASS:
            clock = " of the sandbox's clock" if self.plan.sandbox else ""
            return (f"rootwatch drill {self.plan.drill_id}: every step reached, {self.latency:.0f} s{clock} from the "
                    f"write to the last; {signed}: {self.directory}")
        stop = self.steps[-1]
        what = "stopped" if stop.status == Status.FAIL else "could not observe"
        return (f"rootwatch drill {self.plan.drill_id}: {what} at '{stop.step.title}' (link: {stop.step.link.title}): "
                f"{stop.reason}; {signed}: {self.directory}")

    def to_record(self) -> dict[str, Any]:
        return {"drill_id": self.plan.drill_id, "status": self.status, "latency_seconds": self.latency,
                "steps": [s.to_record() for s in self.steps],
                "stopped_at": None if self.status == Status.PASS else self.steps[-1].step.value, **self.plan.mark}


def start(params_file: str | Path, sets: list[str], account: str | None, probe_queue: str | None,
          out: Path | None, review: Callable[[DrillPlan], bool], say: Say, max_wait: float | None = None,
          interval: float | None = None, clock: Clock | None = None,
          probe_endpoint: str | None = None) -> DrillResult | None:
    """Audit, plan, ``review`` (the plan printed; True goes ahead), then drill; None when not approved
    (a dry run). ``max_wait`` caps each step's bound, ``interval`` is the time between reads (seconds)."""
    mapping = apply_sets(load_file(params_file), sets)
    params = RunParams.from_mapping({k: v for k, v in mapping.items() if k not in RUN_KEYS})
    options = RunOptions.from_mapping(mapping)
    catalog = load_catalog()
    control = catalog.by_role(Role.ROOT_USAGE, params.benchmark)
    signers = local_signers(options)
    if out is not None:
        usable_output(out, "--out")  # refused now, before any AWS call
    with opened(params, clock_speed=SANDBOX_SPEED) as scope:
        target = _target(scope, account)
        [ev] = collect([target], scope.regions, params.window, [control], endpoint_url=scope.endpoint, now=scope.now,
                       lookup_rate=scope.lookup_rate, history=False)
        finding = judge_account(ev, control, catalog)
        clock = clock or scope.clock
        plan = plan_drill(ev, finding, control, new_drill_id(), clock.now(), probe_queue,
                          probe_endpoint=probe_endpoint)
        plan = replace(plan, waits=plan.waits.capped(max_wait, interval), sandbox=params.source == "sandbox")
        if not review(plan):
            return None
        if options.kms is not None:
            signers.append(kms_signer(options, None, params))
        rec = Recorder(Clients(target.session, scope.endpoint, lookup_rate=None), ev.account_id,
                       max((c.seq for c in ev.calls), default=0))
        if target.role_arn is not None and not assume(rec, target, plan.region, scope.endpoint):
            raise ParameterError(f"the role {target.role_arn} could not be assumed again ({rec.gaps[-1].text}); "
                                 "nothing was written", "check the role and its trust, then drill again")
        directory = new_directory(out or unused_directory(kind="drill"))
        begin(directory, plan, ev, finding, mapping)
        return drill(plan, rec, directory, signers, clock, say)


def _target(scope: Scope, account: str | None) -> Target:
    """The one account drilled: named by ``--account`` (id or label) when the scope holds several."""
    if account is None and len(scope.targets) == 1:
        return scope.targets[0]
    names = ", ".join(t.label for t in scope.targets)
    if account is None:
        raise ParameterError(f"the parameters name {len(scope.targets)} accounts ({names}) and a drill proves one",
                             "name it with --account ID")
    chosen = [t for t in scope.targets if account in (t.label, t.account_id, t.provisional_id)]
    if len(chosen) != 1:
        raise ParameterError(f"--account {account} is not one of the parameters' accounts ({names})",
                             "name one of them by id or label")
    return chosen[0]


def begin(directory: Path, plan: DrillPlan, ev: AccountEvidence, finding: Finding, mapping: dict[str, Any]) -> None:
    """Everything the drill rests on, on disk before its first write."""
    (directory / mf.INCOMPLETE).write_text("drill in progress or interrupted: this directory is not evidence and "
                                           "is not signed\n", encoding="utf-8")
    (directory / "plan.json").write_text(json.dumps(plan.to_record(), indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")
    (directory / "plan.txt").write_text("\n".join(plan.lines()) + "\n", encoding="utf-8")
    (directory / "parameters.yaml").write_text(
        "# the parameters of this drill, as given (never credentials: keys are paths, passphrases env names)\n"
        + yaml.safe_dump(mapping, sort_keys=True), encoding="utf-8")
    before = directory / "before"
    before.mkdir()
    (before / "findings.json").write_text(dump_findings([finding], sandbox=plan.sandbox), encoding="utf-8")
    write_raw(ev.calls, before / "raw")
    _journal(directory, "plan", drill_id=plan.drill_id, plan="plan.json", **plan.mark)


def drill(plan: DrillPlan, rec: Recorder, directory: Path, signers: list[Signer], clock: Clock,
          say: Say) -> DrillResult:
    """The steps, each call and step on disk as it happens, then the signed bundle."""
    written = 0

    def keep_calls() -> None:
        nonlocal written
        write_raw(rec.calls[written:], directory / "raw")
        written = len(rec.calls)

    def on_step(result: StepResult) -> None:
        _journal(directory, result.step.value, **result.to_record(), **plan.mark)
        say(f"rootwatch drill: {result.step.title}: {result.status} at {result.seen:%H:%M:%S} UTC: {result.reason}")

    keep_calls()
    steps = Drive(plan, rec, clock, say, keep_calls).run(on_step)
    result = DrillResult(plan, directory, steps, [s.identity for s in signers])
    (directory / "drill.json").write_text(json.dumps(result.to_record(), indent=1, default=str) + "\n",
                                          encoding="utf-8")
    _seal(directory, plan, signers, clock.now())
    return result


def _journal(directory: Path, event: str, **details: Any) -> None:
    """One line of steps.jsonl, on disk before the drill goes on."""
    with (directory / JOURNAL).open("a", encoding="utf-8") as journal:
        journal.write(json.dumps({"logged": datetime.now(UTC).isoformat(), "event": event, **details}, default=str)
                      + "\n")
        journal.flush()
        os.fsync(journal.fileno())


PARTS = """\
rootwatch drill {drill_id}: evidence that the root-usage chain of account {account_id} fired (or where it stopped)
{banner}
Contents
  README.txt                  this file
  plan.txt, plan.json         what the drill would write and watch, written before its first write
  parameters.yaml             the parameters of the drill (no credentials)
  before/findings.json        the judged root-usage chain the drill was planned from
  before/raw/                 every AWS response behind that verdict
  raw/<account>/<region>/     every call of the drill (the write, then each read while waiting), with its response
  steps.jsonl                 each step as it ended, with timestamps (when AWS says it happened, when seen)
  drill.json                  the outcome: each step, where it stopped and why, the end-to-end latency
  environment.json            rootwatch version, when the bundle was sealed, signers
  SHA256SUMS                  SHA-256 of every file above, for `sha256sum -c`
  manifest.json               SHA-256 and size of every file above and of SHA256SUMS: what is signed
{signatures_line}{signatures}

The record the drill wrote is synthetic: root-shaped so the root-usage filter counts it, and marked
with the drill id in eventID, requestID, userAgent (rootwatch-drill/<id>) and
additionalEventData.rootwatchDrill, on a log stream of its own. It is not root activity.

How to verify this bundle
{procedure}
A bundle holding a file named INCOMPLETE did not finish and is not evidence.
"""


def _seal(directory: Path, plan: DrillPlan, signers: list[Signer], now: datetime) -> None:
    kinds = [s.KIND.kind for s in signers]
    names = " ".join(name for k in FILES if k in kinds for name in FILES[k]) or UNSIGNED
    (directory / "README.txt").write_text(PARTS.format(drill_id=plan.drill_id, account_id=plan.account_id,
                                                       banner=f"{SANDBOX_BANNER}\n" if plan.sandbox else "",
                                                       signatures_line=SIGNATURES_LINE, signatures=names,
                                                       procedure=procedure(kinds, False)), encoding="utf-8")
    (directory / "environment.json").write_text(json.dumps(
        {"rootwatch": __version__, "sealed": now.isoformat(timespec="seconds"),
         "signers": [{"kind": s.KIND.kind, "identity": s.identity} for s in signers]}, indent=2) + "\n",
        encoding="utf-8")
    (directory / mf.INCOMPLETE).unlink()
    manifest = mf.write(directory, directory.name, now.isoformat(timespec="seconds"), __version__)
    signatures = directory / mf.SIGNATURES
    signatures.mkdir()
    for signer in signers:
        signer.sign_manifest(manifest.read_bytes(), signatures)
