"""`source: aws` asks STS who the credentials are before anything is written: AWS out of reach is exit
4 within 30 s (a scheduler retries), refused credentials exit 2; never a bundle about a placeholder."""

from __future__ import annotations

import contextlib
import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import child_environment

PARAMS = "source: aws\nregions: [us-east-1]\nwindow: 2026-Q3\n"
REFUSED = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
           b'<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.'
           b'</Message></Error><RequestId>4b5c2e4e</RequestId></ErrorResponse>')


class _Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(REFUSED)))
        self.end_headers()
        self.wfile.write(REFUSED)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def endpoint(kind: str) -> Iterator[str]:
    """A loopback endpoint that refuses connections, accepts them and never answers, or answers STS
    with InvalidClientTokenId."""
    if kind == "refusing":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        return
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if kind == "silent":
        sock.listen(16)  # the kernel completes the handshakes; nobody ever reads or answers
    else:
        sock.close()  # nothing listens: connection refused
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        sock.close()


def run(tmp_path: Path, url: str) -> tuple[subprocess.CompletedProcess, float]:
    (tmp_path / "params.yaml").write_text(PARAMS)
    env = child_environment(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="AKIAEXAMPLEPREFLIGHT",
                            AWS_SECRET_ACCESS_KEY="not-a-real-secret", AWS_DEFAULT_REGION="us-east-1")
    started = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "run", "params.yaml", "--out", "bundle"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    return done, time.monotonic() - started


@pytest.mark.parametrize("kind", ["closed", "silent"])
def test_aws_out_of_reach_exits_4_within_30_s_and_writes_nothing(tmp_path, kind):
    with endpoint(kind) as url:
        done, seconds = run(tmp_path, url)
    assert done.returncode == 4, done.stderr
    assert seconds < 30
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert done.stderr.startswith("rootwatch: AWS STS could not be reached for the default credential chain")
    assert "a scheduler should retry" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_credentials_aws_refuses_exit_2_with_one_line_and_write_nothing(tmp_path):
    with endpoint("refusing") as url:
        done, _ = run(tmp_path, url)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("rootwatch: AWS refused the credentials from the default credential chain "
                           "(InvalidClientTokenId); renew them (aws sso login, new keys or role) and run again\n")
    assert "not-a-real-secret" not in done.stderr + done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]
