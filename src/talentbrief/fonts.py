"""What this machine's fonts give a build (fontconfig's faces for base.css's stacks, HarfBuzz subsetting):
in full for `talentbrief doctor`; in one line for a build, from `fallbacks()`."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

STACK = re.compile(r"--tb-font-(\w+)\s*:\s*([^;]+);")
FC_WEIGHT_BOLD = 200
SUBSET_PACKAGE = "libharfbuzz-subset0"
SLOW_SUBSET = f"PDF fonts subset with fontTools, not HarfBuzz (slow: install {SUBSET_PACKAGE})"


def page_stacks(base_css: Path) -> dict[str, list[str]]:
    """{lang: [family, ...]} from base.css's --tb-font-<lang> properties: what WeasyPrint is given."""
    return {lang: [f.strip().strip("\"'") for f in value.split(",") if f.strip()]
            for lang, value in STACK.findall(base_css.read_text(encoding="utf-8"))}


def fc_match(family: str, bold: bool = False) -> tuple[list[str], int, str] | None:
    """(family names, weight, file) of the face fontconfig picks for `family`, as Pango would ask."""
    if shutil.which("fc-match") is None:
        return None
    pattern = f"{family}:weight={FC_WEIGHT_BOLD if bold else 80}"
    argv = ["fc-match", "-f", "%{family}\t%{weight}\t%{file}", pattern]
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    names, weight, file = (out.split("\t") + ["", "", ""])[:3]
    first = re.search(r"\d+(?:\.\d+)?", weight)  # "80", or "[40 250]" for a variable font
    return [n.strip() for n in names.split(",")], int(float(first[0])) if first else 0, file


def resolves(family: str, bold: bool = False) -> tuple[bool, str]:
    """Does fontconfig give `family` itself (a bold face when asked)? And what it gives."""
    found = fc_match(family, bold)
    if found is None:
        return False, "fc-match not found"
    names, weight, file = found
    same = family.lower() in (n.lower() for n in names)
    ok = same and (not bold or weight >= FC_WEIGHT_BOLD)
    return ok, f"{names[0]} ({Path(file).name})"


def subsetting() -> tuple[bool, str]:
    """WeasyPrint's own test (weasyprint.pdf.fonts.Font.subset): HarfBuzz-subset loaded and >= 4.1."""
    from weasyprint.pdf import fonts as wp_fonts

    if wp_fonts.harfbuzz_subset is None:
        return False, "fontTools (slow: libharfbuzz-subset.so.0 not loadable)"
    if not wp_fonts.harfbuzz.hb_version_atleast(4, 1, 0):
        return False, "fontTools (slow: HarfBuzz < 4.1)"
    return True, f"HarfBuzz {_harfbuzz_version()}"


def _harfbuzz_version() -> str:
    try:
        hb = ctypes.CDLL("libharfbuzz.so.0")
        hb.hb_version_string.restype = ctypes.c_char_p
        return hb.hb_version_string().decode()
    except (OSError, AttributeError):
        return "(version unknown)"


def fallbacks(base_css: Path) -> list[str]:
    """The slow or wrong fallbacks a build would take here, one short phrase each (none: [])."""
    found = [] if subsetting()[0] else [SLOW_SUBSET]
    for lang, families in page_stacks(base_css).items():
        wrong = [got for ok, got in (resolves(families[0], bold) for bold in (False, True)) if not ok]
        if wrong:
            found.append(f"{lang} text set in {wrong[0]}, not {families[0]}")
    return found
