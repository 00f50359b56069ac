"""jsonschema as every rootwatch module imports it (the catalog's and the bundle manifest's schemas):
one import rule, so no command pays for jsonschema's format checkers again through a module that forgot it."""

from __future__ import annotations

from types import ModuleType

from rootwatch.imports import import_without

# What ``import jsonschema`` imports, when installed, to check string formats (jsonschema/_format.py):
# rfc3987_syntax (iri, iri-reference) compiles 39 Earley grammars, about a second; the others together
# (isoduration brings arrow) are ~0.1 s more of every command's start-up.
FORMAT_CHECKERS = ("rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "fqdn", "idna",
                   "webcolors", "jsonpointer", "uri_template", "isoduration")


def _import_jsonschema() -> ModuleType:
    """jsonschema, imported without its optional format checkers. Neither this catalog's schema, the
    manifest's nor nbformat's has a ``format``, and jsonschema checks formats only when given a format
    checker, so no validation here changes (jsonschema 4.26 has no lazy import of them). A process that
    imported jsonschema before rootwatch keeps its own; one that imports a checker's module later gets it."""
    return import_without("jsonschema", FORMAT_CHECKERS)


jsonschema = _import_jsonschema()
