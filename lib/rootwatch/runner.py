"""``rootwatch run``: parameters → a signed evidence bundle in a new directory.

Everything that can be checked before running is checked first (parameters, credentials, signing
keys, the output path), so bad input costs one line and nothing on disk changes. The bundle is
assembled in a hidden staging directory marked ``INCOMPLETE`` and moved into place only when
complete and signed; a run that fails or is interrupted is left as ``<run-id>.incomplete`` —
never signed, never mistaken for evidence. An existing directory is never written into.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import itertools
import json
import os
import platform
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

import yaml

from rootwatch import __version__
from rootwatch.bundle import manifest as mf
from rootwatch.bundle.readme import readme
from rootwatch.bundle.sign import KmsSigner, Signer, SshSigner, X509Signer
from rootwatch.catalog import load_catalog
from rootwatch.errors import Interrupted, ParameterError, RootwatchError
from rootwatch.extras import require
from rootwatch.imports import import_without
from rootwatch.models import SANDBOX_BANNER, Finding, load_findings, tally
from rootwatch.outputs import usable_output
from rootwatch.params import RUN_KEYS, RunOptions, RunParams, apply_sets, load_file

if TYPE_CHECKING:
    from rootwatch.report.pdf import PdfOutcome

NOTEBOOK = "root_usage_evidence.ipynb"
KERNEL_LOG = "kernel.log"  # what the notebook's kernel printed: kept beside a failed run only
# KERNEL_SHUTDOWN: the kernel is stopped at once when the notebook is done (its outputs are all in hand,
# and what it holds is in memory: the sandbox, frames): asked to exit, a kernel with pandas, matplotlib and
# moto loaded takes 2.5 s to wind down, and the report waited for it.
PACKAGES = ("rootwatch", "boto3", "botocore", "pandas", "pyarrow", "matplotlib", "papermill", "nbconvert",
            "weasyprint", "pyhanko", "cryptography", "moto")


class RunFailed(RootwatchError):
    """The run stopped part-way; its directory is marked incomplete and is not signed."""


@dataclass(frozen=True)
class RunResult:
    directory: Path
    findings: list[Finding]
    pdf: PdfOutcome
    signers: list[str]
    seconds: dict[str, float]  # wall time of each stage, for bench/run.py
    gaps: int = 0  # evidence gaps: calls that could not be read
    count_tests: bool = False  # rootwatch's own tests count in the exit code (count_rootwatch_tests: true)

    @property
    def statuses(self) -> set[str]:
        """What the exit code follows: the benchmark's verdicts, and rootwatch's tests when asked."""
        return {f.status for f in self.findings if f.benchmark_control or self.count_tests}

    def account_lines(self) -> list[str]:
        """One line per account: its controls' verdicts."""
        by_account: dict[tuple[str, str], list[str]] = {}
        for f in self.findings:
            by_account.setdefault((f.account_label, f.account_id), []).append(f"{f.key} {f.status}")
        return [f"  {label} ({account}): {', '.join(verdicts)}" for (label, account), verdicts in by_account.items()]

    def counts(self, tests: bool = False) -> dict[str, int]:
        """Findings by status: the benchmark's controls, or (``tests``) rootwatch's own tests."""
        return tally(self.findings, benchmark=not tests)

    def summary(self) -> str:
        counts, tests = self.counts(), self.counts(tests=True)
        accounts = len({f.account_id for f in self.findings})
        own = (f"; rootwatch tests {tests['PASS']} PASS, {tests['FAIL']} FAIL, {tests['GAP']} GAP"
               f"{'' if self.count_tests else ' (not in the exit code)'}") if sum(tests.values()) else ""
        return (f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['GAP']} GAP over {accounts} account(s) "
                f"and {len({f.control for f in self.findings if f.benchmark_control})} control(s){own}; "
                f"{self.gaps} evidence gap(s); "
                f"{'signed bundle' if self.signers else 'UNSIGNED bundle (signing names no signer)'}: {self.directory}")


