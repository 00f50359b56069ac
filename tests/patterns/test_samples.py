"""The evaluator on real public CloudTrail records (../shared/data/cloudtrail-samples).

The INDEX counts each folder's root events the way CIS 4.3 means them, and its denied events the
way 4.1's two error clauses do; our compiled patterns must count the same. The folder is not part
of the project: without it these tests skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootwatch.patterns import compile_pattern

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cloudtrail-samples"
pytestmark = pytest.mark.skipif(not (SAMPLES / "INDEX.json").exists(),
                                reason=f"public CloudTrail samples not found at {SAMPLES}")

ROOT_43 = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
DENIED = '{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }'


def _records(folder: Path):
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        if isinstance(data, dict):
            data = data.get("Records", [data])
        yield from data


def _folders():
    if not (SAMPLES / "INDEX.json").exists():
        return []
    index = json.loads((SAMPLES / "INDEX.json").read_text())
    return [pytest.param(entry, id=entry["dir"]) for entry in index if (SAMPLES / entry["dir"]).is_dir()]


@pytest.mark.parametrize("entry", _folders())
def test_counts_match_the_index(entry):
    records = list(_records(SAMPLES / entry["dir"]))
    assert len(records) == entry["events"]
    root, denied = compile_pattern(ROOT_43), compile_pattern(DENIED)
    assert sum(map(root.matches, records)) == entry["cis_root"]
    assert sum(map(denied.matches, records)) == entry["denied"]
