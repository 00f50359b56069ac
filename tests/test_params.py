"""The notebook's parameter contract: every bad value named, with what to do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rootwatch.report import pdf
from rootwatch.errors import ParameterError
from rootwatch.params import KmsKey, Pkcs12, RunOptions, RunParams, SshKey, apply_sets, parse_window

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GOOD = {"source": "sandbox", "regions": ["us-east-1"], "window": "2026-Q3"}


def test_defaults_and_quarter():
    p = RunParams.from_mapping(GOOD, NOW)
    assert p.window.start == datetime(2026, 7, 1, tzinfo=UTC) and p.window.end == datetime(2026, 10, 1, tzinfo=UTC)
    assert p.controls == () and p.accounts == () and p.profile is None and p.window_label == "2026-Q3"


@pytest.mark.parametrize(("window", "start", "end", "label"), [
    ("2026-Q4", datetime(2026, 10, 1, tzinfo=UTC), NOW, "2026-Q4 (to date)"),
    ("2025-Q4", datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "2025-Q4"),
    ("last-90-days", datetime(2026, 8, 27, 12, tzinfo=UTC), NOW, "last 90 days"),
    ({"start": "2026-07-01", "end": "2026-09-30"}, datetime(2026, 7, 1, tzinfo=UTC),
     datetime(2026, 10, 1, tzinfo=UTC), "2026-07-01 to 2026-09-30"),
])
def test_window_forms(window, start, end, label):
    w, text = parse_window(window, NOW)
    assert (w.start, w.end, text) == (start, end, label)


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "unknown parameter(s): colour"),
    ({"window": None}, "missing parameter(s): window"),
    ({"regions": []}, "missing parameter(s): regions"),
    ({"source": "gcp"}, "source 'gcp' is not one of sandbox, aws"),
    ({"window": "2026-Q5"}, "window '2026-Q5' is not a quarter"),
    ({"window": "Q3-2026"}, "is not a quarter"),
    ({"window": {"start": "2026-07-01"}}, "is not a quarter"),
    ({"window": {"start": "2026-07-01", "end": "2026-13-01"}}, "window end '2026-13-01' is not a date"),
    ({"window": {"start": "2026-09-01", "end": "2026-07-01"}}, "is before its start"),
    ({"window": "2027-Q1"}, "has not started yet"),
    ({"window": "last-0-days"}, "must be 1 to 3650"),
    ({"regions": ["us-east-1", "us-east-9"]}, "unknown region(s): us-east-9"),
    ({"regions": "mars-north-1"}, "unknown region(s): mars-north-1"),
    ({"controls": [4.3]}, "control ids must be quoted"),
    ({"controls": []}, "controls must be a non-empty list"),
    ({"accounts": ["12345"]}, "account(s) not understood: 12345"),
    ({"source": "aws", "accounts": ["111122223333"]}, "accounts are IAM role ARNs"),
    ({"profile": 7}, "profile must be a string"),
])
def test_bad_values_are_named(change, message):
    with pytest.raises(ParameterError) as info:
        RunParams.from_mapping({**GOOD, **change}, NOW)
    assert message in str(info.value)
    assert "\n" not in info.value.one_line()


def test_set_overrides_are_yaml_values():
    out = apply_sets(GOOD, ["regions=[us-east-1, eu-west-1]", "window=2025-Q4", "profile=audit"])
    assert out["regions"] == ["us-east-1", "eu-west-1"] and out["window"] == "2025-Q4" and out["profile"] == "audit"
    with pytest.raises(ParameterError, match="is not key=value"):
        apply_sets(GOOD, ["window"])


def test_the_renderers_a_run_may_name_are_the_registered_ones(monkeypatch):
    """One list: pdf.RENDERERS, beside the renderers' code; a renderer registered there is a valid name."""
    assert [RunOptions.from_mapping({"pdf": {"renderer": name}}).renderer for name in pdf.RENDERERS] == \
        ["weasyprint", "chromium", "none"]
    with pytest.raises(ParameterError, match="'word' is not one of weasyprint, chromium, none"):
        RunOptions.from_mapping({"pdf": {"renderer": "word"}})
    monkeypatch.setitem(pdf.RENDERERS, "word", lambda html, target: pdf.PdfOutcome(False, "word", "no PDF"))
    assert RunOptions.from_mapping({"pdf": {"renderer": "word"}}).renderer == "word"


def test_the_signers_a_run_may_name_are_the_declared_ones(monkeypatch):
    """One declaration per signer kind (bundle.sign.SIGNERS): its settings are what the parameter file
    may give it; verify checks and README.txt explains every declared kind."""
    from rootwatch.bundle import readme, verify
    from rootwatch.bundle.sign import SIGNERS, SignerKind

    options = {"ssh": SshKey, "x509": Pkcs12, "kms": KmsKey}
    assert list(SIGNERS) == list(options) == list(verify._CHECKS) == list(readme.ANCHORS)
    for kind, declared in SIGNERS.items():
        assert set(declared.required + declared.optional) == set(options[kind].__dataclass_fields__)
    with pytest.raises(ParameterError, match=r"unknown signing setting\(s\): gpg; use ssh, x509, kms"):
        RunOptions.from_mapping({"signing": {"gpg": {"key": "k"}}})
    assert RunOptions.from_mapping({"signing": {"kms": {"key_id": "alias/evidence"}}}).kms == KmsKey("alias/evidence")
    monkeypatch.setitem(SIGNERS, "kms", SignerKind("kms", SIGNERS["kms"].files, ("key_id", "region")))
    with pytest.raises(ParameterError, match="signing.kms needs key_id, region"):
        RunOptions.from_mapping({"signing": {"kms": {"key_id": "alias/evidence"}}})
