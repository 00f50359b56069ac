"""Loaded before pytest's plugins (``make test``'s ``-p tests.early``): jsonschema imported as rootwatch
imports it, without its optional format checkers (rootwatch.jsonschemas). nbval's plugin imports nbformat, which
imports jsonschema; first, that would import rfc3987_syntax and compile its 39 grammars — one to three
seconds of CPU in each of make test's five pytest processes — and the in-process tests would run
under a jsonschema no rootwatch process has."""

import rootwatch.jsonschemas  # noqa: F401
