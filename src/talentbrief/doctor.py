"""`talentbrief doctor`: is this machine set up for fast, correct builds? Modelled on `quarto check`.

Each check asks what the code itself uses (base.css's font stacks, figures.style_rc, WeasyPrint's own
subsetting test, through `talentbrief.fonts` as a build does), not package names.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import figures
from talentbrief import fonts
from talentbrief import paths as paths_mod

# first family of a stack -> the Debian package that provides it
FONT_PACKAGES = {"Noto Sans": "fonts-noto-core", "Noto Sans CJK SC": "fonts-noto-cjk"}
PACKAGES = ("weasyprint", "pydyf", "fonttools", "nbconvert", "papermill", "jupyter_client", "ipykernel",
            "pandas", "matplotlib", "seaborn", "frictionless")
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"
# the tools the tests use: (label, the command printing its version, the Debian package)
TOOLS = (("Chromium (tests)", ["/usr/bin/chromium", "--version"], "chromium"),
         ("poppler (tests)", ["pdffonts", "-v"], "poppler-utils"))


@dataclass(frozen=True)
class Check:
    """One line of the report. ok=None is information; a failed check with `essential` fails doctor."""

    label: str
    detail: str
    ok: bool | None = True
    essential: bool = True
    package: str | None = None  # the Debian package that fixes it
    fix: str | None = None  # any other fix (a command)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def python_checks() -> list[Check]:
    versions = {name: _version(name) for name in PACKAGES}
    missing = [name for name, v in versions.items() if v is None]
    listed = ", ".join(f"{name} {v}" for name, v in versions.items() if v)
    dask, distributed = _version("dask"), _version("distributed")
    extra = f"dask {dask}, distributed {distributed}" if dask and distributed else None
    return [
        Check("Python", f"{platform.python_version()} ({sys.executable})", ok=None),
        Check("packages", listed + (f"; missing: {', '.join(missing)}" if missing else ""), ok=not missing,
              fix="make bootstrap"),
        Check("Dask extra", extra or "not installed (only for --executor dask)", ok=None,
              fix=None if extra else "pip install -e '.[dask]'"),
    ]


def pdf_checks() -> list[Check]:
    try:
        from weasyprint.text.ffi import pango
    except OSError as exc:  # a library WeasyPrint dlopens is missing
        return [Check("WeasyPrint", f"cannot load its libraries: {exc}", ok=False, package=PANGO_PACKAGES)]
    ok, detail = fonts.subsetting()
    n = pango.pango_version()  # WeasyPrint needs Pango >= 1.44
    return [
        Check("Pango", f"{n // 10000}.{n // 100 % 100}.{n % 100}", ok=n >= 14400, package=PANGO_PACKAGES),
        Check("PDF font subsetting", detail, ok=ok, package=None if ok else fonts.SUBSET_PACKAGE),
    ]


def font_checks(root: Path | None = None) -> list[Check]:
    """Each family of each page stack, regular and bold: the first must resolve to itself."""
    from talentbrief import render  # the renderer's imports only when the fonts are checked

    if shutil.which("fc-match") is None:
        return [Check("fontconfig", "fc-match not found", ok=False, package="fontconfig")]
    checks = []
    for lang, (first, *rest) in fonts.page_stacks(render.base_css(root)).items():
        for bold in (False, True):
            ok, got = fonts.resolves(first, bold)
            label = f"page {lang} {'bold' if bold else 'regular'}: {first}"
            checks.append(Check(label, got, ok=ok, package=FONT_PACKAGES.get(first)))
        for family in [f for f in rest if f not in ("sans-serif", "serif", "monospace")]:
            ok, got = fonts.resolves(family)  # fallbacks: for other systems' browsers; information only
            detail = got if ok else f"not installed (→ {got})"
            checks.append(Check(f"page {lang} fallback: {family}", detail, ok=None))
    return checks


def chart_checks() -> list[Check]:
    """The charts' families as matplotlib resolves them (its own font list, not fontconfig)."""
    from matplotlib import font_manager

    checks = []
    for lang in figures.LANGS:
        try:
            family = figures.style_rc(lang)["font.sans-serif"][0]
        except RuntimeError as exc:  # no CJK font
            checks.append(Check(f"chart {lang}", str(exc).split(";")[0], ok=False, package="fonts-noto-cjk"))
            continue
        label = f"chart {lang}: {family}"
        try:
            face = font_manager.FontProperties(family=family)
            checks.append(Check(label, Path(font_manager.findfont(face, fallback_to_default=False)).name))
        except ValueError:
            stale = fonts.resolves(family)[0]  # fontconfig has it: matplotlib's font list predates it
            fix = f"rm {Path(font_manager.get_cachedir()) / 'fontlist-*.json'}" if stale else None
            package = None if stale else FONT_PACKAGES.get(family)
            checks.append(Check(label, "not found by matplotlib", ok=False, package=package, fix=fix))
    return checks


def tool_checks() -> list[Check]:
    """What the tests need (TOOLS): not essential for builds."""
    checks = []
    for label, argv, package in TOOLS:
        version = None
        if shutil.which(argv[0]) is not None:
            run = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
            version = ((run.stdout or run.stderr).strip().splitlines() or ["?"])[0]
        checks.append(Check(label, version or "not found", ok=version is not None, essential=False,
                            package=package))
    return checks


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def run_checks(root: Path) -> list[Check]:
    folders = {"reports/": root / "reports", "cache": paths_mod.cache_dir()}
    return [*python_checks(), *pdf_checks(), *font_checks(root), *chart_checks(), *tool_checks(),
            *(Check(f"{name} writable", str(f), ok=_writable(f)) for name, f in folders.items())]


def report(checks: list[Check], out) -> int:
    """Print like `quarto check`; 1 when an essential check failed."""
    for c in checks:
        mark = "-" if c.ok is None else "✓" if c.ok else "✗" if c.essential else "!"
        print(f"[{mark}] {c.label}: {c.detail}", file=out)
    failed = [c for c in checks if c.ok is False]
    if packages := " ".join(dict.fromkeys(c.package for c in failed if c.package)):
        line = f"sudo apt-get install -y --no-install-recommends {packages}"
        print(f"\ninstall with (or as root: bash scripts/bootstrap-system.sh test):\n  {line}", file=out)
    for fix in dict.fromkeys(c.fix for c in failed if c.fix):
        print(f"then: {fix}", file=out)
    if essential := [c for c in failed if c.essential]:
        print(f"\ntalentbrief doctor: {len(essential)} essential problem(s)", file=out)
        return 1
    print("\ntalentbrief doctor: ready" + (" (tests need the packages above)" if failed else ""), file=out)
    return 0


def cmd_doctor(args) -> int:
    return report(run_checks(paths_mod.get(args.root).root), sys.stdout)


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check this machine: fonts, PDF subsetting, tools, folders")
    p.set_defaults(func=cmd_doctor)
