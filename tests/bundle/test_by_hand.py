"""The bundle's README.txt steps, followed verbatim with sh, ssh-keygen, openssl, sha256sum and pdfsig,
give the same answer as `rootwatch verify` for the bundle as signed and for every tamper case
(README.md's table), with the signer pinned and without."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from rootwatch.bundle.verify import Trust, Verdict, verify_bundle
from tests.bundle.conftest import rootwatch
from tests.bundle.tamper import CASES, PROCEDURE, TABLE, by_hand, current, hand_script, render_procedure, render_table

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("ssh-keygen", "openssl", "pdfsig", "sha256sum")),
                                reason="the by-hand tools (ssh-keygen, openssl, pdfsig, sha256sum) are not installed")
OWN_COPIES = {"KEY": Path("signatures/signer.pub"), "CA": Path("signatures/signer.crt.pem")}


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: its type, and a regular file's SHA-256."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() \
                else "dir" if path.is_dir() else "other"
    return out


@pytest.fixture(scope="module")
def script(signed_run) -> str:
    """README.txt's commands as the auditor who was given the signer's key and CA follows them."""
    return hand_script((signed_run[0] / "README.txt").read_text())


def test_readme_txt_steps_leave_the_bundle_unchanged_then_rootwatch_verify_says_verified(signed_run, copy_of, anchors,
                                                                                         pins, script):
    bundle = copy_of()
    before = snapshot(bundle)
    hand = by_hand(script, bundle, anchors)
    assert hand.passed, hand.output
    assert 'Good "file" signature for rootwatch' in hand.output and "CMS Verification successful" in hand.output
    assert snapshot(bundle) == before, "the steps wrote into the bundle"
    done = rootwatch("verify", str(bundle), *pins, env=signed_run[1])
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "VERIFIED", done.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rootwatch_verify_and_the_steps_by_hand_give_the_same_answer(case, copy_of, anchors, script):
    bundle = copy_of()
    case.change(bundle)

    pinned = verify_bundle(bundle, Trust.load([str(anchors["KEY"])], [str(anchors["CA"])]))
    lines = pinned.lines()
    assert pinned.ok == (case.by_hand is None), lines
    assert any(line.startswith(case.says) for line in lines), (case.says, lines)
    hand = by_hand(script, bundle, anchors)
    assert hand.passed == pinned.ok and hand.step == case.by_hand, hand.output

    unpinned = verify_bundle(bundle)
    assert not unpinned.ok and (unpinned.verdict is Verdict.UNPINNED) == case.intact, unpinned.lines()
    assert verify_bundle(bundle, Trust(accept_unpinned=True)).ok == case.intact
    alone = by_hand(hand_script((bundle / "README.txt").read_text()), bundle, OWN_COPIES)
    assert alone.passed == case.intact, alone.output
    assert alone.step == (case.by_hand if case.by_hand_unpinned == 0 else case.by_hand_unpinned), alone.output


def test_readme_md_shows_the_tamper_table_and_the_steps_by_hand():
    assert current(TABLE) == render_table(), "README.md's tamper table is stale: python -m tests.bundle.tamper --write"
    assert current(PROCEDURE) == render_procedure(), "README.md's steps by hand are stale: python -m " \
                                                     "tests.bundle.tamper --write"
