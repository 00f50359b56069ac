"""A page opened in headless Chromium and watched over the DevTools protocol, for tests that must
know what a report *does* in a browser: every script the page compiles, every request it makes,
every dialog it opens, every console message (a Content-Security-Policy refusal among them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

from tests.sandbox_process import stop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
START_TIMEOUT = 30.0
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--remote-debugging-port=0"]


@dataclass
class Visit:
    """What happened while a page loaded: the DevTools events, by method."""

    url: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.events if e["method"] == method]

    @property
    def scripts(self) -> list[str]:
        """Every script the page compiled (inline ones have the page's URL or none)."""
        return [p.get("url", "") for p in self.of("Debugger.scriptParsed")]

    @property
    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self.of("Network.requestWillBeSent")]

    @property
    def dialogs(self) -> list[str]:
        return [p.get("message", "") for p in self.of("Page.javascriptDialogOpening")]

    @property
    def console(self) -> list[str]:
        return ([p["entry"].get("text", "") for p in self.of("Log.entryAdded")]
                + [" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                   for p in self.of("Runtime.consoleAPICalled")])


class Page:
    """One tab's DevTools websocket: commands answered by id, events kept in order."""

    def __init__(self, socket: websocket.WebSocket) -> None:
        self.socket, self.next_id, self.events = socket, 0, []

    def call(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._keep(message)
        raise TimeoutError(f"{method} got no answer within {timeout:.0f} s")

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            self.socket.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                message = json.loads(self.socket.recv())
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(f"no {method} within {timeout:.0f} s") from None
            self._keep(message)
        self.socket.settimeout(None)

    def settle(self, seconds: float) -> None:
        """Keep collecting events for ``seconds`` (late requests, timers, lazy images)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.socket.settimeout(left)
            try:
                message = json.loads(self.socket.recv())
            except websocket.WebSocketTimeoutException:
                break
            self._keep(message)
        self.socket.settimeout(None)

    def _keep(self, message: dict[str, Any]) -> None:
        """Keep an event; dismiss a dialog at once (it would block the page), its answer unread."""
        if "method" not in message:
            return
        self.events.append(message)
        if message["method"] == "Page.javascriptDialogOpening":
            self.next_id += 1
            self.socket.send(json.dumps({"id": self.next_id, "method": "Page.handleJavaScriptDialog",
                                         "params": {"accept": False}}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextmanager
def chromium(profile: Path) -> Iterator[Page]:
    """Headless Chromium with a fresh profile, and its first tab's DevTools connection."""
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port = _port(profile / "DevToolsActivePort", process)
        with _LOOPBACK.open(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            tab = next(t for t in json.load(answer) if t["type"] == "page")
        socket = websocket.create_connection(tab["webSocketDebuggerUrl"], timeout=60, suppress_origin=True,
                                             http_no_proxy=["127.0.0.1"])
        try:
            yield Page(socket)
        finally:
            socket.close()
    finally:
        stop(process)


def _port(active: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited ({process.returncode}) before serving DevTools")
        if active.is_file() and active.read_text().strip():
            return int(active.read_text().split()[0])
        time.sleep(0.1)
    raise TimeoutError(f"chromium wrote no {active.name} within {START_TIMEOUT:.0f} s")


def visit(page: Page, url: str, settle: float = 2.0) -> Visit:
    """Load ``url`` with every watching domain on from the start, wait for its load event, then
    ``settle`` seconds more; the events of the load come back (the tab stays open for evaluate)."""
    for domain in ("Page", "Network", "Runtime", "Debugger", "Log"):
        page.call(f"{domain}.enable")
    page.events.clear()  # about:blank's own
    page.call("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired", timeout=60)
    page.settle(settle)
    return Visit(url, list(page.events))
