"""Run moto behind the bridge on 127.0.0.1 and seed the organisation into it.

Seeding goes through boto3 like any client would, except the 90 days of log events, which are
written into moto's store directly: CloudWatch Logs (and moto) refuse events older than 14 days,
but a real account's log group holds them because they were delivered at the time (their metric
filters are put through boto3 as they stand today; the patterns the history had them read those events
with are set in moto's store for the seeding's count, ``_seed_filters``). The trails' S3
log files go into moto's store directly too, and only when the first S3 request arrives: most runs
read the log groups, never the archive, and writing 90 days of files costs more than all the rest.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import botocore.session
import yaml
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from rootwatch.sandbox import events as ev
from rootwatch.sandbox.bridge import READY_PATH, READY_TIMEOUT, Bridge, RootCredentials, SandboxState
from rootwatch.sandbox.cloudwatch import SandboxClock
from rootwatch.sandbox.faults import Fault
from rootwatch.sandbox.faults import load as load_faults

ORGANISATION = Path(__file__).with_name("organisation.yaml")
DRIFT = Path(__file__).with_name("drift.yaml")
FAULTS_VARIABLE = "ROOTWATCH_SANDBOX_FAULTS"
SERVED_VARIABLE = "ROOTWATCH_SANDBOX_SERVED"  # the loopback endpoint of the sandbox `rootwatch run` serves
BASE_CREDENTIALS = {"aws_access_key_id": "AKIAROOTWATCHSANDBOX", "aws_secret_access_key": "sandbox-secret"}


class _QuietHandler(WSGIRequestHandler):
    """No access log: the sandbox serves notebooks and tests, not an operator."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def served(now: datetime, then: Callable[[], None] = lambda: None,
           audited: Collection[str] = ()) -> Iterator[dict[str, str]]:
    """The sandbox of a run, served from this process and seeded in a thread while the block runs:
    `rootwatch run` starts it before the notebook's kernel, so seeding overlaps the kernel's start and
    the server's work leaves the kernel's core. ``then`` runs in that thread once seeding has ended
    (the run's own imports, which would otherwise hold this process's interpreter lock against the
    seeding the kernel waits for); ``audited``: the run's accounts (``Sandbox``). Yields the kernel's
    environment (``SERVED_VARIABLE``)."""
    sandbox = Sandbox(now=now, audited=audited).serve()

    def seed() -> None:
        try:
            sandbox.prepare()
        finally:
            then()

    seeding = threading.Thread(target=_quietly(seed), name="rootwatch-sandbox-seeding", daemon=True)
    seeding.start()
    try:
        yield {SERVED_VARIABLE: sandbox.endpoint}
    finally:
        sandbox.stop()


def served_endpoint() -> str | None:
    """Where the run serves the sandbox, when it does (``served``)."""
    return os.environ.get(SERVED_VARIABLE) or None


def _quietly(work: Callable[[], None]) -> Callable[[], None]:
    """``work`` without a traceback on stderr when it fails: its failure is the readiness answer."""
    def run() -> None:
        with suppress(BaseException):
            work()
    return run


@dataclass(frozen=True)
class SandboxAccount:
    account_id: str
    alias: str
    role_arn: str
    log_group: str


