"""rootwatch as a package, outside the checkout: the built wheel in a fresh virtualenv, installed from
the lock's wheels (``make test`` downloads them into ``.venv/wheelhouse`` before the tests; the tests
themselves reach nothing but loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.sandbox_process import SandboxProcess, child_environment

ROOT = Path(__file__).resolve().parents[1]
DRIFTED = "222222222222"  # one account is enough to show the install works: the drifted one, which FAILs (exit 1)
WHEELHOUSE = Path(os.environ.get("ROOTWATCH_WHEELHOUSE", ROOT / ".venv" / "wheelhouse"))


def _pip(venv: Path, *args: str) -> None:
    """This environment's pip installing into ``venv``, offline, from the lock's wheels."""
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--quiet", "--no-compile", "--no-index", "--find-links", str(WHEELHOUSE), *args],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """rootwatch built as a wheel, as `pip wheel .` or a release from a clean clone would: setuptools builds
    in a directory of its own, not the checkout's ``build/``, which keeps every file an earlier build copied,
    the source's deleted ones too, and would ship them (setuptools reads ``DIST_EXTRA_CONFIG``'s options
    after the project's)."""
    if not (WHEELHOUSE / ".complete").is_file():
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}: run `make test`, which downloads the lock's wheels first")
    work = tmp_path_factory.mktemp("wheel")
    dist, config = work / "dist", work / "build.cfg"
    config.write_text(f"[build]\nbuild_base = {work / 'build'}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(dist), str(ROOT)], capture_output=True, text=True, check=False,
                          timeout=300, env={**os.environ, "DIST_EXTRA_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr[-3000:]
    return next(dist.glob("rootwatch-*.whl"))


def _venv(tmp: Path, lock: str, requirement: str) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    _pip(venv, "-c", str(ROOT / "lock" / lock), requirement)
    return venv


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory, wheel) -> Path:
    """A fresh virtualenv holding the wheel and the core dependencies only (no moto, no WeasyPrint)."""
    return _venv(tmp_path_factory.mktemp("core"), "core.txt", str(wheel))


def _rootwatch(venv: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "rootwatch"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=600)


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = child_environment(XDG_CONFIG_HOME=str(tmp / "config"), **extra)
    env.pop("ROOTWATCH_NOTEBOOKS", None)
    env.pop("PYTHONPATH", None)
    return env


def _signed(bundle: Path) -> bool:
    return (bundle / "signatures" / "manifest.json.sshsig").is_file() and (bundle / "manifest.json").is_file()


def test_the_wheel_holds_the_sources_modules_notebooks_and_data_and_nothing_else(wheel):
    """An install loads what the checkout has: every module, notebook, template, catalog and sandbox file,
    and no file the source no longer has (a deleted module or notebook left in an old build)."""
    package = ROOT / "lib" / "rootwatch"
    source = {f"rootwatch/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
              if p.suffix in {".py", ".yaml", ".json", ".j2"} and "__pycache__" not in p.parts}
    source |= {f"rootwatch/notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    with zipfile.ZipFile(wheel) as built:
        shipped = {name for name in built.namelist() if name.startswith("rootwatch/")}
    assert shipped == source


def test_a_core_install_has_neither_the_sandbox_nor_weasyprint_and_says_what_to_install(core_venv, tmp_path):
    python = core_venv / "bin" / "python"
    for module in ("moto", "weasyprint", "pyhanko", "jupyterlab"):
        found = subprocess.run([str(python), "-c", f"import importlib.util as u; print(u.find_spec({module!r}))"],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert found == "None", f"{module} is installed by the core install"
    (tmp_path / "sandbox.yaml").write_text("source: sandbox\nregions: [us-east-1]\nwindow: last-90-days\n")
    done = _rootwatch(core_venv, "run", "sandbox.yaml", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "source: sandbox needs rootwatch's 'sandbox' extra, which is not installed; install it: pip install " \
           "'rootwatch[sandbox]'" in done.stderr
    served = _rootwatch(core_venv, "sandbox", cwd=tmp_path, env=_env(tmp_path))
    assert served.returncode == 2 and "rootwatch sandbox needs rootwatch's 'sandbox' extra" in served.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sandbox.yaml"]


def test_a_core_install_audits_a_served_sandbox_into_a_signed_bundle_without_pdf(
        core_venv, tmp_path, sandbox_process: SandboxProcess):
    """A scheduled host's install (core only, pdf: none) against `rootwatch sandbox` served from the dev
    environment, as it would reach AWS: from a directory that has nothing to do with the checkout."""
    params = {"source": "aws", "accounts": [sandbox_process.members[DRIFTED]], "regions": ["us-east-1"],
              "window": "last-90-days", "pdf": {"renderer": "none"}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = _env(tmp_path, **sandbox_process.exports)
    done = _rootwatch(core_venv, "run", "params.yaml", "--out", "bundle", "--quiet", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr[-3000:]  # the drifted account fails CIS 4.3
    bundle = tmp_path / "bundle"
    assert _signed(bundle) and (bundle / "report.html").is_file() and not (bundle / "report.pdf").exists()
    assert "signed bundle:" in done.stdout
    verified = _rootwatch(core_venv, "verify", "bundle", cwd=tmp_path, env=env)
    assert "files: every file matches manifest.json" in verified.stdout, verified.stdout


def test_the_wheel_with_the_sandbox_extra_runs_a_sandbox_audit_from_an_unrelated_directory(wheel, tmp_path):
    """The notebooks, templates, catalog and sandbox data come from the wheel (the checkout is nowhere
    on the path), and the notebook runs in this virtualenv's own interpreter."""
    venv = _venv(tmp_path, "sandbox.txt", f"rootwatch[sandbox] @ file://{wheel}")
    (tmp_path / "sandbox.yaml").write_text("source: sandbox\naccounts: [drifted]\nregions: [us-east-1]\n"
                                           "window: last-90-days\npdf: {renderer: none}\n")
    done = _rootwatch(venv, "run", "sandbox.yaml", "--out", "bundle", "--quiet", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 1, done.stderr[-3000:]
    bundle = tmp_path / "bundle"
    assert _signed(bundle) and (bundle / "root_usage_evidence.ipynb").is_file()
    collection = yaml.safe_load((bundle / "collection.json").read_text())
    assert collection["interpreter"] == str(venv / "bin" / "python")
    assert str(ROOT) not in (bundle / "root_usage_evidence.ipynb").read_text()
