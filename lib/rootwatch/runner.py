"""``rootwatch run``: parameters → a new run directory holding the executed notebook, the HTML
report, the frames (CSV and Parquet), the raw responses and ``findings.json``.

Everything that can be checked before running is checked first (parameters, credentials, the
output directory), so bad input costs one line and nothing on disk changes. A run directory is
always new; a run that fails part-way is left marked ``INCOMPLETE`` and is never reported as done.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rootwatch.errors import ParameterError, RootwatchError
from rootwatch.params import RunParams, apply_sets, load_file
from rootwatch.report import write_html

NOTEBOOK = "root_usage_evidence.ipynb"
INCOMPLETE = "INCOMPLETE"


class RunFailed(RootwatchError):
    """The notebook stopped part-way; the run directory is marked incomplete."""


@dataclass(frozen=True)
class RunResult:
    directory: Path
    findings: list[dict[str, Any]]

    @property
    def statuses(self) -> set[str]:
        return {f["status"] for f in self.findings}

    def summary(self) -> str:
        counts = {s: sum(f["status"] == s for f in self.findings) for s in ("PASS", "FAIL", "GAP")}
        accounts = len({f["account_id"] for f in self.findings})
        return (f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['GAP']} GAP over {accounts} account(s) "
                f"and {len({f['control'] for f in self.findings})} control(s); report: "
                f"{self.directory / 'report.html'}")


def notebooks_dir() -> Path:
    """The project's notebooks/ (ROOTWATCH_NOTEBOOKS overrides, for installs outside a checkout)."""
    override = os.environ.get("ROOTWATCH_NOTEBOOKS")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "notebooks"


def prepare(params_file: str | Path, sets: list[str], out: str | Path | None,
            reports: Path = Path("reports")) -> tuple[dict[str, Any], RunParams, Path]:
    """Validate everything and choose the run directory, writing nothing."""
    mapping = apply_sets(load_file(params_file), sets)
    if "out_dir" in mapping:
        raise ParameterError("out_dir is chosen by rootwatch run", "use --out DIR instead")
    params = RunParams.from_mapping(mapping)
    if params.source == "aws":
        from rootwatch.collect.session import make_session

        make_session(params.profile, params.regions[0])
    if out is not None:
        target = Path(out)
        if target.exists():
            raise ParameterError(f"--out {target} already exists", "rootwatch never writes into an existing "
                                 "directory; choose a new path")
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", params.window_label).strip("-")
        target = reports / f"{stamp}-{params.source}-{slug}"
        suffix = 1
        while target.exists():
            suffix += 1
            target = reports / f"{stamp}-{params.source}-{slug}-{suffix}"
    return mapping, params, target.resolve()


def execute(mapping: dict[str, Any], params: RunParams, directory: Path, progress: bool = True) -> RunResult:
    """Run the notebook into ``directory`` (created here, must not exist) and export the report."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    directory.mkdir(parents=True, exist_ok=False)
    marker = directory / INCOMPLETE
    marker.write_text("run in progress or interrupted: not complete evidence\n", encoding="utf-8")
    output = directory / NOTEBOOK
    try:
        papermill.execute_notebook(str(notebooks_dir() / NOTEBOOK), str(output),
                                   parameters={**mapping, "out_dir": str(directory)}, progress_bar=progress,
                                   kernel_name="python3", cwd=str(directory))
    except PapermillExecutionError as exc:
        marker.write_text(f"the notebook failed: {exc.ename}: {exc.evalue}\n", encoding="utf-8")
        if exc.ename in ("ParameterError", "CredentialsError", "CatalogError"):
            raise ParameterError(exc.evalue.split("; ")[0], "; ".join(exc.evalue.split("; ")[1:])) from None
        raise RunFailed(f"the evidence notebook failed ({exc.ename}: {exc.evalue})",
                        f"see {output}; the run directory is marked {INCOMPLETE}") from None
    findings = json.loads((directory / "findings.json").read_text(encoding="utf-8"))
    banner = (f"rootwatch run {directory.name} · source {params.source} · window {params.window_label} "
              f"({params.window}) · regions {', '.join(params.regions)}")
    write_html(output, directory / "report.html", "Root account usage is monitored — evidence report", banner)
    marker.unlink()
    return RunResult(directory, findings)
