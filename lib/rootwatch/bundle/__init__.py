"""Signed evidence bundles: manifest, signatures, verification, archive.

``verify`` stands alone: it needs no AWS access and imports nothing from the collection or
reporting stages.
"""
