"""A library imported without the optional modules it would import only to offer what rootwatch never
uses: each costs every command's start-up, and the kernel's."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from types import ModuleType


def import_without(name: str, optional: Iterable[str]) -> ModuleType:
    """``name``, imported while each of ``optional`` not yet imported fails to import (the library then
    goes without what that module offers); afterwards they import as usual. A process that imported
    ``name`` before keeps it as it is."""
    if name in sys.modules:
        return sys.modules[name]
    blocked = [module for module in optional if module not in sys.modules]
    for module in blocked:
        sys.modules[module] = None  # type: ignore[assignment]  # its import raises ImportError
    try:
        return importlib.import_module(name)
    finally:
        for module in blocked:
            if sys.modules.get(module, ...) is None:
                del sys.modules[module]
