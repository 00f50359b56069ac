"""The optional parts of rootwatch (pyproject.toml's extras) and the one line a user gets when a feature
needs one that is not installed — instead of an ImportError from deep inside a run."""

from __future__ import annotations

import importlib.util

from rootwatch.errors import ParameterError

# extra -> the module whose presence means it is installed
MODULES = {"pdf": "weasyprint", "x509": "pyhanko", "sandbox": "moto", "lab": "jupyterlab"}


def installed(extra: str) -> bool:
    return importlib.util.find_spec(MODULES[extra]) is not None


def require(extra: str, feature: str) -> None:
    """Raise the one-line bad-input error naming what to install when ``extra`` is missing."""
    if not installed(extra):
        raise ParameterError(f"{feature} needs rootwatch's {extra!r} extra, which is not installed",
                             f"install it: pip install 'rootwatch[{extra}]' (pinned: add -c lock/{extra}.txt)")
