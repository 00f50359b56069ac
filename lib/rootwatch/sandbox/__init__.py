"""The sandbox organisation: moto on loopback, seeded with a healthy and a drifted account.

The sandbox is an edge module: the core (collect, frames, judge, render, bundle) never imports it.
"""

from rootwatch.sandbox.server import Sandbox, SandboxAccount, served, served_endpoint

__all__ = ["Sandbox", "SandboxAccount", "served", "served_endpoint"]
