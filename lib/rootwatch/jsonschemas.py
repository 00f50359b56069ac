"""jsonschema as every rootwatch module imports it (the catalog's and the bundle manifest's schemas):
one import rule, so no command pays for jsonschema's IRI checker again through a module that forgot it."""

from __future__ import annotations

import sys
from types import ModuleType

IRI_CHECKER = "rfc3987_syntax"  # what jsonschema imports to check the formats iri and iri-reference


def _import_jsonschema() -> ModuleType:
    """jsonschema, imported without its IRI format checker. When ``rfc3987-syntax`` is installed (Jupyter's
    ``jsonschema[format-nongpl]`` brings it: the lab and dev installs), ``import jsonschema`` imports it, and
    it compiles 39 Earley grammars at import: 1.1 s before every command and in every notebook kernel
    (jsonschema 4.26 has no lazy import of it). Neither this catalog's schema nor nbformat's has a
    ``format``, and jsonschema checks formats only when given a format checker, so no validation here
    changes; a process that imported jsonschema before rootwatch keeps its own."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    blocked = IRI_CHECKER not in sys.modules
    if blocked:
        sys.modules[IRI_CHECKER] = None  # its import fails: jsonschema leaves iri/iri-reference unchecked
    try:
        import jsonschema
    finally:
        if blocked and sys.modules.get(IRI_CHECKER, ...) is None:
            del sys.modules[IRI_CHECKER]  # whoever imports it later gets the real module
    return jsonschema


jsonschema = _import_jsonschema()
