"""Tampering with a signed bundle, and what `rootwatch verify` and the README.txt steps by hand say.

Each case changes a copy of the bundle `rootwatch run` made; tests/bundle/test_by_hand.py asserts
both answers, pinned (the auditor's key and CA) and not, and that README.md's table — rendered from
these cases, with the hand procedure from ``rootwatch.bundle.readme`` — is current:
``python -m tests.bundle.tamper --write`` rewrites both blocks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rootwatch.bundle import sshsig
from rootwatch.bundle.readme import procedure, readme
from tests.bundle.conftest import forge_cms, kms_sign, rewrite_manifest, sign_ssh

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE = ("<!-- tamper-table:begin (python -m tests.bundle.tamper --write) -->", "<!-- tamper-table:end -->")
PROCEDURE = ("<!-- by-hand:begin (python -m tests.bundle.tamper --write) -->", "<!-- by-hand:end -->")
STEPS = {1: "1 (nothing but the signed files)", 2: "2 (signatures)", 3: "3 (every file as signed)"}
ESCAPES = "\x1b[2J\x1b[HVERIFIED"  # a file name that clears the screen and prints VERIFIED


def flip(path: Path, offset: int = 200) -> None:
    data = bytearray(path.read_bytes())
    data[min(offset, len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))


def kms_instead_of_ssh(bundle: Path) -> None:
    """Issue 15's bypass: the SSH signature removed, a "KMS" signature made with any EC key added."""
    for name in ("manifest.json.sshsig", "signer.pub"):
        (bundle / "signatures" / name).unlink()
    kms_sign(bundle, ec.generate_private_key(ec.SECP256R1()))


def symlink_to_copy(bundle: Path, rel: str) -> None:
    """``rel`` (a file or a directory) moved out of the bundle and linked back: the same bytes, elsewhere."""
    outside = bundle.parent / f"{bundle.name}-outside" / rel
    outside.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(bundle / rel, outside)
    (bundle / rel).symlink_to(outside)


def resign_ssh_only(bundle: Path) -> None:
    """A forger's bundle signed by their SSH key alone, README.txt saying so."""
    for name in ("manifest.json.p7s", "signer.crt.pem"):
        (bundle / "signatures" / name).unlink()
    (bundle / "README.txt").write_text(readme(bundle.name, True, "", ["ssh"]))
    rewrite_manifest(bundle)
    sign_ssh(bundle, Ed25519PrivateKey.generate(), "Example Compliance evidence key")


def forge_everything(bundle: Path) -> None:
    """A CSV changed, the manifest made again, every signature the forger's own."""
    (bundle / "data" / "alarms.csv").write_text("alarm_name\nforged\n")
    rewrite_manifest(bundle)
    sign_ssh(bundle, Ed25519PrivateKey.generate(), "Example Compliance evidence key")
    forge_cms(bundle)


def wrong_type(bundle: Path) -> None:
    path = bundle / "manifest.json"
    path.write_text(re.sub(r'"size": (\d+)', r'"size": "\1"', path.read_text(), count=1))


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[Path], None]
    says: str  # the line of `rootwatch verify` (signer pinned) that decides, or its start
    by_hand: int | None  # the README.txt step that fails, pinned (None: every step passes)
    intact: bool = False  # nothing pinned: "integrity intact; signer not pinned" (else NOT VERIFIED)
    by_hand_unpinned: int | None = 0  # with the bundle's own copies as anchors; 0: as by_hand


