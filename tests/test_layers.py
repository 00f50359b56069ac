"""Import boundaries of the module map: data flows one way, and the edges stay at the edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "rootwatch"

# module (file or package) → rootwatch modules it must not import
FORBIDDEN = {
    "errors.py": {"rootwatch."},
    "models.py": {"rootwatch.", "pandas", "boto3"},
    "resources.py": {"rootwatch.", "pandas", "boto3"},
    "patterns": {"rootwatch.catalog", "rootwatch.collect", "rootwatch.frames", "rootwatch.sandbox", "rootwatch.cli",
                 "pandas", "boto3"},
    "catalog": {"rootwatch.collect", "rootwatch.frames", "rootwatch.sandbox", "rootwatch.cli", "pandas", "boto3"},
    "judge/pattern_coverage.py": {"rootwatch.collect", "rootwatch.frames", "rootwatch.judge.chain", "rootwatch.sandbox",
                                  "rootwatch.cli", "boto3"},
    "collect": {"rootwatch.frames", "rootwatch.judge", "rootwatch.sandbox", "rootwatch.cli", "pandas"},
    "frames": {"rootwatch.sandbox", "rootwatch.cli", "boto3"},
    "__init__.py": {"rootwatch.", "boto3", "pandas"},
    "bundle": {"rootwatch.collect", "rootwatch.frames", "rootwatch.judge", "rootwatch.report", "rootwatch.notebook",
               "rootwatch.sandbox", "rootwatch.runner", "pandas", "matplotlib", "boto3"},
    "judge": {"rootwatch.sandbox", "rootwatch.report", "rootwatch.bundle", "boto3", "matplotlib"},
    "logarchive": {"rootwatch.collect", "rootwatch.frames", "rootwatch.judge", "rootwatch.sandbox", "rootwatch.cli",
                   "pandas", "boto3"},
    # the loop knows nothing of notebooks: their facade imports it, never the reverse
    "remediate": {"rootwatch.notebook", "rootwatch.sandbox", "rootwatch.cli"},
    # the drill writes to an account like remediation: it never serves the sandbox itself, nor knows the CLI
    "drill": {"rootwatch.notebook", "rootwatch.sandbox", "rootwatch.cli"},
    # a run's tables know nothing of how a notebook shows them
    "evidence_run.py": {"rootwatch.notebook", "rootwatch.sandbox", "rootwatch.cli"},
    # renderers: they are handed findings and frames, they read nothing themselves
    "report": {"rootwatch.collect", "rootwatch.judge", "rootwatch.sandbox", "boto3"},
    # pure: EventBridge patterns and their meaning; the collector and judge call it, it calls neither (nor AWS)
    "eventbridge": {"rootwatch.catalog", "rootwatch.collect", "rootwatch.frames", "rootwatch.judge", "rootwatch.sandbox",
                    "rootwatch.cli", "rootwatch.patterns", "pandas", "boto3"},
    # pure: the judge, the sandbox and the alarm-coverage check call it, it calls none of them (nor AWS)
    "simulate": {"rootwatch.catalog", "rootwatch.collect", "rootwatch.frames", "rootwatch.judge", "rootwatch.sandbox",
                 "rootwatch.cli", "rootwatch.remediate", "pandas", "boto3"},
    # pure: rebuilds the chain's past from records and today's state it is handed; the judge is a callback
    "history": {"rootwatch.collect", "rootwatch.frames", "rootwatch.judge", "rootwatch.sandbox", "rootwatch.cli",
                "boto3"},
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_module_does_not_import_what_it_must_not(module):
    target = LIB / module
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    own = "rootwatch." + module.removesuffix(".py").replace("/", ".") if module != "__init__.py" else None
    for path in files:
        for name in _imports(path):
            if own and name.startswith(own):
                continue
            for banned in FORBIDDEN[module]:
                assert not (name == banned.rstrip(".") or name.startswith(banned)), f"{path.name} imports {name}"


# Every module and package of rootwatch in one layer, lowest first; a module imports only from layers
# below its own, so the data flows one way and no cycle can form (what import-linter's "layers"
# contract checks, as a test over every module). A new module must be placed here to pass.
LAYERS = (
    {"imports"},  # how a library is imported without the optional modules rootwatch never uses
    {"errors", "models", "words", "untrusted", "jsonschemas", "log", "iam_actions", "__init__"},  # the vocabulary
    {"extras", "outputs"},  # what is installed, where results may go (their errors are bad input)
    {"patterns", "resources", "answers", "report", "bundle"},  # the pattern language, typed AWS views, AWS's
    # answers (definite or a gap); renderers, signers
    {"catalog", "simulate", "eventbridge", "history", "logarchive", "params"},  # pure engines; the run's parameters
    {"collect", "sandbox"},  # reading AWS (or serving it)
    {"judge", "scope"},  # verdicts: a pattern against a control, each account's chain; what a run reads
    {"frames"},  # evidence → documented frames (with the pattern verdicts they show)
    {"remediate", "hygiene"},  # changes from verdicts; root hygiene from the credential report's frame
    {"evidence_run"},  # one run: evidence → frames → findings, its tables, figures and saved outputs
    {"notebook", "runner"},  # the notebooks' facades; rootwatch run
    {"drill"},  # rootwatch drill: audits, writes one marked record, watches it through, signs like a run
    {"cli"},
    {"__main__"},
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def _top(path: Path) -> str:
    return path.relative_to(LIB).parts[0].removesuffix(".py")


def test_every_module_has_a_layer():
    modules = {_top(p) for p in LIB.rglob("*.py")}
    assert modules == set(LEVEL), f"unplaced: {sorted(modules - set(LEVEL))}; gone: {sorted(set(LEVEL) - modules)}"


@pytest.mark.parametrize("path", sorted(LIB.rglob("*.py")), ids=lambda p: str(p.relative_to(LIB)))
def test_a_module_imports_only_from_the_layers_below(path):
    own = _top(path)
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] != "rootwatch" or len(parts) < 2 or parts[1] == own:
            continue
        assert LEVEL[parts[1]] < LEVEL[own], f"{path.relative_to(LIB)} ({own}, layer {LEVEL[own]}) imports " \
                                             f"{name} (layer {LEVEL[parts[1]]})"
