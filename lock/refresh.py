"""The lock: every install set of pyproject.toml resolved to exact versions, as pip constraints.

``make lock`` (``python lock/refresh.py``) resolves the ``dev`` set — everything — against today's
package indexes, then each set (``core`` and each extra) against that result, so every set's pins
are the versions the test suite ran with. It also writes ``environment.yml`` from pyproject.toml
through ``lock/conda-forge.yaml`` (PyPI name → conda-forge name). ``--check`` changes nothing and
exits 1 when pyproject.toml and the lock disagree (``tests/test_lock.py`` runs it).

Pins are for the platform ``make lock`` ran on (CPython 3.11, Linux x86_64): a package whose markers
exclude that platform is not in the lock.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "lock"
BUILD = "build"  # what installs and builds rootwatch itself: pip and setuptools
HEADER = re.compile(r"^# pyproject sha256: ([0-9a-f]{64})$", re.M)


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def sets(meta: dict) -> list[str]:
    """``core`` (no extra), then every extra; ``dev`` last, since the others are resolved against it."""
    extras = [e for e in meta["project"]["optional-dependencies"] if e != "dev"]
    return ["core", *extras, "dev"]


def declared(meta: dict) -> str:
    """The sha256 of what the lock is resolved from: the dependencies, extras and build requirements."""
    spec = {"dependencies": meta["project"]["dependencies"],
            "optional-dependencies": meta["project"]["optional-dependencies"],
            "build-system": meta["build-system"]["requires"]}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def requirements(meta: dict, name: str) -> list[Requirement]:
    """What the set asks for directly, with rootwatch's own extras expanded."""
    project_name = canonicalize_name(meta["project"]["name"])
    if name == BUILD:
        return [Requirement(r) for r in meta["build-system"]["requires"]] + [Requirement("pip")]
    todo = [] if name == "core" else [name]
    out, seen = [Requirement(r) for r in meta["project"]["dependencies"]], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in meta["project"]["optional-dependencies"][extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == project_name:
                todo.extend(req.extras)
            else:
                out.append(req)
    return out


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def resolve(args: list[str]) -> dict[str, str]:
    """pip's own resolver, nothing installed: ``pip install --dry-run --report``."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                           "--no-build-isolation", "--report", "-", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"lock: pip could not resolve {' '.join(args)}:\n{done.stderr}")
    report = json.loads(done.stdout)
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in report["install"]
            if canonicalize_name(item["metadata"]["name"]) != "rootwatch"}


def write(name: str, pins: dict[str, str], digest: str, what: str) -> None:
    body = "".join(f"{n}=={v}\n" for n, v in sorted(pins.items(), key=lambda p: canonicalize_name(p[0])))
    (LOCK / f"{name}.txt").write_text(
        f"# {what}: resolved by `make lock` for CPython {sys.version_info[0]}.{sys.version_info[1]} on Linux x86_64\n"
        f"# pyproject sha256: {digest}\n" + body, encoding="utf-8")


def refresh() -> None:
    meta = project()
    digest = declared(meta)
    build = resolve([str(r) for r in requirements(meta, BUILD)])
    write(BUILD, build, digest, "pip and setuptools, which install and build rootwatch")
    write("dev", resolve([".[dev]"]), digest, "rootwatch[dev]: every extra and the development tools")
    for name in sets(meta)[:-1]:
        target = "." if name == "core" else f".[{name}]"
        write(name, resolve(["-c", str(LOCK / "dev.txt"), target]), digest,
              "rootwatch (core)" if name == "core" else f"rootwatch[{name}]")
    try:
        (ROOT / "environment.yml").write_text(environment(meta), encoding="utf-8")
    except LookupError as exc:
        sys.exit(f"lock: {exc}")


def environment(meta: dict) -> str:
    """environment.yml: every declared dependency under its conda-forge name (``lock/conda-forge.yaml``),
    with pyproject's version bounds; the ones conda-forge does not carry under pip."""
    names = yaml.safe_load((LOCK / "conda-forge.yaml").read_text(encoding="utf-8"))
    conda, pip = [], []
    for req in requirements(meta, "dev"):
        key = canonicalize_name(req.name)
        if key not in names:
            raise LookupError(f"{req.name} has no entry in lock/conda-forge.yaml; add its conda-forge name (or pip)")
        if names[key] == "pip":
            pip.append(str(req))
        else:
            conda.append(f"{names[key]}{req.specifier}" if req.specifier else names[key])
    python = meta["project"]["requires-python"]
    lines = ["# Conda environment for rootwatch, written by `make lock` from pyproject.toml (every extra) through",
             "# lock/conda-forge.yaml; do not edit by hand. Create with:",
             "#   conda env create -f environment.yml && conda activate rootwatch && pip install -e . --no-deps",
             "name: rootwatch", "channels:", "  - conda-forge", "dependencies:", f"  - python{python}", "  - pip",
             *(f"  - {c}" for c in sorted(conda)), "  - pip:", *(f"      - {p}" for p in sorted(pip))]
    return "\n".join(lines) + "\n"


def check() -> list[str]:
    """What disagrees between pyproject.toml and the lock (nothing: an empty list)."""
    meta = project()
    digest, problems = declared(meta), []
    dev_pins = read_pins(LOCK / "dev.txt") if (LOCK / "dev.txt").is_file() else {}
    for name in [BUILD, *sets(meta)]:
        path = LOCK / f"{name}.txt"
        if not path.is_file():
            problems.append(f"{path.name} is missing")
            continue
        found = HEADER.search(path.read_text(encoding="utf-8"))
        if not found or found.group(1) != digest:
            problems.append(f"{path.name} was resolved from another pyproject.toml")
        pins = read_pins(path)
        for req in requirements(meta, name):
            version = pins.get(canonicalize_name(req.name))
            if version is None or not req.specifier.contains(version, prereleases=True):
                problems.append(f"{path.name}: {req} is pinned to {version}")
        if name != BUILD:
            problems += [f"{path.name}: {n}=={v} but dev.txt pins {dev_pins.get(n)}" for n, v in pins.items()
                         if dev_pins.get(n) != v]
    try:
        if (ROOT / "environment.yml").read_text(encoding="utf-8") != environment(meta):
            problems.append("environment.yml is not what pyproject.toml and lock/conda-forge.yaml give")
    except LookupError as exc:
        problems.append(str(exc))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the lock is stale")
    if parser.parse_args().check:
        problems = check()
        for p in problems:
            print(f"lock: {p}; run make lock", file=sys.stderr)
        return 1 if problems else 0
    refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
