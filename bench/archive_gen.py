"""A synthetic CloudTrail archive on disk, laid out as a trail delivers it to S3, for bench/scan_archive.py.

Why: scanning years of log files is where the time goes, and how fast it goes depends on what the
files hold, so the records have real shapes and real sizes (~1.2 KB): ordinary records are the
invictus-ir dataset's CloudTrail records (real S3 log files, IAM users and assumed roles, with
requestParameters, tlsDetails and the rest), root records are the sandbox's shapes (console
sign-ins, API calls, one relayed by ``signin.amazonaws.com`` with ``invokedBy``, ``AwsServiceEvent``
records) plus AWS's documentation examples. Account, region, time and ids vary per record.
Some ordinary records spell ``Root`` outside ``userIdentity`` (AssumeRoot, ListRoots, CloudFront's
defaultRootObject) as real trails do, so a byte pre-filter cannot dismiss every record unparsed.
``Spec(layout="reexport")`` writes the same records as a SIEM exports them back (``reexported``).

Generating 1 M records takes about 30 s on 2 cores, so the archive is cached in its folder and made again
only when its manifest is missing or was written for other settings. The manifest holds the
expected answer: how many generated records the CIS 4.3 root-usage pattern matches, decided per
template by a predicate written here (not by rootwatch's evaluator), since the fields varied per
record are not the ones the pattern reads.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import string
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "cloudtrail-samples"
FIRST_DAY = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 90
WINDOW = timedelta(minutes=5)  # a file holds the five minutes before its delivery time
ACCOUNTS = {"402913786551": 5, "735018264097": 3, "918264035172": 2}  # account: weight of its share
REGIONS = {"us-east-1": 6, "eu-west-1": 3, "ap-southeast-2": 1}
SAMPLE_ACCOUNTS = ("123837392027", "111122223333", "123456789012")  # replaced by each file's account
ALNUM = string.ascii_letters + string.digits
MARKERS = {"eventTime": "t", "eventID": "e", "requestID": "r"}
Event = dict[str, Any]


@dataclass(frozen=True)
class Spec:
    """What an archive is made of; a cached archive is reused only for the same spec."""

    events: int = 1_000_000
    files: int = 1_800
    root_rate: float = 0.001
    decoy_rate: float = 0.005
    seed: int = 20250101
    layout: str = "cloudtrail"  # or "reexport": each record as a SIEM writes it back (see ``reexported``)


@dataclass(frozen=True)
class Template:
    """A record as %-format text: ``%(a)s`` account, ``%(g)s`` region, ``%(t)s`` time, ``%(e)s`` / ``%(r)s`` ids."""

    text: str
    root: bool
    cis: bool


@dataclass(frozen=True)
class Templates:
    ordinary: list[Template]
    decoys: list[Template]
    roots: list[Template]


@dataclass(frozen=True)
class FilePlan:
    index: int
    account: str
    region: str
    delivered: datetime
    records: int


@dataclass(frozen=True)
class FileCounts:
    records: int = 0
    roots: int = 0
    expected: int = 0
    decoys: int = 0
    raw_bytes: int = 0
    gz_bytes: int = 0


@dataclass(frozen=True)
class Manifest:
    """Written last, so an interrupted generation is made again rather than half-reused."""

    spec: Spec
    files: int
    records: int
    roots: int
    expected: int
    decoys: int
    raw_bytes: int
    gz_bytes: int
    start: str
    end: str
    seconds: float

    @property
    def window(self) -> tuple[datetime, datetime]:
        return datetime.fromisoformat(self.start), datetime.fromisoformat(self.end)


def cis_4_3(event: Event) -> bool:
    """CIS 4.3's pattern by hand, with CloudWatch Logs' reading of ``!=`` (an absent eventType does
    not match): the expected answer every contender must reproduce."""
    identity = event.get("userIdentity")
    if type(identity) is not dict or identity.get("type") != "Root" or "invokedBy" in identity:
        return False
    event_type = event.get("eventType")
    return type(event_type) is str and event_type != "AwsServiceEvent"


def as_template(event: Event) -> Template:
    """Mark the per-record fields, then swap the sample's account and region for placeholders
    everywhere they are spelled (ARNs, host names), as a real record of that account would."""
    marked = {k: f"@@{MARKERS[k]}@@" if k in MARKERS else v for k, v in event.items()}
    text = json.dumps(marked, separators=(",", ":")).replace("%", "%%")
    for key in MARKERS.values():
        text = text.replace(f"@@{key}@@", f"%({key})s")
    for account in SAMPLE_ACCOUNTS:
        text = text.replace(account, "%(a)s")
    text = text.replace(event["awsRegion"], "%(g)s")
    identity = event.get("userIdentity")
    return Template(text, type(identity) is dict and identity.get("type") == "Root", cis_4_3(event))


def decoy_events(base: Event) -> list[Event]:
    """Ordinary calls whose text holds ``Root``, built on a real IAM user record."""
    calls = [
        ("sts.amazonaws.com", "AssumeRoot",
         {"targetPrincipal": "735018264097", "durationSeconds": 900,
          "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}}),
        ("organizations.amazonaws.com", "ListRoots", None),
        ("cloudfront.amazonaws.com", "UpdateDistribution",
         {"id": "E2QWRUHAPOMQZL", "ifMatch": "E2QWRUHAPOMQZL",
          "distributionConfig": {"callerReference": "static-site", "defaultRootObject": "index.html",
                                 "enabled": True, "comment": "", "priceClass": "PriceClass_100"}}),
    ]
    return [{**base, "eventSource": source, "eventName": name, "requestParameters": params,
             "readOnly": name == "ListRoots"} for source, name, params in calls]


@cache
def load_templates(samples: Path) -> Templates:
    """Ordinary records from the invictus-ir dataset; root records from the sandbox's generator and
    AWS's documentation (only roots are taken from the documentation examples). The sandbox is
    imported here, not at the top: it brings moto, whose memory would count in every contender's peak."""
    from rootwatch.sandbox.events import _Gen, root_events

    ordinary = [r for f in sorted((samples / "invictus_aws_dataset").glob("*.json"))
                for r in json.loads(f.read_text())["Records"]]
    docs = [json.loads(f.read_text()) for f in sorted((samples / "awsdocs_cloudtrail_user_guide").glob("*.json"))]
    docs = [r for d in docs for r in d.get("Records", [d])]
    gen = _Gen("111122223333", "us-east-1", seed=43, now=FIRST_DAY + timedelta(days=DAYS))
    roots = root_events(gen) + [r for r in docs if (r.get("userIdentity") or {}).get("type") == "Root"]
    base = next(r for r in ordinary if r["userIdentity"]["type"] == "IAMUser" and "tlsDetails" in r)
    templates = Templates([as_template(r) for r in ordinary], [as_template(r) for r in decoy_events(base)],
                          [as_template(r) for r in roots])
    assert not any(t.root for t in templates.ordinary + templates.decoys) and all(t.root for t in templates.roots)
    return templates


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` records over ``parts`` files of uneven size (0.5x to 1.5x the mean), summing exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for i in range(total - sum(sizes)):
        sizes[i % parts] += 1
    return sizes


def plan_files(spec: Spec) -> list[FilePlan]:
    """Where each file goes: an account and region by weight, a delivery time on a 5-minute tick."""
    rng = random.Random(spec.seed)
    plans = []
    for index, records in enumerate(split(spec.events, spec.files, rng)):
        account = rng.choices(list(ACCOUNTS), list(ACCOUNTS.values()))[0]
        region = rng.choices(list(REGIONS), list(REGIONS.values()))[0]
        delivered = FIRST_DAY + WINDOW * rng.randrange(1, DAYS * 24 * 12 + 1)
        plans.append(FilePlan(index, account, region, delivered, records))
    return plans


def file_key(plan: FilePlan, rng: random.Random) -> str:
    name = (f"{plan.account}_CloudTrail_{plan.region}_{plan.delivered:%Y%m%dT%H%MZ}_"
            f"{''.join(rng.choices(ALNUM, k=16))}.json.gz")
    return f"AWSLogs/{plan.account}/CloudTrail/{plan.region}/{plan.delivered:%Y/%m/%d}/{name}"


def write_file(folder: Path, samples: Path, spec: Spec, plan: FilePlan) -> FileCounts:
    """One gzip log file; its own seed makes it the same whichever worker writes it."""
    templates = load_templates(samples)
    rng = random.Random(f"{spec.seed}:{plan.index}")
    times = sorted(plan.delivered - WINDOW + timedelta(seconds=rng.randrange(300)) for _ in range(plan.records))
    records, roots, expected, decoys = [], 0, 0, 0
    for when in times:
        draw = rng.random()
        if draw < spec.root_rate:
            template = rng.choice(templates.roots)
            roots, expected = roots + 1, expected + template.cis
        elif draw < spec.root_rate + spec.decoy_rate:
            template, decoys = rng.choice(templates.decoys), decoys + 1
        else:
            template = rng.choice(templates.ordinary)
        uid = f"{rng.getrandbits(128):032x}"
        records.append(template.text % {"a": plan.account, "g": plan.region, "t": f"{when:%Y-%m-%dT%H:%M:%SZ}",
                                        "e": f"{uid[:8]}-{uid[8:12]}-4{uid[13:16]}-{uid[16:20]}-{uid[20:]}",
                                        "r": f"{rng.getrandbits(64):016X}"})
    if spec.layout == "reexport":
        records = [reexported(text, rng) for text in records]
    body = ('{"Records":[' + ",".join(records) + "]}").encode()
    data = gzip.compress(body, compresslevel=6, mtime=0)
    path = folder / file_key(plan, rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return FileCounts(plan.records, roots, expected, decoys, len(body), len(data))


def reexported(text: str, rng: random.Random) -> str:
    """A record as a SIEM (a Logstash pipeline, say) exports it back: its fields in the order of the
    exporter's hash table, not CloudTrail's, with the pipeline's own fields added (the OTRF sample
    of the CloudTrail samples is such an export)."""
    record = json.loads(text)
    record.update({"@timestamp": record["eventTime"], "@version": "1",
                   "siem": {"pipeline": "cloudtrail-s3", "ingested": record["eventTime"], "tags": ["aws"]}})
    items = list(record.items())
    rng.shuffle(items)
    return json.dumps(dict(items), separators=(",", ":"))


def generate(folder: Path, spec: Spec, samples: Path) -> Manifest:
    """Write every file on all cores, then the manifest."""
    started = datetime.now(UTC)
    shutil.rmtree(folder / "AWSLogs", ignore_errors=True)
    plans = plan_files(spec)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        counts = list(pool.map(write_file, [folder] * len(plans), [samples] * len(plans), [spec] * len(plans), plans,
                               chunksize=16))
    total = {f: sum(getattr(c, f) for c in counts) for f in FileCounts.__dataclass_fields__}
    last = max(p.delivered for p in plans)
    manifest = Manifest(spec, len(plans), total["records"], total["roots"], total["expected"], total["decoys"],
                        total["raw_bytes"], total["gz_bytes"], FIRST_DAY.isoformat(),
                        (last + timedelta(seconds=1)).isoformat(), (datetime.now(UTC) - started).total_seconds())
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1))
    return manifest


def read_manifest(folder: Path) -> Manifest | None:
    path = folder / "manifest.json"
    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    return Manifest(**{**saved, "spec": Spec(**saved["spec"])})


def ensure_archive(folder: Path, spec: Spec, samples: Path = SAMPLES) -> tuple[Manifest, bool]:
    """The archive for ``spec`` in ``folder`` and whether it was made now (else reused from disk)."""
    manifest = read_manifest(folder)
    if manifest and manifest.spec == spec:
        return manifest, False
    if not (samples / "invictus_aws_dataset").is_dir():
        raise SystemExit(f"the CloudTrail samples are needed to make the archive: {samples} is missing")
    return generate(folder, spec, samples), True
