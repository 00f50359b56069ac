"""The control catalog as data: ``controls.yaml`` (every edition's controls, patterns and crosswalk),
validated against ``schema.json``, and its model and loader (``loader``)."""

from rootwatch.catalog.loader import DEFAULT_PATH, Catalog, Control, RootControl, load_catalog, with_role

__all__ = ["DEFAULT_PATH", "Catalog", "Control", "RootControl", "load_catalog", "with_role"]
