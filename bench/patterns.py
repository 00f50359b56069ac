"""By-hand benchmark (not a test) of the filter-pattern evaluator: `make bench`.

Why: ``rootwatch.patterns.evaluate`` compiles a pattern to one Python function on the promise that
matching costs about what a hand-written predicate costs. This measures that promise on the CIS 4.3
root-usage pattern over synthetic CloudTrail events, against a hand-written predicate with the same
meaning timed the same way in the same run. Goals: > 1,000,000 events/s and evaluator time / hand
time <= 1.5. It always exits 0: it is a report, and timings depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time
from collections.abc import Callable
from typing import Any

from rootwatch.patterns import compile_pattern

PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
GOAL_RATE, GOAL_RATIO = 1_000_000, 1.5
Event = dict[str, Any]


def hand(e: Event) -> bool:
    """The pattern's meaning written by hand as tightly as we can (see evaluate.py's semantics):
    eventType is only read once the cheap root checks pass."""
    ui = e.get("userIdentity")
    if type(ui) is not dict or ui.get("type") != "Root" or "invokedBy" in ui:
        return False
    et = e.get("eventType")
    return type(et) is str and et != "AwsServiceEvent"


def make_events(n: int, seed: int = 43) -> list[Event]:
    """CloudTrail-shaped events: mostly IAMUser / AssumedRole / AWSService, ~1% Root, some invokedBy,
    a few with missing or odd fields."""
    rng = random.Random(seed)
    names = ["GetObject", "DescribeInstances", "AssumeRole", "ConsoleLogin", "PutMetricData", "ListBuckets"]
    kinds = ["IAMUser", "AssumedRole", "AWSService", "Root", "FederatedUser"]
    events: list[Event] = []
    for i in range(n):
        kind = rng.choices(kinds, weights=[40, 40, 15, 1, 4])[0]
        ui: dict[str, Any] = {"type": kind, "accountId": f"{rng.randrange(10**12):012d}"}
        if kind != "AWSService":
            ui["principalId"] = f"AIDA{rng.randrange(16**12):012X}"
            ui["arn"] = f"arn:aws:iam::{ui['accountId']}:{'root' if kind == 'Root' else f'user/u{rng.randrange(50)}'}"
        if kind == "AWSService" or rng.random() < 0.1:
            ui["invokedBy"] = rng.choice(["ec2.amazonaws.com", "cloudformation.amazonaws.com", "AWS Internal"])
        event_type = "AwsServiceEvent" if kind == "AWSService" and rng.random() < 0.5 else \
            rng.choice(["AwsApiCall", "AwsApiCall", "AwsApiCall", "AwsConsoleSignIn"])
        e: Event = {"eventVersion": "1.08", "userIdentity": ui, "eventTime": f"2024-05-{1 + i % 28:02d}T12:00:00Z",
                    "eventSource": "iam.amazonaws.com", "eventName": rng.choice(names), "awsRegion": "us-east-1",
                    "sourceIPAddress": f"203.0.113.{rng.randrange(256)}", "eventType": event_type,
                    "recipientAccountId": ui["accountId"]}
        odd = rng.random()
        if odd < 0.01:
            del e["eventType"]
        elif odd < 0.02:
            del e["userIdentity"]
        elif odd < 0.025:
            e["userIdentity"] = None
        elif odd < 0.03:
            e["eventType"] = 1
        events.append(e)
    return events


def best_time(f: Callable[[Event], bool], events: list[Event], repeat: int) -> float:
    """Best wall time of ``for e in events: f(e)`` over ``repeat`` runs, GC off."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            for e in events:
                f(e)
            best = min(best, time.perf_counter() - t0)
    finally:
        gc.enable()
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    events = make_events(args.events)
    evaluator = compile_pattern(PATTERN).matches
    disagree = [e for e in events if evaluator(e) != hand(e)]
    assert not disagree, f"{len(disagree)} events disagree, e.g. {disagree[0]}"
    matched = sum(map(hand, events))
    t_eval, t_hand = best_time(evaluator, events, args.repeat), best_time(hand, events, args.repeat)
    n = len(events)
    fig = {"events": n, "matched": matched, "repeat": args.repeat, "evaluator_events_per_s": n / t_eval,
           "hand_events_per_s": n / t_hand, "ratio": t_eval / t_hand}
    fig["goal_rate"] = "PASS" if fig["evaluator_events_per_s"] > GOAL_RATE else "MISS"
    fig["goal_ratio"] = "PASS" if fig["ratio"] <= GOAL_RATIO else "MISS"
    if args.json:
        print(json.dumps(fig, indent=2))
        return
    print(f"{n:,} events, {matched:,} matched, best of {args.repeat}, both agree on every event")
    print(f"{'evaluator':<12}{fig['evaluator_events_per_s']:>14,.0f} events/s   "
          f"goal > {GOAL_RATE:,}: {fig['goal_rate']}")
    print(f"{'hand-written':<12}{fig['hand_events_per_s']:>14,.0f} events/s")
    print(f"{'ratio':<12}{fig['ratio']:>14.2f} eval/hand  goal <= {GOAL_RATIO}: {fig['goal_ratio']}")


if __name__ == "__main__":
    main()
