"""Report HTML → PDF, with WeasyPrint (pip-installable, no browser) or Chromium's print-to-PDF.

A missing renderer never fails the run: the outcome says no PDF was produced and exactly what to
install, and the bundle records it. Each renderer is registered here, beside its code (``RENDERERS``,
papermill's engines habit); the parameter file may name only a registered one.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-pdf-header-footer"]
INSTALL = {
    "weasyprint": "WeasyPrint needs the Pango libraries: install them (Debian/Ubuntu: apt-get install "
                  "libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install pango) or set pdf: {renderer: chromium}",
    "chromium": "Chromium was not found: install it (Debian: apt-get install chromium) or set "
                "pdf: {renderer: weasyprint}",
}


@dataclass(frozen=True)
class PdfOutcome:
    produced: bool
    renderer: str
    message: str


Renderer = Callable[[Path, Path], PdfOutcome]  # (report.html, report.pdf to write) -> what happened
RENDERERS: dict[str, Renderer] = {}  # by the name the parameter file gives (pdf: {renderer: NAME})
DEFAULT = "weasyprint"


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under ``name``: parameter validation accepts exactly the registered names."""
    def register(function: Renderer) -> Renderer:
        RENDERERS[name] = function
        return function
    return register


def render(html: Path, pdf: Path, name: str) -> PdfOutcome:
    return RENDERERS[name](html, pdf)


@renderer("weasyprint")
def _weasyprint(html: Path, pdf: Path) -> PdfOutcome:
    try:
        from weasyprint import HTML
    except ImportError:
        return PdfOutcome(False, "weasyprint", "no PDF: WeasyPrint is not installed: pip install 'rootwatch[pdf]' "
                                               "(pinned: add -c lock/pdf.txt), or set pdf: {renderer: chromium}")
    except OSError:
        return PdfOutcome(False, "weasyprint", f"no PDF: {INSTALL['weasyprint']}")
    # tagged, as Chromium's PDFs are: each chart is a Figure whose /Alt is its alt text (what it shows in numbers)
    HTML(filename=str(html)).write_pdf(str(pdf), pdf_tags=True)
    return PdfOutcome(True, "weasyprint", "PDF rendered with WeasyPrint")


@renderer("chromium")
def _chromium(html: Path, pdf: Path) -> PdfOutcome:
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if binary is None:
        return PdfOutcome(False, "chromium", f"no PDF: {INSTALL['chromium']}")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
                               html.resolve().as_uri()], capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0 or not pdf.is_file():
        return PdfOutcome(False, "chromium", f"no PDF: Chromium failed ({done.stderr.strip()[-300:]})")
    return PdfOutcome(True, "chromium", "PDF printed with Chromium")


@renderer("none")
def _none(html: Path, pdf: Path) -> PdfOutcome:
    return PdfOutcome(False, "none", "no PDF: the parameter file sets pdf: {renderer: none}")
