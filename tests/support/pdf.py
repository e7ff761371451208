"""PDF helpers: text through pypdf, fonts through poppler's pdffonts, pages through pdftoppm."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

# Look-alike blocks: Chromium's print-to-PDF maps 人 to ⼈ (U+2F08), 工 to ⼯ (U+2F2F), ...
RADICAL_BLOCKS = ((0x2E80, 0x2EFF, "CJK Radicals Supplement"), (0x2F00, 0x2FDF, "Kangxi Radicals"))


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing; install it with: apt-get install -y poppler-utils", pytrace=False)
    return path


def require_cjk_font() -> None:
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], check=False, capture_output=True, text=True
    ).stdout
    if "Noto" not in out:
        pytest.fail("no Noto CJK font; install it with: apt-get install -y fonts-noto-cjk", pytrace=False)


def pdf_text(path: Path) -> list[str]:
    """The text of each page, as pypdf extracts it (what copy-paste gives), no normalisation."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return [page.extract_text() or "" for page in reader.pages]


def pdf_metadata(path: Path) -> dict:
    from pypdf import PdfReader

    meta = PdfReader(str(path)).metadata or {}
    return {str(k): str(v) for k, v in meta.items()}


@dataclass(frozen=True)
class Font:
    name: str
    type: str
    encoding: str
    emb: bool
    sub: bool
    uni: bool


def pdffonts(path: Path) -> list[Font]:
    tool = require_tool("pdffonts")
    out = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    # header, then a dashes line whose runs give the column widths
    dash = next(i for i, line in enumerate(lines) if line.startswith("----"))
    spans, pos = [], 0
    for run in lines[dash].split(" "):
        spans.append((pos, pos + len(run)))
        pos += len(run) + 1
    fonts = []
    for line in lines[dash + 1 :]:
        if not line.strip():
            continue
        cols = [
            line[a:b].strip() if i < len(spans) - 1 else line[a:].strip() for i, (a, b) in enumerate(spans)
        ]
        # name, type, encoding, emb, sub, uni, object ID
        fonts.append(Font(cols[0], cols[1], cols[2], cols[3] == "yes", cols[4] == "yes", cols[5] == "yes"))
    return fonts


def radicals(text: str) -> list[str]:
    found = []
    for ch in set(text):
        for lo, hi, block in RADICAL_BLOCKS:
            if lo <= ord(ch) <= hi:
                found.append(f"{ch} U+{ord(ch):04X} ({block})")
    return sorted(found)


def render_page_png(pdf: Path, page: int, dest_prefix: Path, dpi: int = 60) -> Path:
    tool = require_tool("pdftoppm")
    subprocess.run(
        [
            tool,
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(dest_prefix),
        ],
        check=True,
        capture_output=True,
    )
    return dest_prefix.with_suffix(".png")


_CMAP_BLOCK = re.compile(r"begin(bfchar|bfrange)(.*?)end\1", re.DOTALL)
_HEX = re.compile(r"<([0-9a-fA-F]+)>")


def _utf16(hexstr: str) -> str:
    return bytes.fromhex(hexstr).decode("utf-16-be", errors="replace")


def chars_by_font(pdf: Path | bytes) -> dict[str, set[str]]:
    """{font name without subset prefix: the characters set in it}, from each font's ToUnicode map:
    which face each character of the page was actually set in (pdffonts only says which faces exist)."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(pdf) if isinstance(pdf, bytes) else str(pdf))
    found: dict[str, set[str]] = {}
    for page in reader.pages:
        for ref in page.get("/Resources", {}).get("/Font", {}).values():
            font = ref.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1]
            chars = found.setdefault(name, set())
            if "/ToUnicode" not in font:
                continue
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            for kind, body in _CMAP_BLOCK.findall(cmap):
                for line in body.splitlines():
                    codes = _HEX.findall(line)
                    if kind == "bfchar" and len(codes) == 2:
                        chars.add(_utf16(codes[1]))
                    elif kind == "bfrange" and len(codes) == 3:
                        first = ord(_utf16(codes[2])[0])
                        chars.update(chr(first + i) for i in range(int(codes[1], 16) - int(codes[0], 16) + 1))
    for chars in found.values():
        chars.discard("\ufffd")
    return found


def image_boxes(pdf: Path) -> list[tuple[int, tuple[float, float, float, float], tuple[float, float, float, float]]]:
    """(page number, page box, image box) for every image drawn in the PDF, boxes as (x0, y0, x1, y1)
    in PDF points. The image box is where the page's content stream (and any form XObject it draws)
    places the image: the unit square through the current transformation matrix at its `Do`."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    def times(m, n):
        a, b, c, d, e, f = m
        a2, b2, c2, d2, e2, f2 = n
        return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
                e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)

    found = []

    def walk(stream_owner, resources, ctm, page_no, page_box, reader, depth=0):
        xobjects = resources.get("/XObject", {}) if resources else {}
        xobjects = xobjects.get_object() if hasattr(xobjects, "get_object") else xobjects
        content = ContentStream(stream_owner, reader)
        stack = []
        for operands, operator in content.operations:
            if operator == b"q":
                stack.append(ctm)
            elif operator == b"Q":
                ctm = stack.pop() if stack else ctm
            elif operator == b"cm":
                ctm = times(tuple(float(x) for x in operands), ctm)
            elif operator == b"Do":
                xobject = xobjects[operands[0]].get_object()
                if xobject.get("/Subtype") == "/Image":
                    corners = [(ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5])
                               for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
                    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
                    found.append((page_no, page_box, (min(xs), min(ys), max(xs), max(ys))))
                elif xobject.get("/Subtype") == "/Form" and depth < 8:
                    matrix = tuple(float(x) for x in xobject.get("/Matrix", (1, 0, 0, 1, 0, 0)))
                    walk(xobject, xobject.get("/Resources"), times(matrix, ctm), page_no, page_box, reader, depth + 1)

    reader = PdfReader(str(pdf))
    for number, page in enumerate(reader.pages, start=1):
        box = tuple(float(v) for v in page.mediabox)
        contents = page.get_contents()
        if contents is not None:
            walk(contents, page.get("/Resources"), (1, 0, 0, 1, 0, 0), number, box, reader)
    return found