@dataclass(frozen=True)
class Plan:
    """A validated run, ready to execute."""

    notebook_parameters: dict[str, Any]
    params: RunParams
    options: RunOptions
    signers: list[Signer]
    directory: Path
    raw_parameters: dict[str, Any]


def notebooks_dir() -> Path:
    """Where the notebooks are: ``ROOTWATCH_NOTEBOOKS`` (a user's own copies), else the ones installed
    inside the package (a wheel), else the checkout's top-level ``notebooks/`` (their source)."""
    override = os.environ.get("ROOTWATCH_NOTEBOOKS")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "notebooks"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "notebooks"


def prepare(params_file: str | Path, sets: list[str], out: str | Path | None,
            reports: Path = Path("reports")) -> Plan:
    """Validate everything, open the signing keys and choose the run directory, writing nothing."""
    mapping = apply_sets(load_file(params_file), sets)
    if "out_dir" in mapping:
        raise ParameterError("out_dir is chosen by rootwatch run", "use --out DIR instead")
    notebook = {k: v for k, v in mapping.items() if k not in RUN_KEYS}
    params = RunParams.from_mapping(notebook)
    load_catalog().select(params.controls, params.benchmark)  # an unknown id or edition fails here, not in the kernel
    options = RunOptions.from_mapping(mapping)
    if params.source == "sandbox":
        require("sandbox", "source: sandbox")
    if options.x509 is not None:
        require("x509", "signing.x509 (PAdES in the PDF)")
    if not (notebooks_dir() / NOTEBOOK).is_file():
        raise ParameterError(f"the evidence notebook {notebooks_dir() / NOTEBOOK} does not exist",
                             "unset ROOTWATCH_NOTEBOOKS or point it at a directory holding it, or reinstall rootwatch")
    session = None
    if params.source == "aws":
        from rootwatch.collect.session import make_session

        session = make_session(params.profile, params.home_region())
    if out is not None:
        target = Path(out)
        usable_output(target, "--out")
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", params.window_label).strip("-")
        target, suffix = reports / f"{stamp}-{params.source}-{slug}", 1
        while target.exists() or target.is_symlink() or _staging(target).exists():
            suffix += 1
            target = reports / f"{stamp}-{params.source}-{slug}-{suffix}"
        usable_output(target, "the run directory")
    signers = local_signers(options)  # after the output's checks: the development key is made on first use
    if session is not None:  # the network last: local mistakes are named first, and cost nothing
        from rootwatch.collect.session import preflight_all

        preflight_all(session, params.profile, params.profiles(), params.home_region())
    if options.kms is not None:
        signers.append(kms_signer(options, session, params))
    return Plan(notebook, params, options, signers, target.resolve(), mapping)


def local_signers(options: RunOptions) -> list[Signer]:
    """The signers whose keys are files: opened (passphrases checked) before anything else happens."""
    signers: list[Signer] = []
    if options.ssh is not None:
        signers.append(SshSigner.development() if options.ssh.key is None else
                       SshSigner.from_file(Path(options.ssh.key), options.ssh.passphrase_env))
    if options.x509 is not None:
        signers.append(X509Signer.from_pkcs12(Path(options.x509.path), options.x509.passphrase_env))
    return signers


def kms_signer(options: RunOptions, session: Any, params: RunParams) -> Signer:
    if session is None:
        from rootwatch.collect.session import make_session

        session = make_session(params.profile)
    region = options.kms.region or params.regions[0]
    return KmsSigner.connect(session.client("kms", region_name=region), options.kms.key_id)