class Sandbox:
    """``with Sandbox() as sb: ...`` — a seeded moto server on a free loopback port."""

    def __init__(self, now: datetime | None = None, organisation: Path = ORGANISATION, accounts: int | None = None,
                 days: int = ev.DAYS, latency: float = 0.0, faults: list[Fault] | None = None,
                 hostile: bool = False, clock_speed: float = 1.0, audited: Collection[str] = ()) -> None:
        """``hostile``: the first account's CloudTrail also carries one root event per hostile payload
        (sandbox/hostile.py). ``clock_speed``: how many times faster than real time the sandbox's clock
        runs from ``now`` (sandbox/cloudwatch.py: alarms evaluate by it): 600 lets a 5-minute alarm
        period pass in half a second, 0 stands it still (tests move it with ``sandbox.clock.advance``).
        ``accounts``: clone the organisation's accounts (healthy, drifted, healthy, ...) up to that
        many, for benchmarks; ``latency``: seconds added to every request once seeded; ``faults``:
        armed once seeded (default: the file ``ROOTWATCH_SANDBOX_FAULTS`` names, so a notebook's
        embedded sandbox can be given faults from outside the kernel). ``audited``: the accounts (ids or
        aliases) a run names, the only ones seeded — the others stay members of the organisation, with
        nothing in them that a run of those accounts could read (none is shared between accounts); seeding
        the two a one-account run does not read cost it about a second of CPU. Empty: all are seeded."""
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.spec = yaml.safe_load(organisation.read_text(encoding="utf-8"))
        self.spec["accounts"][0]["activity"]["hostile"] = hostile
        self.audited = frozenset(audited)
        if accounts is not None:
            self.spec["accounts"] = _clones(self.spec["accounts"], accounts)
        for account in self.spec["accounts"]:
            _expand_controls(account)
        self.region = self.spec["home_region"]
        self.days, self.latency = days, latency
        path = os.environ.get(FAULTS_VARIABLE)
        self.faults = faults if faults is not None else load_faults(path) if path else []
        self.clock = SandboxClock(self.now, clock_speed)
        self.clock.run()  # from ``now`` on: at real speed, a sandbox made for today keeps the machine's time
        self.state = SandboxState(now=self.now, clock=self.clock)
        self._archives: dict[str, tuple[str, list[dict]]] = {}  # account -> (trail bucket, records) to file in S3
        self._loader = _models_loader(os.environ.get("AWS_DATA_PATH"))
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._endpoint = ""  # where another process serves it (``attach``)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Serve and seed: on return the sandbox answers as the organisation it describes. Seeding runs
        in a thread while this one waits, so a signal's handler (``rootwatch sandbox``'s SIGTERM) runs
        in that wait, in code of ours, rather than inside some library call of seeding's, and the
        seconds of seeding left stop at once."""
        self.serve()
        threading.Thread(target=_quietly(self.prepare), name="rootwatch-sandbox-seeding", daemon=True).start()
        try:
            while not self.state.seeded.wait(0.1):  # a signal another thread received runs its handler here
                pass
        except BaseException:
            self.stop()
            raise
        if self.state.failure:
            self.stop()
            raise RuntimeError(self.state.failure)
        return self

    def serve(self) -> Sandbox:
        """Listen on loopback, not seeded yet (``prepare`` seeds; ``READY_PATH`` answers once it has)."""
        from moto.moto_api._internal.models import moto_api_backend
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        moto_api_backend.reset()  # moto keeps its state per process: start from empty
        dispatcher = DomainDispatcherApplication(create_backend_app)
        # moto lists its package directory (some 180 entries) on every request to find the backend of a
        # host, under a lock all requests share: a quarter of its time per request. The answer never
        # changes while it runs, so it is kept per host (a few per service and region).
        dispatcher.get_backend_for_host = lru_cache(maxsize=512)(dispatcher.get_backend_for_host)
        _share_moto_loader()
        app = Bridge(dispatcher, self.state)
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="rootwatch-sandbox", daemon=True)
        self._thread.start()
        return self

    def _tick(self) -> None:
        """Evaluate alarms between requests too, so an HTTP subscriber is notified without anyone
        asking: as often as a sandbox minute passes, at most once a second."""
        every = min(1.0, 60 / self.clock.speed) if self.clock.speed else 1.0
        while not self._stopping.wait(every):
            self.state.cloudwatch.advance()

    def prepare(self) -> None:
        """Seed the organisation, then arm latency and faults. Readiness is answered when this ends,
        whether it succeeded or not (a failure is the answer's text)."""
        try:
            self._seed()
            self.state.seed_s3 = self._seed_archives  # armed once seeded: seeding's own S3 calls find no files yet
            self.state.latency = self.latency
            self.state.faults.set(self.faults)
            if self._server is not None:
                self._ticker = threading.Thread(target=_quietly(self._tick), name="rootwatch-sandbox-clock",
                                                daemon=True)
                self._ticker.start()
        except BaseException as exc:
            self.state.failure = f"seeding the sandbox failed: {type(exc).__name__}: {exc}"
            raise
        finally:
            self.state.seeded.set()

    def audits(self, account_id: str, alias: str) -> bool:
        """Whether the run names this account (by id or alias), or names none and so audits them all."""
        return not self.audited or bool({account_id, alias} & self.audited)

    def attach(self, endpoint: str) -> Sandbox:
        """This organisation served by another process (``served``): its accounts and sessions here,
        once that process has seeded it. A timeout fault shortens this side's read timeout as it would
        for an embedded sandbox (``_session``), so the faults file is read here too."""
        if urlsplit(endpoint).hostname != "127.0.0.1":
            raise ValueError(f"{SERVED_VARIABLE}={endpoint!r} is not a loopback endpoint")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with no_proxy.open(endpoint + READY_PATH, timeout=READY_TIMEOUT + 10) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(exc.read().decode("utf-8", "replace")) from None
        self._endpoint = endpoint
        self.state.faults.set(self.faults)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._ticker:
            self._ticker.join()
            self._ticker = None
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            return self._endpoint
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def accounts(self) -> list[SandboxAccount]:
        role = self.spec["audit_role"]
        return [SandboxAccount(a["id"], a["alias"], f"arn:aws:iam::{a['id']}:role/{role}", a["trail"]["log_group"])
                for a in self.spec["accounts"]]

    def environment(self) -> dict[str, str]:
        """What a shell or JupyterLab needs to point boto3 at the sandbox (auditor credentials)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": BASE_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": BASE_CREDENTIALS["aws_secret_access_key"],
                "AWS_DEFAULT_REGION": self.region}

    def session(self, account_id: str | None = None) -> boto3.Session:
        """A boto3 session for the auditor, or for one member account through its audit role. With a
        timeout fault armed, its clients wait a third of the hold: the fault is a timeout to them."""
        base = self._session(**BASE_CREDENTIALS)
        if account_id is None:
            return base
        return self._session(**self._member_credentials(base.client("sts", endpoint_url=self.endpoint), account_id))

    def _session(self, **credentials: str) -> boto3.Session:
        core = botocore.session.Session()
        core.register_component("data_loader", self._loader)
        holds = self.state.faults.holds
        if holds:
            core.set_default_client_config(Config(read_timeout=min(holds) / 3))
        return boto3.Session(botocore_session=core, region_name=self.region, **credentials)

    def _member_credentials(self, sts: Any, account_id: str) -> dict[str, str]:
        role = next(a.role_arn for a in self.accounts if a.account_id == account_id)
        creds = sts.assume_role(
            RoleArn=role, RoleSessionName="rootwatch-sandbox")["Credentials"]
        return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"]}

    # --- seeding --------------------------------------------------------------------------
    def _seed(self) -> None:
        base = self.session()  # one session (its models loaded once), member credentials per account
        sts = base.client("sts", endpoint_url=self.endpoint)
        management = self.spec["management"]
        self.state.organization = [(management["id"], management["name"]),
                                   *((a["id"], a["alias"]) for a in self.spec["accounts"])]
        for spec in self.spec["accounts"]:
            if not self.audits(spec["id"], spec["alias"]):
                continue
            client = cache(partial(self._client, base, self._member_credentials(sts, spec["id"])))  # one per service
            client("iam").create_account_alias(AccountAlias=spec["alias"])
            topics = self._seed_topics(client, spec)
            self._seed_trail(client, spec)
            records = ev.account_events(spec["id"], self.region, spec["activity"]["seed"], self.now, self.days,
                                        hostile=spec["activity"].get("hostile", False))
            changes = self._history(client, spec, topics)
            records = sorted(records + changes, key=lambda e: e["eventTime"])
            self.state.records[spec["id"]] = records
            self.state.root[spec["id"]] = RootCredentials(**spec.get("root", {}))
            delivered = self._seed_log_events(spec, records)
            self._archives[spec["id"]] = (spec["trail"]["bucket"], records)
            self._seed_filters(client, spec, delivered, changes)
            self._seed_alarms(client, spec, topics, changes)
            self._seed_rules(client, spec, topics)

    def _history(self, client: Any, spec: dict, topics: dict[str, str]) -> list[dict]:
        """The chain's changes over the window (``history``), named after what was seeded: the root
        alarm's filter and its topic's first subscriber, whose ARN today's re-subscription returns."""
        steps = spec.get("history") or []
        if not steps:
            return []
        alarm = spec["alarms"][0]
        f = next(f for f in spec["filters"] if (f["metric"], f["namespace"]) == (alarm["metric"], alarm["namespace"]))
        topic = topics[alarm["topic"]]
        sub = client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]
        trail = f"arn:aws:cloudtrail:{self.region}:{spec['id']}:trail/{spec['trail']['name']}"
        chain = ev.Chain(trail, spec["trail"]["log_group"], f["name"], f["pattern"], (f["namespace"], f["metric"]),
                         topic, sub["Protocol"], sub["Endpoint"], sub["SubscriptionArn"])
        return ev.chain_history(spec["id"], self.region, spec["activity"]["seed"] + 1_000_003, self.now, steps, chain,
                                self.days)

    def _client(self, session: boto3.Session, credentials: dict[str, str], service: str) -> Any:
        return session.client(service, endpoint_url=self.endpoint, **credentials)

    def _seed_topics(self, client: Any, spec: dict) -> dict[str, str]:
        sns, topics = client("sns"), {}
        for topic in spec["topics"]:
            arn = topics[topic["name"]] = sns.create_topic(Name=topic["name"])["TopicArn"]
            if "kms_key" in topic:
                sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId",
                                         AttributeValue=self._topic_key(client, spec["id"], topic["kms_key"]))
            for sub in topic["subscriptions"]:
                sub_arn = sns.subscribe(TopicArn=arn, Protocol=sub["protocol"], Endpoint=sub["endpoint"],
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]
                if not sub["confirmed"]:
                    self.state.pending.add(sub_arn)
        return topics

    @staticmethod
    def _topic_key(client: Any, account: str, allowed: list[str]) -> str:
        """A customer managed key for a topic (``kms_key``: the services its policy lets use it, as SNS's
        guide has it for CloudWatch alarms and EventBridge rules), its ARN."""
        statements = [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
                      *({"Sid": f"Allow {service} to publish to encrypted topics", "Effect": "Allow",
                         "Principal": {"Service": service}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                         "Resource": "*"} for service in allowed)]
        return client("kms").create_key(Description="SNS topic encryption", Policy=json.dumps(
            {"Version": "2012-10-17", "Id": "key-sns-alerts", "Statement": statements}))["KeyMetadata"]["Arn"]

    @staticmethod
    def _seed_rules(client: Any, spec: dict, topics: dict[str, str]) -> None:
        """EventBridge rules on the default bus (``event_rules``), each notifying one of the account's topics,
        whose access policy lets EventBridge publish (the statement the console adds with the target)."""
        for rule in spec.get("event_rules", []):
            topic = topics[rule["topic"]]
            client("events").put_rule(Name=rule["name"], EventPattern=rule["pattern"], State=rule["state"])
            client("events").put_targets(Rule=rule["name"], Targets=[{"Id": "notify", "Arn": topic}])
            client("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(
                {"Version": "2012-10-17", "Statement": [
                    {"Sid": "AWSEvents_" + rule["name"], "Effect": "Allow",
                     "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": topic}]}))

    def _seed_trail(self, client: Any, spec: dict) -> None:
        trail, acct = spec["trail"], spec["id"]
        client("s3").create_bucket(Bucket=trail["bucket"])
        logs = client("logs")
        logs.create_log_group(logGroupName=trail["log_group"])
        logs.put_retention_policy(logGroupName=trail["log_group"], retentionInDays=365)
        logs.create_log_stream(logGroupName=trail["log_group"], logStreamName=f"{acct}_CloudTrail_{self.region}")
        group_arn = f"arn:aws:logs:{self.region}:{acct}:log-group:{trail['log_group']}:*"
        ct = client("cloudtrail")
        ct.create_trail(Name=trail["name"], S3BucketName=trail["bucket"], IsMultiRegionTrail=trail["multi_region"],
                        IncludeGlobalServiceEvents=True, EnableLogFileValidation=True,
                        CloudWatchLogsLogGroupArn=group_arn,
                        CloudWatchLogsRoleArn=f"arn:aws:iam::{acct}:role/CloudTrail_CloudWatchLogs_Role")
        ct.put_event_selectors(TrailName=trail["name"], EventSelectors=[{**trail["selectors"], "DataResources": []}])
        if trail["logging"]:
            ct.start_logging(Name=trail["name"])

    def _seed_filters(self, client: Any, spec: dict, delivered: list[tuple[int, str, dict]],
                      changes: list[dict]) -> None:
        """The metric filters, and their datapoints for the trail's delivery as the filters stood when each
        record arrived: a pattern the chain's history (``history``) put in place counts the records up to
        the next one, so the alarms' seeded history follows from the events (a narrowed week raises no
        alarm for the root use it misses). The filters are put once, as the history leaves them today, and
        each span's patterns are set in moto's store for its delivery, the last span's being today's:
        putting every filter again for each span cost a request per filter and span."""
        from moto.logs.models import logs_backends

        group, logs = spec["trail"]["log_group"], client("logs")
        puts = sorted((int(ev.event_time(c).timestamp() * 1000), c["requestParameters"]) for c in changes
                      if c["eventName"] == "PutMetricFilter" and c["requestParameters"]["logGroupName"] == group)
        starts = [at for at, _ in puts[1:]]  # the first put's pattern also stands before it
        spans = [(puts[k][1] if puts else None, lo, hi) for k, (lo, hi) in
                 enumerate(zip([None, *starts], [*starts, None], strict=True))]

        def patterns(put: dict | None) -> dict[str, str]:
            return {f["name"]: put["filterPattern"] if put and put["filterName"] == f["name"] else f["pattern"]
                    for f in spec["filters"]}

        today = patterns(spans[-1][0])
        for f in spec["filters"]:
            logs.put_metric_filter(logGroupName=group, filterName=f["name"], filterPattern=today[f["name"]],
                                   metricTransformations=[{"metricName": f["metric"], "metricNamespace":
                                                           f["namespace"], "metricValue": "1"}])
        stored = [f for f in logs_backends[spec["id"]][self.region].filters.metric_filters
                  if f["logGroupName"] == group]
        for put, lo, hi in spans:
            then = patterns(put)
            for f in stored:
                f["filterPattern"] = then[f["filterName"]]
            self.state.cloudwatch.publish(spec["id"], self.region, group, [
                d for d in delivered if (lo is None or d[0] >= lo) and (hi is None or d[0] < hi)])

    def _seed_log_events(self, spec: dict, records: list[dict]) -> list[tuple[int, str, dict]]:
        """Store the records as the trail delivered them; returns them as delivered (timestamp,
        message, record) for the group's metric filters."""
        from moto.logs.models import LogEvent, logs_backends

        group = logs_backends[spec["id"]][self.region].groups[spec["trail"]["log_group"]]
        stream = group.streams[f"{spec['id']}_CloudTrail_{self.region}"]
        delivered = [(int(ev.event_time(r).timestamp() * 1000), ev.to_json(r), r) for r in records]
        for ts, message, _ in delivered:
            stream.events.append(LogEvent(ts + 180_000, {"timestamp": ts, "message": message}))
        return delivered

    def _seed_archives(self) -> None:
        """The same records as each trail's S3 log files (one per region and delivery day here;
        CloudTrail writes one about every five minutes), for archive scans beyond event history. The
        bridge calls this once, before the first S3 request reaches moto."""
        from moto.s3.models import s3_backends

        for account, (bucket, records) in self._archives.items():
            store = s3_backends[account]["aws"]
            for key, body in ev.log_files(account, records):
                store.put_object(bucket, key, body)

    def _seed_alarms(self, client: Any, spec: dict, topics: dict[str, str], changes: list[dict]) -> None:
        """The alarms, created in INSUFFICIENT_DATA as AWS creates one before the window, and their history
        over it as the sandbox's evaluation of the filters' datapoints makes it, their actions enabled or
        not as the chain's history had them at each moment; from now on the sandbox evaluates them
        (sandbox/cloudwatch.py)."""
        from moto.cloudwatch.models import cloudwatch_backends

        cw = client("cloudwatch")
        created = self.now - timedelta(days=ev.DAYS + 30)
        history = self.state.history.setdefault((spec["id"], self.region), [])
        for alarm in spec["alarms"]:
            cw.put_metric_alarm(AlarmName=alarm["name"], MetricName=alarm["metric"], Namespace=alarm["namespace"],
                                Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1.0,
                                ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
                                ActionsEnabled=alarm["actions_enabled"], AlarmActions=[topics[alarm["topic"]]])
            history.append(ev.alarm_created(alarm["name"], created))
        alarms = cloudwatch_backends[spec["id"]][self.region].alarms
        for alarm in alarms.values():
            alarm.state_value = "INSUFFICIENT_DATA"
        toggles = sorted((ev.event_time(c), c["eventName"] == "EnableAlarmActions",
                          c["requestParameters"]["alarmNames"])
                         for c in changes if c["eventName"] in ("EnableAlarmActions", "DisableAlarmActions"))
        for _, enabled, names in reversed(toggles):  # before its first toggle, an alarm had the other setting
            for name in names:
                alarms[name].actions_enabled = not enabled
        since = created
        for when, enabled, names in toggles:
            self.state.cloudwatch.replay(spec["id"], self.region, since, when)
            for name in names:
                alarms[name].actions_enabled = enabled
            since = when
        self.state.cloudwatch.replay(spec["id"], self.region, since, self.now)


