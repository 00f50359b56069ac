"""The analyst's path, for real: JupyterLab headless on loopback beside a running `rootwatch sandbox`.

The notebook is listed and opened through the Jupyter server's REST API and executed cell by cell in
a kernel over its websocket, as JupyterLab's front end does, with the parameters an analyst sets to
read an AWS endpoint (`source = "aws"`, the member accounts' role ARNs). The kernel finds the sandbox
only through the environment it inherits from the server (AWS_ENDPOINT_URL and the auditor's keys),
which is the path a real analyst's JupyterLab takes.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_process import SandboxProcess, child_environment, stop

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "explore_root_activity.ipynb"  # in notebooks/; it takes the same parameters as root_usage_evidence.ipynb
LAB_START_TIMEOUT = 60.0
CELL_TIMEOUT = 180.0
MIN_CHARTS = 2  # the exploration notebook's timeline and hour x weekday map

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a proxy from the environment must not see this


@dataclass(frozen=True)
class Lab:
    """A running Jupyter server, reached with its token like any API client."""

    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        """JSON in, JSON out; the token goes in a header so it never lands in a URL of the server's log."""
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with _LOOPBACK.open(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None


# --- processes ------------------------------------------------------------------------------------


def _require_dev_tools() -> None:
    """Fail, never skip: JupyterLab and the websocket client are dev dependencies, and a silently
    skipped test would let the analyst's path break unnoticed."""
    missing = [name for module, name in (("jupyterlab", "jupyterlab"), ("websocket", "websocket-client"))
               if importlib.util.find_spec(module) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed in {sys.prefix}: install the dev extras, "
                    "pip install -e '.[dev]'", pytrace=False)


def _free_port() -> int:
    """A loopback port nobody holds now (the server is told not to wander off to another one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_status(lab: Lab, process: subprocess.Popen[Any], log: Path, timeout: float) -> None:
    """Until ``GET /api/status`` answers: the server is up and accepts the token."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited ({process.returncode}):\n{log.read_text(errors='replace')[-4000:]}")
        try:
            lab.api("GET", "/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"jupyter lab did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def lab(sandbox_process: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab headless on loopback, rooted at the repository, with the sandbox's exports in its
    environment so its kernels inherit them. Config, data, runtime, IPython and matplotlib directories
    are temporary: nothing is written into the user's home, and no user-installed kernel spec or
    extension changes what runs (``python3`` is ipykernel's native spec, from the server's Python)."""
    _require_dev_tools()
    home = tmp_path_factory.mktemp("jupyter")
    dirs = {name: home / name for name in ("config", "data", "runtime", "ipython", "matplotlib", "xdg")}
    for path in dirs.values():
        path.mkdir()
    env = child_environment(**sandbox_process.exports, JUPYTER_CONFIG_DIR=str(dirs["config"]),
                             JUPYTER_DATA_DIR=str(dirs["data"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                             JUPYTER_NO_CONFIG="1", IPYTHONDIR=str(dirs["ipython"]),
                             MPLCONFIGDIR=str(dirs["matplotlib"]), XDG_CONFIG_HOME=str(dirs["xdg"]),
                             AWS_CONFIG_FILE=str(home / "no-aws-config"),
                             AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"))
    server = Lab(_free_port(), secrets.token_hex(24))
    log = home / "server.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={server.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={server.token}", f"--ServerApp.root_dir={ROOT}",
               "--ServerApp.terminals_enabled=False",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
               *(["--allow-root"] if os.geteuid() == 0 else [])]  # CI containers often run as root
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=home, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            _wait_for_status(server, process, log, LAB_START_TIMEOUT)
            yield server
        finally:
            stop(process)


# --- the kernel, over its websocket ---------------------------------------------------------------


@dataclass
class CellRun:
    """One executed cell: its source and the iopub output messages ({msg_type, content}) it produced."""

    source: str
    outputs: list[dict[str, Any]]


def _execute_request(code: str, session: str) -> dict[str, Any]:
    """An ``execute_request`` of the Jupyter messaging protocol v5, on the shell channel (the server's
    JSON websocket form carries the channel in the message)."""
    header = {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": session,
              "username": "analyst", "date": datetime.now(UTC).isoformat(), "version": "5.3"}
    return {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}


def _failure(number: int, source: str, content: dict[str, Any]) -> str:
    """The failing cell and its traceback, readable (IPython colours tracebacks with ANSI codes)."""
    trace = "\n".join(content.get("traceback") or [f"{content.get('ename')}: {content.get('evalue')}"])
    return f"cell {number} failed:\n{source}\n\n{_ANSI.sub('', trace)}"


def _execute(ws: Any, number: int, source: str, session: str, timeout: float) -> CellRun:
    """Send one cell and collect what answers it, until both its ``execute_reply`` and the kernel's
    ``idle`` for it have arrived (in either order); other parents' messages are not this cell's."""
    import websocket

    request = _execute_request(source, session)
    ws.send(json.dumps(request))
    run, idle, replied = CellRun(source, []), False, False
    deadline = time.monotonic() + timeout
    while not (idle and replied):
        ws.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            message = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            pytest.fail(f"cell {number} still running after {timeout:.0f} s:\n{source}", pytrace=False)
        if message.get("parent_header", {}).get("msg_id") != request["header"]["msg_id"]:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "error" or (kind == "execute_reply" and content.get("status") != "ok"):
            pytest.fail(_failure(number, source, content), pytrace=False)
        idle |= kind == "status" and content.get("execution_state") == "idle"
        replied |= kind == "execute_reply"
        if kind in ("stream", "display_data", "execute_result", "update_display_data"):
            run.outputs.append({"msg_type": kind, "content": content})
    return run


def _run_cells(lab: Lab, kernel_id: str, sources: list[str]) -> list[CellRun]:
    """Every cell in order on one connection to the kernel's channels, as JupyterLab does."""
    import websocket

    session = uuid.uuid4().hex
    query = urllib.parse.urlencode({"session_id": session, "token": lab.token})
    ws = websocket.create_connection(f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel_id}/channels?{query}",
                                     timeout=30, suppress_origin=True, http_no_proxy=["127.0.0.1"])
    try:
        return [_execute(ws, number, source, session, CELL_TIMEOUT) for number, source in enumerate(sources, 1)]
    finally:
        ws.close()


# --- the notebook ---------------------------------------------------------------------------------


def _analyst_parameters(sandbox: SandboxProcess) -> str:
    """The cell papermill would inject: read AWS (here the sandbox, found through boto3's environment)
    and assume each member account's audit role."""
    values = {"source": "aws", "accounts": sorted(sandbox.members.values()), "regions": ["us-east-1"],
              "window": "last-90-days"}
    return "# Parameters (injected)\n" + "".join(f"{name} = {value!r}\n" for name, value in values.items())


def _code_cells(notebook: dict[str, Any], injected: str) -> list[str]:
    """The notebook's code cells in order, with ``injected`` right after the cell tagged ``parameters``."""
    sources = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        sources.append("".join(source) if isinstance(source, list) else source)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            sources.append(injected)
    assert injected in sources, f"{NOTEBOOK} has no cell tagged 'parameters'"
    return sources


def _charts(runs: list[CellRun]) -> list[bytes]:
    """Every PNG the notebook displayed."""
    return [base64.b64decode(out["content"]["data"]["image/png"]) for run in runs for out in run.outputs
            if "image/png" in out["content"].get("data", {})]


def test_analyst_runs_the_notebook_in_jupyterlab_against_the_sandbox(lab: Lab, sandbox_process: SandboxProcess):
    listing = lab.api("GET", "/api/contents/notebooks")
    listed = {entry["name"]: entry["type"] for entry in listing["content"]}
    assert listed.get(NOTEBOOK) == "notebook", f"notebooks/{NOTEBOOK} is not listed: {sorted(listed)}"
    opened = lab.api("GET", f"/api/contents/notebooks/{urllib.parse.quote(NOTEBOOK)}")
    assert opened["type"] == "notebook" and opened["content"]["cells"], opened.get("type")
    sources = _code_cells(opened["content"], _analyst_parameters(sandbox_process))

    session = lab.api("POST", "/api/sessions", {"path": f"notebooks/{NOTEBOOK}", "name": NOTEBOOK,
                                                "type": "notebook", "kernel": {"name": "python3"}})
    try:
        runs = _run_cells(lab, session["kernel"]["id"], sources)
    finally:
        lab.api("DELETE", f"/api/sessions/{session['id']}")
    assert session["id"] not in {s["id"] for s in lab.api("GET", "/api/sessions")}

    charts = _charts(runs)
    assert len(charts) >= MIN_CHARTS, f"{len(charts)} charts in the outputs"
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in charts)
    shown = json.dumps([run.outputs for run in runs])
    assert all(account in shown for account in sandbox_process.members), "an account's evidence is missing"
    assert sandbox_process.exports["AWS_SECRET_ACCESS_KEY"] not in shown, "a credential was written into the outputs"