CASES = [
    Case("none: the bundle as signed", lambda b: None, "VERIFIED", None, intact=True),
    Case("a byte of data/alarms.csv changed", lambda b: flip(b / "data" / "alarms.csv"),
         "modified file: data/alarms.csv", 3),
    Case("a byte of report.pdf changed", lambda b: flip(b / "report.pdf", 5000), "modified file: report.pdf", 2),
    Case("manifest.json changed (a space added)", lambda b: (b / "manifest.json").write_text(
        (b / "manifest.json").read_text().replace('"size": ', '"size":  ', 1)), "ssh signature: INVALID", 2),
    Case("manifest.json with a wrong type (a size as a string)", wrong_type,
         "manifest.json is malformed: files/0/size:", 2),
    Case("a file added", lambda b: (b / "data" / "extra.csv").write_text("a,b\n"),
         "extra file (not in the manifest): data/extra.csv", 1),
    Case("a file named with terminal escapes added", lambda b: (b / "data" / ESCAPES).write_text("x"),
         "extra file (not in the manifest): data/\\x1b[2J\\x1b[HVERIFIED", 1),
    Case("a file deleted", lambda b: (b / "findings.json").unlink(), "missing file: findings.json", 1),
    Case("a file renamed", lambda b: (b / "findings.json").rename(b / "findings.old.json"),
         "missing file: findings.json", 1),
    Case("a file replaced by a symlink to an identical copy", lambda b: symlink_to_copy(b, "report.html"),
         "symlink (never part of a bundle): report.html", 1),
    Case("a directory replaced by a symlink to an identical copy", lambda b: symlink_to_copy(b, "data"),
         "symlink (never part of a bundle): data", 1),
    Case("a FIFO added", lambda b: os.mkfifo(b / "data" / "pipe"), "FIFO (never part of a bundle): data/pipe", 1),
    Case("an empty directory added", lambda b: (b / "notes").mkdir(), "empty directory (never part of a bundle): notes",
         1),
    Case("a file added under signatures/ (an allowed_signers)", lambda b: (b / "signatures" / "allowed_signers")
         .write_text("rootwatch " + (b / "signatures" / "signer.pub").read_text()),
         "extra file (not a signature file README.txt names): signatures/allowed_signers", 1),
    Case("an INCOMPLETE marker added", lambda b: (b / "INCOMPLETE").write_text("not evidence\n"),
         "INCOMPLETE: the run did not finish; this is not evidence", 1),
    Case("signatures/signer.pub replaced by another key", lambda b: (b / "signatures" / "signer.pub").write_text(
        sshsig.public_line(Ed25519PrivateKey.generate().public_key(), "mallory") + "\n"),
         "ssh signature: INVALID — the signature was made by another key than signatures/signer.pub", 2),
    Case("the SSH signature made again by another key (signer.pub kept)",
         lambda b: (b / "signatures" / "manifest.json.sshsig").write_text(
             sshsig.sign((b / "manifest.json").read_bytes(), Ed25519PrivateKey.generate())),
         "ssh signature: INVALID — the signature was made by another key than signatures/signer.pub", 2),
    Case("the SSH signature replaced by a KMS signature of any EC key", kms_instead_of_ssh,
         "missing signature file: signatures/manifest.json.sshsig (README.txt names it)", 1),
    Case("the CMS signature replaced by one with a self-signed certificate", forge_cms,
         "x509 signature: valid, but NOT by any anchor you gave", 2, intact=True, by_hand_unpinned=None),
    Case("re-signed with another SSH key alone (X.509 removed, README.txt rewritten to match)", resign_ssh_only,
         "ssh signature: valid, but NOT by any anchor you gave", 1, intact=True, by_hand_unpinned=None),
    Case("a CSV changed, manifest made again, every signature replaced by the forger's", forge_everything,
         "ssh signature: valid, but NOT by any anchor you gave", 2, intact=True, by_hand_unpinned=None),
]


# --- by hand ----------------------------------------------------------------------------------------

def hand_script(readme: str) -> str:
    """The README.txt commands, verbatim, in order; before each step a line to stderr saying which."""
    lines, inside = [], False
    for line in readme.splitlines():
        if line == "How to verify this bundle":
            inside = True
        elif inside and (step := re.match(r"  (\d)\. ", line)):
            lines.append(f'echo "@step {step.group(1)}" >&2')
        elif inside and line.startswith(" " * 6):
            lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ByHand:
    passed: bool
    step: int | None  # the step whose command failed
    output: str


def by_hand(script: str, bundle: Path, variables: dict[str, Path]) -> ByHand:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "LANG": "C.UTF-8",
           "TMPDIR": str(bundle.parent), **{k: str(v) for k, v in variables.items()}}
    done = subprocess.run(["sh", "-e", "-c", script], cwd=bundle, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    steps = re.findall(r"^@step (\d)$", done.stderr, re.MULTILINE)
    passed = done.returncode == 0 and done.stdout.rstrip().endswith("every check passed")
    return ByHand(passed, None if passed else int(steps[-1]) if steps else 0, done.stdout + done.stderr)


# --- README.md --------------------------------------------------------------------------------------

def _hand(step: int | None) -> str:
    return "passes" if step is None else f"fails at step {STEPS[step]}"


def render_table() -> str:
    rows = []
    for case in CASES:
        pinned = "exit 0: `VERIFIED`" if case.by_hand is None else f"exit 1: `{case.says}`"
        unpinned = ("exit 1: integrity intact; signer not pinned (0 with `--no-pin`)" if case.intact else
                    "exit 1: NOT VERIFIED")
        alone = case.by_hand if case.by_hand_unpinned == 0 else case.by_hand_unpinned
        rows.append(f"| {case.name} | {pinned} | {_hand(case.by_hand)} | {unpinned} | {_hand(alone)} |")
    header = ("| tampering | `rootwatch verify` with the signer pinned | by hand (README.txt), KEY and CA as given "
              "| `rootwatch verify`, nothing pinned | by hand, the bundle's README.txt, KEY and CA its own copies |")
    return "\n".join([TABLE[0], header, "|---|---|---|---|---|", *rows, TABLE[1]])


def render_procedure() -> str:
    return "\n".join([PROCEDURE[0], "```text", procedure(["ssh", "x509", "kms"], True).rstrip("\n"), "```",
                      PROCEDURE[1]])


def current(markers: tuple[str, str]) -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.find(markers[0]), text.find(markers[1])
    return text[start:end + len(markers[1])] if start >= 0 and end >= 0 else ""


def write() -> None:
    text = README.read_text(encoding="utf-8")
    for markers, fresh in ((TABLE, render_table()), (PROCEDURE, render_procedure())):
        old = current(markers)
        if not old:
            raise SystemExit(f"README.md has no {markers[0]} ... {markers[1]} block to rewrite")
        text = text.replace(old, fresh)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    print(render_procedure())
    print(render_table())
