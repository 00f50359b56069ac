"""What an AWS error on a chain link's call says about the audited account: a definite answer
(the thing does not exist: FAIL) or unreadable evidence (GAP), with the reason a report prints.

One table for every link, so that no collector or judge decides it ad hoc: an error missing from it
is unreadable evidence — rootwatch cannot tell what it says, and a guess could be a false PASS or a
false FAIL. "Not found" is a definite answer only about a resource of the audited account: for
another account's (an organization trail, a topic shared from elsewhere) it may only mean this
account may not see it. README.md shows the table (tests/answers/table.py renders it from here) and
tests/answers asserts every row through a stubbed collection and the judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rootwatch.models import Link, Status


class Owner(StrEnum):
    """Whose resource the failed call was about: what decides whether "not found" is an answer."""

    ANY = "any"
    AUDITED = "the audited account's"
    OTHER = "another account's"


@dataclass(frozen=True)
class Answer:
    link: Link
    code: str  # the error code botocore reports
    status: Status  # FAIL: a definite no about the audited account; GAP: the link could not be read
    meaning: str  # what the error says, as the link's reason prints it
    operations: tuple[str, ...]  # the calls of the link that return it
    owner: Owner = Owner.ANY


FAIL, GAP = Status.FAIL, Status.GAP
_DENIED = "the audit role may not make this call (policies/audit.json grants it)"
_THROTTLED = "throttled beyond botocore's retries: run again, or with fewer accounts at once"
_NOT_ENABLED = "an opt-in region not enabled for this account? enable it or remove it from regions"
_TRAIL_CALLS = ("GetTrailStatus", "GetEventSelectors")
_TRAIL_GONE = "the trail no longer exists (deleted after it was listed)"
_TRAIL_NOT_SEEN = ("the trail is another account's (an organization trail): not found may only mean this account "
                   "may not read it")

ANSWERS: tuple[Answer, ...] = (
    Answer(Link.TRAIL, "UnrecognizedClientException", GAP, _NOT_ENABLED, ("DescribeTrails",)),
    Answer(Link.TRAIL, "InvalidClientTokenId", GAP, _NOT_ENABLED, ("DescribeTrails",)),
    Answer(Link.TRAIL, "AccessDeniedException", GAP, _DENIED, ("DescribeTrails",)),
    Answer(Link.TRAIL, "ThrottlingException", GAP, _THROTTLED, ("DescribeTrails",)),
    *(row for link, call in ((Link.LOGGING, "GetTrailStatus"), (Link.MANAGEMENT_EVENTS, "GetEventSelectors"))
      for row in (
          Answer(link, "TrailNotFoundException", FAIL, _TRAIL_GONE, (call,), Owner.AUDITED),
          Answer(link, "TrailNotFoundException", GAP, _TRAIL_NOT_SEEN, (call,), Owner.OTHER),
          Answer(link, "AccessDeniedException", GAP, _DENIED, (call,)),
          Answer(link, "ThrottlingException", GAP, _THROTTLED, (call,)))),
    Answer(Link.LOG_GROUP, "ResourceNotFoundException", FAIL, "the log group does not exist",
           ("DescribeMetricFilters",), Owner.AUDITED),
    Answer(Link.LOG_GROUP, "AccessDeniedException", GAP, _DENIED, ("DescribeMetricFilters",)),
    Answer(Link.LOG_GROUP, "ThrottlingException", GAP, _THROTTLED, ("DescribeMetricFilters",)),
    Answer(Link.ALARM, "AccessDenied", GAP, _DENIED, ("DescribeAlarmsForMetric",)),
    Answer(Link.ALARM, "Throttling", GAP, _THROTTLED, ("DescribeAlarmsForMetric",)),
    Answer(Link.SUBSCRIBER, "NotFound", FAIL, "the topic does not exist, so nobody is told",
           ("ListSubscriptionsByTopic",), Owner.AUDITED),
    Answer(Link.SUBSCRIBER, "NotFound", GAP, "the topic is another account's: not found may only mean this account "
           "may not see it", ("ListSubscriptionsByTopic",), Owner.OTHER),
    Answer(Link.SUBSCRIBER, "AuthorizationError", GAP, "the audit role, or the topic's access policy, does not let "
           "it list the subscriptions", ("ListSubscriptionsByTopic",)),
    Answer(Link.SUBSCRIBER, "AccessDenied", GAP, _DENIED, ("ListSubscriptionsByTopic",)),
    Answer(Link.SUBSCRIBER, "Throttled", GAP, _THROTTLED, ("ListSubscriptionsByTopic",)),
)

UNLISTED = "an error rootwatch has no answer for: it cannot tell what it says about the account"


def answer(link: Link, code: str, own: bool = True) -> Answer:
    """The table's row for ``code`` on ``link``, the resource being the audited account's (``own``)
    or another's; an error the table does not list is a gap."""
    owner = Owner.AUDITED if own else Owner.OTHER
    rows = [a for a in ANSWERS if a.link is link and a.code == code and a.owner in (owner, Owner.ANY)]
    return rows[0] if rows else Answer(link, code, GAP, UNLISTED, ())
