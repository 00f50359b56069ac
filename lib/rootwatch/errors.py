"""One error tree for rootwatch, so the CLI can map every failure to one line and one exit code.

Each error carries a ``hint`` (what the user should do) besides its message; the CLI prints
both on one line.
"""

from __future__ import annotations


class RootwatchError(Exception):
    """Base of every error rootwatch raises on purpose."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        """The error as the CLI prints it: problem first, then what to do."""
        text = " ".join(self.message.split())
        return f"{text}; {self.hint}" if self.hint else text


class PatternSyntaxError(RootwatchError):
    """A filter pattern that CloudWatch Logs would reject, with the place it goes wrong."""

    def __init__(self, message: str, pattern: str, position: int) -> None:
        self.pattern = pattern
        self.position = position
        self.line = pattern.count("\n", 0, position) + 1
        self.column = position - (pattern.rfind("\n", 0, position) + 1) + 1
        where = f"line {self.line}, column {self.column}" if "\n" in pattern else f"column {self.column}"
        super().__init__(f"invalid filter pattern at {where}: {message}",
                         "fix the pattern (CloudWatch Logs JSON filter syntax)")
        self.reason = message

    def caret(self) -> str:
        """The offending line with a caret under the column (as jmespath prints parse errors), for
        notebooks and logs; the CLI keeps to one line."""
        start = self.pattern.rfind("\n", 0, self.position) + 1
        end = self.pattern.find("\n", self.position)
        line = self.pattern[start: end if end >= 0 else len(self.pattern)]
        return f"{line}\n{' ' * (self.column - 1)}^"


class CatalogError(RootwatchError):
    """The control catalog is malformed, or names a control or benchmark that does not exist."""


class CredentialsError(RootwatchError):
    """No usable AWS credentials, or a profile that does not exist."""


class Unreachable(RootwatchError):
    """AWS could not be reached at all (network, proxy, endpoint): nothing was audited, so nothing is
    written; a scheduler should retry (exit 4), not file a finding."""


class ParameterError(RootwatchError):
    """A parameter file or value that rootwatch cannot use."""


class SigningError(RootwatchError):
    """A signing key, certificate or passphrase that cannot be used: nothing is signed."""


class BundleError(RootwatchError):
    """A path that is not a rootwatch bundle."""


class ArchiveError(RootwatchError):
    """A CloudTrail archive location that cannot be read at all (one unreadable file is a warning)."""


class CredentialReportError(RootwatchError):
    """An IAM credential report that is not the CSV AWS documents: rather no answer than a wrong one."""


class QueryTranslationError(RootwatchError):
    """A filter pattern that a query engine's CloudTrail table cannot ask exactly: no SQL is
    emitted rather than SQL that counts other events than the pattern does."""


class QueryError(RootwatchError):
    """An Athena or CloudTrail Lake query that was refused, failed, was cancelled or did not finish
    in time."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: not an ``Exception`` so that no handler on the way mistakes it for a
    failure to record and go on; the run stops where it is and is left incomplete."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.name}")


def botocore_message(exc: Exception) -> str:
    """botocore's message, except the text a credential provider returned: a credential_process's
    stderr (or a container endpoint's reply) may hold the very keys it handles, and the message
    goes to the terminal, the notebook and the bundle's gap records."""
    from botocore.exceptions import BotoCoreError, CredentialRetrievalError

    if isinstance(exc, CredentialRetrievalError):
        return f"{exc.kwargs.get('provider', 'the credential provider')} failed (its output is not shown: it may " \
               "hold secrets)"
    if not isinstance(exc, BotoCoreError):  # a credential_process that printed something other than JSON
        return "the credential provider's output is not the JSON botocore expects (not shown: it may hold secrets)"
    return str(exc)