class OutputLock:
    """One run per output: ``.<run-id>.lock`` beside the run directory names the pid and host of the run
    writing it. A second run into the same output is refused while that run lives; a lock left by a run
    that died on this host is taken over (its staging directory is then set aside, never touched while
    its owner lives). A lock from another host cannot be checked and is refused with what to do."""

    held: set[Path] = set()  # locks this process holds: entering one again (the CLI, then execute) is free

    def __init__(self, target: Path) -> None:
        self.path = target.with_name(f".{target.name}.lock")
        self.target = target
        self.owned = False

    def __enter__(self) -> OutputLock:
        if self.path in OutputLock.held:
            return self
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat()}
        for _ in range(2):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644)
            except FileExistsError:
                self._stale_or_refuse()
                continue
            with os.fdopen(handle, "w") as out:
                json.dump(me, out)
            self.owned = True
            OutputLock.held.add(self.path)
            return self
        raise ParameterError(f"{self.target} is being written by another rootwatch run", "choose another --out")

    def _stale_or_refuse(self) -> None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
            pid, host = int(owner["pid"]), str(owner["host"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ParameterError(f"{self.path} exists and is not a rootwatch lock", "remove it if no run is "
                                 "writing " + str(self.target)) from None
        if host != socket.gethostname():
            raise ParameterError(f"{self.target} is being written by rootwatch run pid {pid} on host {host!r}",
                                 f"choose another --out, or remove {self.path} once that run is gone")
        if _alive(pid):
            raise ParameterError(f"{self.target} is being written by rootwatch run pid {pid} on this host",
                                 "wait for it to finish, or choose another --out")
        self.path.unlink(missing_ok=True)  # its owner died: the next attempt takes it

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            OutputLock.held.discard(self.path)
            self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _staging(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def execute(plan: Plan, progress: bool = True, on_stage: Callable[[str], None] | None = None) -> RunResult:
    """Run the notebook, render, sign, and move the bundle into place. ``on_stage`` hears each stage
    as it starts (the CLI's log)."""
    with claim(plan):
        return _execute(plan, _staging(plan.directory), progress, on_stage)


def claim(plan: Plan) -> OutputLock:
    """The output's lock (``with runner.claim(plan): ...``): taken before the run says it starts, so a
    refused second run prints its one line only."""
    plan.directory.parent.mkdir(parents=True, exist_ok=True)
    return OutputLock(plan.directory)


def _execute(plan: Plan, staging: Path, progress: bool, on_stage: Callable[[str], None] | None) -> RunResult:
    if staging.is_symlink():
        raise ParameterError(f"{staging} is a symlink", "remove it: rootwatch assembles bundles in a directory of "
                                                        "its own")
    if staging.exists():  # left by a run killed outright (SIGKILL, power loss), since we hold the lock: set aside
        staging.rename(_incomplete_name(plan.directory))
    staging.mkdir(exist_ok=False)
    marker = staging / mf.INCOMPLETE
    marker.write_text("run in progress or interrupted: this directory is not evidence and is not signed\n")
    started = datetime.now(UTC)
    clock = _Clock(on_stage)
    try:
        with clock("notebook (collect, judge, charts)"):
            findings = _notebook(plan, staging, progress)
        collection = json.loads((staging / "collection.json").read_text(encoding="utf-8"))
        pdf = _render(plan, staging, findings, collection, clock)
        with clock("bundle (context, manifest)"):
            _write_context(plan, staging, started, pdf, collection)
            marker.unlink()
            manifest = mf.write(staging, plan.directory.name, datetime.now(UTC).isoformat(timespec="seconds"),
                                __version__)
        with clock("signatures"):
            signatures = staging / "signatures"
            signatures.mkdir()
            for signer in plan.signers:
                signer.sign_manifest(manifest.read_bytes(), signatures)
            if plan.directory.exists():
                raise RunFailed(f"{plan.directory} appeared while the run was going", "run again into a new directory")
            staging.rename(plan.directory)
    except BaseException as exc:
        _abandon(staging, plan.directory, exc)
        raise
    result = RunResult(plan.directory, findings, pdf, [s.identity for s in plan.signers], clock.seconds,
                       collection.get("gaps", 0), plan.options.count_tests)
    if plan.options.archive is not None:
        _archive(plan)
    return result


def _prepare_rendering(renderer: str) -> Callable[[], None]:
    """What imports the report's renderers (nbconvert, and WeasyPrint when it renders the PDF): called
    once the kernel is launched, it runs while the kernel starts (a second on its own core) instead of
    on the run's critical path. A module that cannot be imported fails quietly here, and again, with
    its message, where it is used (pdf.render names what to install)."""
    modules = ["rootwatch.report.html", "rootwatch.report.pdf", *(["weasyprint"] if renderer == "weasyprint" else [])]

    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):  # a missing or broken renderer is reported by pdf.render
                importlib.import_module(name)

    return load


def _archive(plan: Plan) -> list[str]:
    from rootwatch.bundle.retention import upload
    from rootwatch.collect.session import make_session

    a = plan.options.archive
    session = make_session(plan.params.profile) if plan.params.source == "aws" else make_session()
    return upload(plan.directory, session.client("s3", region_name=a.region or plan.params.regions[0]), a.bucket,
                  a.prefix, a.mode, a.days)


def abandon(plan: Plan, exc: BaseException) -> Path | None:
    """What an interrupted run leaves (``_abandon``), whether or not its unwinding got that far: the
    CLI's last resort calls this from another thread when a signal's unwinding hangs. The partial
    run's path, if anything was written."""
    _abandon(_staging(plan.directory), plan.directory, exc)
    return incomplete_path(plan.directory)


_ABANDONING = threading.Lock()  # the unwinding and the CLI's last resort may both get there


def _abandon(staging: Path, target: Path, exc: BaseException) -> None:
    """Leave the partial run visible as ``<run-id>.incomplete``, marked, and never signed. Best effort
    on a full disk: the marker written at the start stays if the reason cannot be added."""
    with _ABANDONING:
        _set_aside(staging, target, exc)


def _set_aside(staging: Path, target: Path, exc: BaseException) -> None:
    if not staging.exists():
        return
    sig = staging / "signatures"
    if sig.exists():
        for path in sig.iterdir():
            path.unlink()
        sig.rmdir()
    try:
        (staging / mf.INCOMPLETE).write_text(f"the run did not complete: {_why(exc)}\n"
                                             "this directory is not evidence and is not signed\n")
    except OSError:
        pass
    staging.rename(_incomplete_name(target))


def _why(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, Interrupted) else f"{type(exc).__name__}: {exc}"


def incomplete_path(target: Path) -> Path | None:
    """Where the last abandoned run into ``target`` was left, for the operator's message."""
    left = None
    for candidate in _incomplete_names(target):
        if not candidate.exists():
            return left
        left = candidate
    return left


def _incomplete_name(target: Path) -> Path:
    """The next free name: nothing already written is replaced."""
    return next(c for c in _incomplete_names(target) if not c.exists())


def _incomplete_names(target: Path) -> Iterator[Path]:
    """``<run-id>.incomplete``, then ``-2``, ``-3``... in the order runs are abandoned."""
    yield target.with_name(f"{target.name}.incomplete")
    yield from (target.with_name(f"{target.name}.incomplete-{n}") for n in itertools.count(2))


def import_papermill() -> ModuleType:
    """papermill without pyarrow and numpy (~0.2 s of this process's start): it imports ``pyarrow.fs``
    only to read and write hdfs:// paths, and a run's notebook is a local file."""
    return import_without("papermill", ["pyarrow.fs"])


def _notebook(plan: Plan, staging: Path, progress: bool) -> list[Finding]:
    papermill = import_papermill()
    from papermill.exceptions import PapermillExecutionError

    output, log = staging / NOTEBOOK, staging / KERNEL_LOG
    try:
        load = _prepare_rendering(plan.options.renderer)
        with log.open("w", encoding="utf-8") as kernel_output, _sandbox(plan, load) as kernel_env:
            papermill.execute_notebook(str(notebooks_dir() / NOTEBOOK), str(output),
                                       parameters={**plan.notebook_parameters, "out_dir": str(staging)},
                                       progress_bar=progress, kernel_name="python3", cwd=str(staging),
                                       # written once, at the end (or with the error that stopped it), not
                                       # again at each of the ~30 cell starts and ends: each copies,
                                       # validates and writes the whole notebook, PNGs and all (~0.5 s)
                                       request_save_on_cell_execute=False,
                                       shutdown_kernel="immediate",  # see KERNEL_SHUTDOWN
                                       kernel_manager_class=_local_kernel_manager(
                                           kernel_output, (lambda: None) if kernel_env else load, kernel_env))
    except PapermillExecutionError as exc:
        if exc.ename in ("ParameterError", "CredentialsError", "CatalogError"):
            problem, _, hint = exc.evalue.partition("; ")
            raise ParameterError(problem, hint) from None
        raise RunFailed(f"the evidence notebook failed ({exc.ename}: {exc.evalue})",
                        f"see {NOTEBOOK} in the .incomplete directory") from None
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - a kernel that died or never started: papermill's many types
        raise RunFailed(f"the evidence notebook could not be executed ({type(exc).__name__}: {exc})",
                        f"see {KERNEL_LOG} in the .incomplete directory") from None
    log.unlink()  # the kernel's own chatter is no evidence; it stays beside a failed run only
    return load_findings((staging / "findings.json").read_text(encoding="utf-8"))


@contextlib.contextmanager
def _sandbox(plan: Plan, then: Callable[[], None]) -> Iterator[dict[str, str]]:
    """For ``source: sandbox``, the sandbox served from this process while the notebook runs (its
    environment for the kernel): seeded while the kernel starts rather than after, by a process
    that is otherwise waiting on the kernel; ``then`` once it is seeded (``prepare`` has required the
    sandbox extra)."""
    if plan.params.source != "sandbox":
        yield {}
        return
    from rootwatch.sandbox import served

    with served(plan.params.window.end, then, plan.params.accounts) as kernel_env:
        yield kernel_env


def _local_kernel_manager(output: IO[str], launched: Callable[[], None], env: dict[str, str]) -> type:
    """A kernel reached over Unix sockets (files only this user can open) rather than loopback TCP,
    which any local process could connect to, and whose own output goes to ``output``, not to the
    run's stdout (the one-line summary) and stderr (the run's log, JSON lines for machines) — a
    kernel left starting by an interrupted run would otherwise write its farewell there. ``launched``
    runs once the kernel's process is started, while it starts up; ``env`` is added to its environment."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class LocalKernelManager(KernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            """This interpreter, whatever kernels Jupyter has registered: the notebook must run the
            rootwatch that was installed with the command, not one a ``python3`` kernel spec names."""
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="rootwatch", language="python")

        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["env"] = {**kw.get("env", os.environ), **env}
            await super()._async_launch_kernel(kernel_cmd, **{**kw, "stdout": output, "stderr": output})
            launched()

    return LocalKernelManager


class _Clock:
    """Wall time per stage: ``with clock("stage"): ...``; ``on_stage`` hears each stage as it starts."""

    def __init__(self, on_stage: Callable[[str], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.on_stage = on_stage or (lambda stage: None)

    def __call__(self, stage: str) -> Any:
        import time

        @contextlib.contextmanager
        def timed() -> Any:
            self.on_stage(stage)
            start = time.perf_counter()
            try:
                yield
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
        return timed()


def _render(plan: Plan, staging: Path, findings: list[Finding], collection: dict[str, Any],
            clock: _Clock) -> PdfOutcome:
    from rootwatch.report.pdf import render
    from rootwatch.report.html import Cover, write_html

    p = plan.params
    scope = [("source", "embedded sandbox organisation" if p.source == "sandbox" else f"AWS profile {p.profile}"
                        if p.profile else "AWS, the default credential chain (no profile named)"),
             ("window", f"{p.window_label} ({p.window})"), ("regions", ", ".join(p.regions)),
             ("controls", ", ".join(p.controls or dict.fromkeys(f.control for f in findings))
              + f" ({findings[0].benchmark if findings else '-'})"),
             ("caller identities", ", ".join(v or "?" for v in collection["caller_identities"].values())),
             ("collected", (f"{_utc(collection['started'])} – {_utc(collection['finished'])}, "
                            f"{collection['api_calls']} API "
                            f"calls, {collection.get('retried_calls', 0)} retried, "
                            f"{collection.get('gaps', 0)} evidence gap(s)"))]
    people = plan.options.attribution
    scope = [("organisation", people.organisation or "not named (report.organisation in the parameter file)"),
             *scope,
             ("prepared by", people.preparer or "not named (report.preparer in the parameter file)"),
             ("reviewed by", people.reviewer or "no reviewer named (report.reviewer in the parameter file)"),
             ("rootwatch", _made_by()),
             ("verify", f"this report belongs to the evidence bundle {plan.directory.name}: rootwatch verify "
                        f"{plan.directory.name} --trusted-key <the signer's public key>, or by hand as its "
                        "README.txt says; the report alone proves nothing" if plan.signers else
                        f"this report belongs to the evidence bundle {plan.directory.name}, which is NOT signed: "
                        "nothing proves that it, or this report, is unchanged")]
    cover = Cover(report_title(p.controls, p.benchmark), plan.directory.name, scope,
                  [s.identity for s in plan.signers], findings, plan.options.paper,
                  SANDBOX_BANNER if p.source == "sandbox" else None)
    with clock("HTML report"):
        html = write_html(staging / NOTEBOOK, staging / "report.html", cover)
    pdf = staging / "report.pdf"
    with clock(f"PDF ({plan.options.renderer})"):
        outcome = render(html, pdf, plan.options.renderer)
        if outcome.produced:
            for signer in plan.signers:
                if isinstance(signer, X509Signer):
                    signer.sign_pdf(pdf)
    return outcome


def _utc(stamp: str) -> str:
    """An ISO time as an auditor reads it: UTC, to the second."""
    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def report_title(controls: tuple[str, ...], benchmark: str | None) -> str:
    """The report's title, true of the selection: one control is named by its own title, several by
    their edition and numbers (a run over every monitoring control is not "root usage")."""
    catalog = load_catalog()
    root, monitoring = catalog.select_root(controls, benchmark), catalog.select(controls, benchmark)
    chosen = [*root, *monitoring]
    edition = catalog.benchmarks[chosen[0].benchmark]
    if len(chosen) == 1:
        claim = chosen[0].title.removeprefix("Ensure ")
        return f"{claim[0].upper()}{claim[1:]} — evidence report, {edition} {chosen[0].id}"
    kind = "monitoring " if not root else "root-hygiene " if not monitoring else ""
    return f"{len(chosen)} {kind}controls ({', '.join(c.id for c in chosen)}) — evidence report, {edition}"


def _made_by() -> str:
    git = _git()
    commit = git.get("commit")
    if not commit:
        return f"version {__version__}"
    return f"version {__version__}, commit {commit[:12]}" + (" (with uncommitted changes)" if git.get("dirty") else "")


def _write_context(plan: Plan, staging: Path, started: datetime, pdf: PdfOutcome, collection: dict[str, Any]) -> None:
    (staging / "parameters.yaml").write_text(
        "# the parameters of this run, as given (never credentials: keys are paths, passphrases env names)\n"
        + yaml.safe_dump(plan.raw_parameters, sort_keys=True), encoding="utf-8")
    environment = {
        "rootwatch": __version__, "git": _git(), "python": sys.version.split()[0], "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "caller_identities": collection["caller_identities"],
        "run": {"started": started.isoformat(timespec="seconds"),
                "finished": datetime.now(UTC).isoformat(timespec="seconds")},
        "collection": {"started": collection["started"], "finished": collection["finished"]},
        "pdf": {"produced": pdf.produced, "renderer": pdf.renderer, "message": pdf.message},
        "signers": [{"kind": s.KIND.kind, "identity": s.identity} for s in plan.signers],
    }
    (staging / "environment.json").write_text(json.dumps(environment, indent=2) + "\n", encoding="utf-8")
    (staging / "README.txt").write_text(readme(plan.directory.name, pdf.produced, pdf.message,
                                               [s.KIND.kind for s in plan.signers]), encoding="utf-8")


@functools.cache  # the cover and environment.json both name it; git is asked once per run
def _git() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10, check=True).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