@cache
def _models_loader(data_path: str | None) -> botocore.loaders.Loader:
    """botocore's JSON models, listed and parsed once per process for every session made here (seeding's,
    the auditor's, the members'), of every sandbox: a new loader per sandbox cost each seeding ~0.3 s of
    parsing again the models of the seven services it calls. A loader's caches hold only those models."""
    return botocore.loaders.create_loader(data_path)


def _share_moto_loader() -> None:
    """moto makes a new model loader for each service model it first loads, and each new loader lists and
    stats botocore's whole data directory (some 450 services) before loading one file: ~30 ms a service,
    a quarter of a second per seeding process. One loader serves them all; its caches hold nothing else."""
    import moto.core.utils

    if not hasattr(moto.core.utils.create_loader, "cache_info"):
        moto.core.utils.create_loader = cache(moto.core.utils.create_loader)


def _clones(templates: list[dict], count: int) -> list[dict]:
    """``count`` accounts cycling through the templates, each with its own id and names."""
    out = []
    for i in range(count):
        spec = copy.deepcopy(templates[i % len(templates)])
        suffix = f"{i:03d}"
        spec["id"] = f"{300000000000 + i}"
        spec["alias"] = f"{spec['alias']}-{suffix}"
        for key in ("name", "bucket", "log_group"):
            spec["trail"][key] = f"{spec['trail'][key]}-{suffix}"
        spec["activity"]["seed"] = spec["activity"]["seed"] * 1000 + i
        out.append(spec)
    return out


def _expand_controls(spec: dict) -> None:
    """``all_controls``: a filter and an alarm for every control of the default benchmark, with the
    catalog's pattern (``reference``) or a realistic defective one (``drift``, sandbox/drift.yaml)."""
    settings = spec.pop("all_controls", None)
    if not settings:
        return
    from rootwatch.catalog import load_catalog

    drift = yaml.safe_load(DRIFT.read_text(encoding="utf-8"))["drift"] if settings["patterns"] == "drift" else {}
    for control in load_catalog().controls():
        if control.id in settings.get("except", []):
            continue
        rem = control.remediation
        pattern = drift[control.id]["pattern"] if drift else control.intended.canonical
        spec["filters"].append({"name": rem.filter_name, "pattern": pattern, "metric": rem.metric_name,
                                "namespace": rem.namespace})
        spec["alarms"].append({"name": rem.alarm_name, "metric": rem.metric_name, "namespace": rem.namespace,
                               "actions_enabled": True, "topic": settings["topic"]})
