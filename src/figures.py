"""House style: numbers in English and Chinese that keep their qualifiers, and charts.

Every digit is written: "12.643 million" (whole thousands), else commas; 万/亿 only when the scaled value
needs at most two decimals, else plain digits, as Chinese bulletins write precise counts. An exact value
that rounding changed becomes "about"/"约"; bounds round the way that keeps them true. Chinese lower
bounds write "252万余人" but "超过14人" ("14余人" is not idiomatic). Charts: one panel per unit and
period basis; a panel spanning 100× is a log axis of dots (a bar's length from a log baseline would
misstate the value); any Figure a notebook displays becomes a PNG with alt text, as reports embed it.
"""

from __future__ import annotations

import functools
import io
import math
import numbers
import re
import struct
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

LANGS = ("en", "zh")
QUALIFIERS = ("exact", "approx", "lower_bound", "upper_bound")
STATUSES = ("achieved", "planned", "context")

# unit -> (English singular, English plural, Chinese measure word). A Chinese figure takes the measure
# word only (200家, 14个, 10种): its label names what is counted ("国家级继续教育基地：200家"), and
# "200家机构" after such a label says the noun twice. People and attendances keep 人 / 人次.
UNITS: dict[str, tuple[str, str, str]] = {
    "persons": ("person", "people", "人"),
    "person_times": ("person-time", "person-times", "人次"),
    "applications": ("application", "applications", "人次"),
    "courses": ("course", "courses", "门"),
    "course_resources": ("curriculum resource", "curriculum resources", "个"),
    "occupations": ("occupation", "occupations", "个"),
    "organisations": ("organisation", "organisations", "家"),
    "areas": ("area", "areas", "个"),
    "fields": ("field", "fields", "个"),
    "projects": ("project", "projects", "个"),
    "seminars": ("seminar", "seminars", "期"),
    "branches": ("branch", "branches", "个"),
    "journals": ("journal", "journals", "种"),
    "members": ("member", "members", "名"),
    "bases": ("base", "bases", "个"),
}

# Words written before a number in running text.
_PHRASES = {
    "en": {"exact": "", "approx": "about", "lower_bound": "more than", "upper_bound": "up to"},
    "zh": {"exact": "", "approx": "约", "lower_bound": "超过", "upper_bound": "不超过"},
}
# Names of the qualifiers themselves, for table columns and legends.
_QUALIFIER_LABELS = {
    "en": {"exact": "exact", "approx": "approximate",
           "lower_bound": "lower bound", "upper_bound": "upper bound"},
    "zh": {"exact": "确数", "approx": "约数", "lower_bound": "下限", "upper_bound": "上限"},
}
# Compact marks for chart labels, where there is no room for words.
_MARKS = {"exact": "", "approx": "≈", "lower_bound": "≥", "upper_bound": "≤"}
# 已实现 (reported as reached), not 已完成 (a task finished): most achieved figures are plain counts.
_STATUS_LABELS = {
    "en": {"achieved": "achieved", "planned": "planned", "context": "context"},
    "zh": {"achieved": "已实现", "planned": "计划", "context": "背景信息"},
}
PER_YEAR = {"en": "a year", "zh": "每年"}  # the one definition: figures say it, and periods (talentbrief.text)

# (threshold, word, decimals allowed in the scaled value), largest first
_EN_SCALES = ((10**9, " billion", 3), (10**6, " million", 3))
_ZH_SCALES = ((10**8, "亿", 2), (10**4, "万", 2))


_ALLOWED = {"language": LANGS, "qualifier": QUALIFIERS, "unit": UNITS, "status": STATUSES}


def _check(what: str, value: str) -> str:
    """The value, or a ValueError naming the values allowed."""
    if value not in _ALLOWED[what]:
        raise ValueError(f"unknown {what} {value!r}: expected one of {', '.join(_ALLOWED[what])}")
    return value


def _decimal(value) -> Decimal:
    """Exact decimal of a number as written (str of a float is its shortest round-trip form)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        raise TypeError(f"expected a real number, got {value!r}")
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    d = value if isinstance(value, Decimal) else Decimal(str(float(value)))
    if not d.is_finite():
        raise ValueError(f"cannot format {value!r}")
    return d


def _plain(d: Decimal, spec: str = "f") -> str:
    """Fixed-point digits without exponent or trailing zeros (``spec`` ",f": thousands between commas)."""
    text = format(d.normalize(), spec)
    return "0" if text == "-0" else text


def _decimals(d: Decimal) -> int:
    return max(0, -d.normalize().as_tuple().exponent)


def _digits(d: Decimal, lang: str) -> str:
    """Write a non-negative decimal in the house style of ``lang``."""
    spec = ",f" if lang == "en" else "f"
    for threshold, word, allowed in _EN_SCALES if lang == "en" else _ZH_SCALES:
        if d >= threshold and _decimals(d / threshold) <= allowed:
            return _plain(d / threshold, spec) + word
    return _plain(d, spec)


def _rounded(d: Decimal, exponent: int, qualifier: str) -> tuple[Decimal, str]:
    """(d rounded to 10**exponent, a bound the way that keeps it true; approx if that changed an exact d)."""
    rounding = {"lower_bound": ROUND_FLOOR, "upper_bound": ROUND_CEILING}.get(qualifier, ROUND_HALF_UP)
    shown = d.quantize(Decimal(1).scaleb(exponent), rounding=rounding)
    return shown, "approx" if shown != d and qualifier == "exact" else qualifier


def _number(value, lang: str, digits: int | None, qualifier: str) -> tuple[str, str, Decimal]:
    """(text, qualifier after rounding to ``digits`` significant digits, value shown)."""
    d = _decimal(value)
    if digits is not None and digits < 1:
        raise ValueError("digits must be at least 1")
    if digits is not None and d != 0:
        d, qualifier = _rounded(d, d.adjusted() - digits + 1, qualifier)
    return ("-" if d < 0 else "") + _digits(abs(d), lang), qualifier, d


def format_number(value, lang: str, *, digits: int | None = None) -> str:
    """A number in house style; with ``digits`` (significant) it is rounded and marked "about" if changed."""
    text, qualifier, _ = _number(value, _check("language", lang), digits, "exact")
    return _join(lang, qualifier, text)


def _join(lang: str, qualifier: str, number: str, unit_text: str = "", per_year: bool = False) -> str:
    """Put qualifier, number, unit and "a year" together in the word order of ``lang``."""
    if lang == "en":
        words = [_PHRASES["en"][qualifier], number + (f" {unit_text}" if unit_text else ""),
                 PER_YEAR["en"] if per_year else ""]
        return " ".join(w for w in words if w)
    if qualifier == "lower_bound" and number.endswith(("万", "亿")):
        core = f"{number}余{unit_text}"
    else:
        core = f"{_PHRASES['zh'][qualifier]}{number}{unit_text}"
    return (PER_YEAR["zh"] if per_year else "") + core


def unit_label(unit: str, lang: str, n=2) -> str:
    """The unit's word for a count of ``n`` (English singular only for exactly one)."""
    _check("language", lang)
    singular, plural, zh = UNITS[_check("unit", unit)]
    return zh if lang == "zh" else singular if n == 1 else plural


def qualifier_phrase(qualifier: str, lang: str) -> str:
    """Words placed before a number: "more than", "about", "up to", "" / 超过, 约, 不超过, ""."""
    return _PHRASES[_check("language", lang)][_check("qualifier", qualifier)]


def qualifier_label(qualifier: str, lang: str) -> str:
    """Name of the qualifier (for tables and legends): "lower bound" / 下限."""
    return _QUALIFIER_LABELS[_check("language", lang)][_check("qualifier", qualifier)]


def qualifier_mark(qualifier: str) -> str:
    """Compact sign for chart labels: ≥, ≈, ≤ or nothing."""
    return _MARKS[_check("qualifier", qualifier)]


def status_label(status: str, lang: str) -> str:
    """achieved / planned in the reader's language."""
    return _STATUS_LABELS[_check("language", lang)][_check("status", status)]


def format_figure(
    value, unit: str, qualifier: str, lang: str, *, per_year: bool = False, digits: int | None = None
) -> str:
    """A sourced figure as a phrase: "more than 2.52 million people", "252万余人", "每年约8万人"."""
    _check("language", lang)
    _check("unit", unit)
    text, qualifier, shown = _number(value, lang, digits, _check("qualifier", qualifier))
    return _join(lang, qualifier, text, unit_label(unit, lang, shown), per_year)


def format_derived(value, lang: str, *, unit: str | None = None, qualifier: str = "approx", digits: int = 3,
                   per_year: bool = False) -> str:
    """A computed number, rounded to ``digits`` significant digits; exact results that round become approx."""
    _check("language", lang)
    if unit is not None:
        return format_figure(value, unit, _check("qualifier", qualifier), lang, per_year=per_year,
                             digits=digits)
    text, qualifier, _ = _number(value, lang, digits, _check("qualifier", qualifier))
    return _join(lang, qualifier, text, per_year=per_year)


def format_percent(ratio, lang: str, digits: int = 0, *, qualifier: str = "exact") -> str:
    """A ratio as a percentage with ``digits`` decimals; marked about/约 when rounding changed it."""
    _check("language", lang)
    shown, qualifier = _rounded(_decimal(ratio) * 100, -digits, _check("qualifier", qualifier))
    return _join(lang, qualifier, _plain(shown) + "%")


# ================================================================ charts

# Charts are drawn on a bare ``Figure`` with an Agg canvas (no pyplot state) inside ``style_rc``, so the
# same rows always give the same PNG bytes whatever the notebook did to the global rcParams.

DPI = 200  # fixed: PNG size and bytes must not depend on the machine
CSS_DPI = 96  # <img width/height> are CSS pixels
FIG_WIDTH = 7.0  # inches; fits an A4 text column
_CJK_CANDIDATES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                   "Noto Sans CJK JP", "Noto Sans CJK TC", "WenQuanYi Zen Hei")
# The page's faces (base.css --tb-font-en / --tb-font-zh): English charts in the Latin face, Chinese
# charts in the CJK face, each falling back to the other for the odd glyph, as the page does.
_LATIN_FONT = "Noto Sans"  # Debian: fonts-noto-core; `talentbrief doctor` checks matplotlib finds it
_SYMBOL_FONT = "DejaVu Sans"  # ≥ ≈ ≤, which Noto Sans lacks (bundled with matplotlib)
TYPE_SCALE = {"title": 13, "label": 10, "tick": 9, "value": 9, "legend": 9, "note": 8}
INK, MUTED, GRID = "#222222", "#555555", "#dddddd"
_HATCHES = {"exact": "", "approx": "....", "lower_bound": "////", "upper_bound": "\\\\\\\\"}
_LOG_NOTE = {"en": "log scale", "zh": "对数刻度"}
_MIXED_UNITS_NOTE = {"en": "Each panel has its own unit, period basis and scale.",
                     "zh": "各分图的单位、统计口径和刻度各不相同。"}
# How a panel's values relate to time, after the unit in its heading ("people a year", "人（每年）").
_BASIS_LABELS = {
    "en": {"cumulative": "{unit}, cumulative", "per_year": "{unit} a year", "point": "{unit}, at a date"},
    "zh": {"cumulative": "{unit}（累计）", "per_year": "{unit}（每年）", "point": "{unit}（时点）"},
}
# What a Chinese panel heading counts: a noun, not the measure word a number takes (人数, not 人).
_ZH_COUNT_NOUNS = {
    "persons": "人数", "person_times": "人次", "applications": "报考人次", "courses": "课程数",
    "course_resources": "课程资源数", "occupations": "职业数",
    "organisations": "机构数", "areas": "领域数", "fields": "领域数", "projects": "项目数", "seminars": "期数",
    "branches": "分支机构数", "journals": "期刊数", "members": "会员数", "bases": "基地数",
}
_MARKERS = {"exact": "o", "approx": "D", "lower_bound": ">", "upper_bound": "<"}


def palette() -> dict[str, str]:
    """The house colours: status colours from seaborn's colour-blind palette, plus ink and grid."""
    import seaborn as sns

    blue, orange = sns.color_palette("colorblind").as_hex()[:2]
    return {"achieved": blue, "planned": orange, "context": "#8c8c8c", "ink": INK, "muted": MUTED, "grid": GRID}


@dataclass(frozen=True)
class FontInfo:
    """A font matplotlib will use: its family name and the file it resolves to."""

    name: str
    path: str


@functools.cache
def cjk_font() -> FontInfo:
    """The first installed CJK sans font that really has Chinese glyphs; a clear error when there is none."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in (n for n in _CJK_CANDIDATES if n in installed):
        path = str(font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False))
        try:
            font = FT2Font(path)
        except (OSError, RuntimeError):
            continue
        if all(font.get_char_index(ord(ch)) for ch in "中国人才"):
            return FontInfo(name, path)
    raise RuntimeError(
        "no CJK font found for Chinese charts (looked for " + ", ".join(_CJK_CANDIDATES) + "); "
        "install one with `apt-get install fonts-noto-cjk`, then delete matplotlib's font cache "
        "(matplotlib.get_cachedir()) so it is picked up"
    )


def style_rc(lang: str) -> dict:
    """rcParams of the house style for ``lang``: seaborn's white style, one type scale, fixed output."""
    import seaborn as sns

    _check("language", lang)
    latin = [_LATIN_FONT, _SYMBOL_FONT, _CJK_CANDIDATES[0]]
    families = latin if lang == "en" else [cjk_font().name, _LATIN_FONT]
    return {
        **sns.axes_style("white"),
        "font.family": families,  # a list: matplotlib falls back glyph by glyph, as the page does
        "font.sans-serif": families,
        "font.size": TYPE_SCALE["label"],
        "axes.titlesize": TYPE_SCALE["label"],
        "axes.labelsize": TYPE_SCALE["label"],
        "axes.edgecolor": MUTED,
        "axes.labelcolor": INK,
        "axes.unicode_minus": lang != "zh",
        "xtick.labelsize": TYPE_SCALE["tick"],
        "ytick.labelsize": TYPE_SCALE["label"],
        "xtick.color": MUTED,
        "ytick.color": INK,
        "text.color": INK,
        "legend.fontsize": TYPE_SCALE["legend"],
        "legend.frameon": False,
        "hatch.linewidth": 0.8,
        "figure.dpi": 100,
        "savefig.dpi": DPI,
        "svg.hashsalt": "talentbrief",
        "text.parse_math": False,  # labels come from data: "$5 and $6" is money, not mathtext
        "text.hinting": "no_hinting",  # at 200 dpi hinting shows little and costs a third of text layout
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
    }


def use_style(lang: str) -> None:
    """The house style globally, for an analyst's own charts, shown as reports embed them (setup_inline)."""
    import matplotlib

    matplotlib.rcParams.update(style_rc(lang))
    _lang_in_use[0] = lang
    setup_inline()


# -- charts in notebooks: a displayed Figure is one PNG with alt text, figure ids and a caption in its
# display metadata, which the page template turns into <figure><img alt><figcaption> (lab and build alike).

_ALT, _IDS, _CAPTION, _STYLE = ("_talentbrief_alt", "_talentbrief_figure_ids", "_talentbrief_caption",
                                "_talentbrief_style")
_CHART_WORD = {"en": "Chart", "zh": "图表"}
_lang_in_use = ["en"]


def describe(fig, *, alt: str | None = None, figure_ids=(), caption: str | None = None):
    """Attach alt text, the figure ids it plots and a caption to a Figure (returned, for chaining)."""
    for attr, value in ((_ALT, alt), (_CAPTION, caption)):
        if value is not None:
            setattr(fig, attr, str(value))
    if ids := tuple(dict.fromkeys(str(i) for i in figure_ids)):  # any iterable: list, pandas Series, ...
        setattr(fig, _IDS, ids)
    return fig


def alt_text(fig) -> str:
    """The alt text given to ``describe``, else one written from the figure's titles, labels and legend."""
    given = getattr(fig, _ALT, None)
    if given:
        return given
    lang = _lang_in_use[0]
    words = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) is not None else []
    for ax in fig.axes:
        words += [ax.get_title(), ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        words += [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() is not None else []
    parts = dict.fromkeys(w.strip() for w in words if w and w.strip())
    colon, sep = ("：", "；") if lang == "zh" else (": ", "; ")
    return _CHART_WORD[lang] + (colon + sep.join(parts) if parts else "")


def figure_png(fig) -> tuple[bytes, dict]:
    """PNG bytes at ``DPI`` (no timestamp, so reproducible) and the display metadata reports read."""
    from matplotlib import rc_context

    lang = getattr(fig, _STYLE, None)  # house charts are drawn in their own style, whatever rcParams say now
    if lang:  # laid out to fit by bar_figure, on a white figure; flat colours: written with a palette
        with rc_context(style_rc(lang)):
            fig.set_dpi(DPI)
            fig.canvas.draw()
        png = _palette_png(fig.canvas.buffer_rgba())
    else:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight",
                    facecolor="white")
        png = buf.getvalue()
    width, height = struct.unpack(">II", png[16:24])
    meta = {"width": round(width * CSS_DPI / DPI), "height": round(height * CSS_DPI / DPI), "alt": alt_text(fig)}
    if getattr(fig, _IDS, None):
        meta["figure_ids"] = list(getattr(fig, _IDS))
    if getattr(fig, _CAPTION, None):
        meta["caption"] = getattr(fig, _CAPTION)
    return png, meta


def _palette_png(rgba) -> bytes:
    """A house chart in a 256-colour palette: its few flat colours and their anti-aliased edges (about
    400 colours in all) look the same, in a quarter of the bytes, written faster than full colour."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(rgba)  # a view of the canvas, no copy
    image = Image.frombuffer("RGBA", (pixels.shape[1], pixels.shape[0]), pixels, "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="png")
    return out.getvalue()


def setup_inline(shell=None) -> None:
    """Notebook Figures display as ``figure_png`` (lab, builds); safe to repeat, a no-op outside IPython."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    import matplotlib.pyplot  # noqa: F401
    from matplotlib.figure import Figure
    from matplotlib_inline import backend_inline

    # Importing the inline backend runs its IPython integration now (which registers its own Figure
    # formatters); marking it configured keeps a later first plt.figure() from replacing ours.
    backend_inline.configure_inline_support.current_backend = "inline"

    formatters = shell.display_formatter.formatters
    for mime in ("image/png", "image/jpeg", "image/svg+xml", "application/pdf", "text/html"):
        if mime in formatters:
            formatters[mime].pop(Figure, None)
    formatters["image/png"].for_type(Figure, figure_png)


@dataclass(frozen=True)
class _Bar:
    figure_id: str
    label: str
    value: float
    unit: str
    qualifier: str
    status: str
    per_year: bool
    basis: str  # cumulative | per_year | point, or "" when the rows do not say


def _bars(rows, lang: str, label_key: str | None) -> list[_Bar]:
    """Rows of a figures DataFrame as checked bars, in the given order."""
    label_key = label_key or f"label_{lang}"
    missing = {"figure_id", label_key, "value", "unit", "qualifier", "status"} - set(rows.columns)
    if missing:
        raise ValueError(f"bar_figure: rows lack column(s) {', '.join(sorted(missing))}")
    if len(rows) == 0:
        raise ValueError("bar_figure: no rows to plot")
    bars = []
    for rec in rows.to_dict("records"):
        value = rec["value"]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"bar_figure: figure {rec['figure_id']} has no value")
        # a yearly rate: an explicit per_year column, else the data's period_basis (also the panel's basis)
        basis = rec.get("period_basis")
        per_year = bool(rec["per_year"]) if "per_year" in rec else str(basis) == "per_year"
        basis = basis if isinstance(basis, str) and basis else "per_year" if per_year else ""
        bars.append(_Bar(str(rec["figure_id"]), str(rec[label_key]), value, _check("unit", str(rec["unit"])),
                         _check("qualifier", str(rec["qualifier"])), _check("status", str(rec["status"])),
                         per_year, basis))
    return bars


def panel_title(bar: _Bar, lang: str) -> str:
    """A panel's heading: its unit, and its period basis when the rows give it ("people a year")."""
    unit = _ZH_COUNT_NOUNS[bar.unit] if lang == "zh" else unit_label(bar.unit, lang)
    return _BASIS_LABELS[lang][bar.basis].format(unit=unit) if bar.basis in _BASIS_LABELS[lang] else unit


_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
# Chinese has no spaces, and a break between any two characters splits words (继续教育活|动, 光明日|报):
# without a dictionary a line breaks only after these marks, before these opening ones, or at a space.
BREAK_AFTER = "、，；：。！？）》」』,;:)"
BREAK_BEFORE = "（《「『("


# unbreakable pieces (ending after a closing mark, starting before an opening one), and spaces
_TOKEN = re.compile(f"[{re.escape(BREAK_BEFORE)}]?[^\\s{re.escape(BREAK_AFTER + BREAK_BEFORE)}]*"
                    f"[{re.escape(BREAK_AFTER)}]*|\\s+")
_WIDE = re.compile(f"[{_CJK}]")


def wrap(text: str, columns: int) -> str:
    """Greedy wrap by display width (a Chinese character is two columns) at spaces and Chinese punctuation,
    never inside a word, as the house charts wrap their labels (and notebooks their own charts')."""
    lines, line, used = [], "", 0
    for token in filter(None, _TOKEN.findall(text)):
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        width = len(token) + len(_WIDE.findall(token))
        if line.strip() and used + width > columns:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + token, used + width
    lines.append(line.rstrip())
    return "\n".join(lines)


def _alt_text(title: str, panels: list[list[_Bar]], lang: str, log: bool) -> str:
    """The title, then every bar with its phrase and status (headed by its panel when there are several)."""
    zh = lang == "zh"
    colon, sep, stop, paren = ("：", "；", "。", "（{}）") if zh else (": ", "; ", ". ", " ({})")
    parts = []
    for panel in panels:
        phrases = [format_figure(b.value, b.unit, b.qualifier, lang, per_year=b.per_year) for b in panel]
        body = sep.join(b.label + colon + phrase + paren.format(status_label(b.status, lang))
                        for b, phrase in zip(panel, phrases))
        if len(panels) > 1:
            heading = panel_title(panel[0], lang)
            body = (heading if zh else heading[:1].upper() + heading[1:]) + colon + body
        parts.append(body)
    scale = ("（对数刻度）" if zh else " (Log scale.)") if log else ""
    return title + stop + stop.join(parts) + stop.strip() + scale


def _draw_panel(ax, bars: list[_Bar], lang: str, log: bool, colours: dict[str, str]) -> None:
    """One panel: colour = status, value label at the end. Linear: bars from zero, hatch = qualifier.
    Log: dots (marker = qualifier), since a bar's length from a log baseline would mean nothing."""
    from matplotlib.colors import to_rgba
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

    ys = list(range(len(bars)))
    for y, bar in zip(ys, bars):
        colour = colours[bar.status]
        solid = bar.status == "achieved"
        if log:
            ax.plot(float(bar.value), y, marker=_MARKERS[bar.qualifier], markersize=8, linestyle="none",
                    markerfacecolor=colour if solid else "white", markeredgecolor=colour,
                    markeredgewidth=1.5, zorder=3)
        else:
            ax.barh(y, float(bar.value), height=0.62, color=colour if solid else to_rgba(colour, 0.18),
                    edgecolor=colour, linewidth=1.2, hatch=_HATCHES[bar.qualifier],
                    hatchcolor="white" if solid else colour, zorder=2)
        mark = qualifier_mark(bar.qualifier)
        label = mark + (" " if mark and lang == "en" else "") + format_number(bar.value, lang)
        ax.annotate(label, (float(bar.value), y), xytext=(8 if log else 4, 0),
                    textcoords="offset points", va="center", ha="left", fontsize=TYPE_SCALE["value"],
                    color=INK)
    ax.set_yticks(ys, [wrap(b.label, 32) for b in bars])
    extra = _extra(bars)
    ax.set_ylim(len(bars) - 0.5 + extra, -0.5 - extra)
    top = max(float(b.value) for b in bars)
    if log:
        ax.set_xscale("log")
        low = 10 ** math.floor(math.log10(min(float(b.value) for b in bars)))
        ax.set_xlim(low, top * 10 ** (0.3 * math.log10(top / low) + 0.3))
        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.grid(axis="y", color=GRID, linewidth=0.8, linestyle=":", zorder=0)  # a dot plot's guide lines
    else:
        ax.set_xlim(0, top * 1.3)
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(_tick(v), lang)))
    scale = f" ({_LOG_NOTE['en']})" if lang == "en" else f"（{_LOG_NOTE['zh']}）"
    # y given, and axis labels at fixed places: none of them moves to dodge tick labels, which
    # `_place` already keeps clear; matplotlib would otherwise measure every tick label on each draw
    ax.set_title(panel_title(bars[0], lang) + (scale if log else ""), loc="left", color=MUTED,
                 fontsize=TYPE_SCALE["label"], y=1.0)
    ax.xaxis.set_label_coords(0.5, 0)
    ax.yaxis.set_label_coords(0, 0.5)
    ax.grid(axis="x", color=GRID, linewidth=0.8, zorder=0)
    ax.tick_params(axis="y", length=0)
    ax.spines[["top", "right", "left"]].set_visible(False)


def _extra(bars: list[_Bar]) -> float:
    """Rows of room above and below the bars: a one-bar panel keeps slim bars."""
    return 0.2 * max(0, 3 - len(bars))


def _tick(v: float) -> float | int:
    """Tick positions are floats with binary noise: keep 10 significant digits, whole ones as integers."""
    v = float(f"{v:.10g}")
    return round(v) if abs(v - round(v)) < 1e-9 * max(1.0, abs(v)) else v


def _legend_handles(panels: list[list[_Bar]], logs: list[bool], lang: str, colours: dict[str, str]) -> list:
    """(handle, label) for the statuses and qualifiers that occur; a qualifier's hatch and/or marker."""
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    statuses = {b.status for panel in panels for b in panel}
    dotted = {b.qualifier for panel, log in zip(panels, logs) if log for b in panel}
    barred = {b.qualifier for panel, log in zip(panels, logs) if not log for b in panel}
    handles = [(Patch(facecolor=colours[s] if s == "achieved" else to_rgba(colours[s], 0.18),
                      edgecolor=colours[s]), status_label(s, lang)) for s in STATUSES if s in statuses]
    for qualifier in QUALIFIERS:
        label = f"{qualifier_mark(qualifier)} {qualifier_label(qualifier, lang)}".strip()
        parts = []
        if qualifier in barred and qualifier != "exact":
            parts.append(Patch(facecolor="white", edgecolor=MUTED, hatch=_HATCHES[qualifier]))
        if qualifier in dotted:
            parts.append(Line2D([], [], marker=_MARKERS[qualifier], linestyle="none", markersize=7,
                                markerfacecolor="white", markeredgecolor=MUTED))
        if parts:
            handles.append((parts[0] if len(parts) == 1 else tuple(parts), label))
    return handles


def bar_figure(rows, *, lang: str, title, source_note: str = "", label_key: str | None = None,
               log: bool | None = None, colours: dict[str, str] | None = None, order=None):
    """Figures as a Figure, one panel per unit and period basis (never compared on one axis); ``log=None``:
    dots on a log axis where a panel spans 100×. ``title`` may be ``{"en": ..., "zh": ...}``; ``order``
    lists figure ids in bar order. Laid out once from its measured text (``_place``), not by a layout
    engine that measures again on every draw; alt text, ids and ``source_note`` go to ``describe``."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.legend_handler import HandlerTuple

    title = title[lang] if isinstance(title, dict) else str(title)
    if order is not None:
        rank = {str(fid): n for n, fid in enumerate(order)}
        unknown = [str(f) for f in rows["figure_id"] if str(f) not in rank]
        if unknown:
            raise ValueError(f"bar_figure: order lacks figure id(s) {', '.join(unknown)}")
        rows = rows.iloc[sorted(range(len(rows)), key=lambda i: rank[str(rows["figure_id"].iloc[i])])]
    with rc_context(style_rc(lang)):
        bars = _bars(rows, lang, label_key)
        groups: dict[tuple[str, str], list[_Bar]] = {}  # by unit and period basis, never on one axis
        for bar in bars:
            groups.setdefault((bar.unit, bar.basis), []).append(bar)
        panels = list(groups.values())
        colours = {**palette(), **(colours or {})}
        # log when asked, or (auto) where a panel's values span two orders of magnitude or more
        spans = [[float(b.value) for b in panel] for panel in panels]
        logs = [log if log is not None else min(v) > 0 and max(v) / min(v) >= 100 for v in spans]
        # The source goes in the caption under the image (describe), once: the image holds only what
        # the panels need to be read, the note that each panel has its own unit and scale.
        note = "" if len(panels) == 1 else _MIXED_UNITS_NOTE[lang]
        fig = Figure(figsize=(FIG_WIDTH, 4), dpi=DPI, facecolor="white")  # the PNG's dpi (figure_png)
        FigureCanvasAgg(fig)
        axes = []
        for panel, panel_log in zip(panels, logs):
            axes.append(fig.add_axes((0, 0, 1, 1)))
            _draw_panel(axes[-1], panel, lang, panel_log, colours)
        footer = fig.add_axes((0, 0, 1, 1))
        footer.axis("off")
        entries = _legend_handles(panels, logs, lang, colours)
        legend = footer.legend(handles=[h for h, _ in entries], labels=[label for _, label in entries],
                               loc="center", ncols=len(entries), handlelength=1.6, borderaxespad=0,
                               handler_map={tuple: HandlerTuple(ndivide=None)})
        heading = fig.suptitle(wrap(title, 72), ha="left", va="top", fontsize=TYPE_SCALE["title"],
                               fontweight="bold")
        source = fig.supxlabel(wrap(note, 112), ha="left", va="bottom", fontsize=TYPE_SCALE["note"],
                               color=MUTED)
        _place(fig, axes, [len(p) + 2 * _extra(p) for p in panels], heading, footer, legend, source)
    setattr(fig, _STYLE, lang)
    return describe(fig, alt=_alt_text(title, panels, lang, any(logs)),
                    figure_ids=[b.figure_id for b in bars], caption=source_note or None)


def _xticklabels(ax) -> list:
    """The x tick labels drawn: those of ticks inside the axis' limits (the locator proposes more)."""
    lo, hi = sorted(ax.get_xlim())
    slack = 1e-9 * (hi - lo)
    return [t for loc, t in zip(ax.get_xticks(), ax.get_xticklabels()) if lo - slack <= loc <= hi + slack]


_EDGE, _GAP, _ROW = 8.0, 14.0, 24.0  # points: figure margin, space between stacked parts, least row height


def _panel_height(rows: float, label_heights: list[float]) -> float:
    """Points for `rows` rows (bars plus margin) whose labels, one row apart, never touch."""
    tallest = max(label_heights) + 4
    row = max(_ROW, tallest) if len(label_heights) > 1 else _ROW
    return max(rows * row, tallest)


def _place(fig, axes, rows, heading, footer, legend, source) -> None:
    """Stack heading, panels, legend and note; size the figure to fit: a row per (wrapped) label, one
    left edge right of the widest label, a right margin for any tick or value label that overhangs."""
    import matplotlib

    renderer = fig.canvas.get_renderer()
    to_pt = 72 / fig.dpi

    def extent(artist):
        box = artist.get_window_extent(renderer)
        return box.width * to_pt, box.height * to_pt

    width = fig.get_figwidth() * 72
    y_gap = matplotlib.rcParams["ytick.major.pad"] + matplotlib.rcParams["ytick.major.size"]
    x_gap = matplotlib.rcParams["xtick.major.pad"] + matplotlib.rcParams["xtick.major.size"]
    title_gap = matplotlib.rcParams["axes.titlepad"]
    labels = [[extent(t) for t in ax.get_yticklabels()] for ax in axes]
    left = _EDGE + max((w for panel in labels for w, _ in panel), default=0) + y_gap
    heights = [_panel_height(n, [h for _, h in panel]) for n, panel in zip(rows, labels)]
    tick_heights = [max((extent(t)[1] for t in _xticklabels(ax)), default=0) for ax in axes]
    title_heights = [extent(ax.title)[1] for ax in axes]

    top = _EDGE + extent(heading)[1] + _GAP  # y, in points down from the figure's top edge
    slots = []
    for panel_h, tick_h, title_h in zip(heights, tick_heights, title_heights):
        top += title_h + title_gap
        slots.append((top, panel_h))
        top += panel_h + x_gap + tick_h + _GAP
    ncols = len(legend.get_texts())
    while extent(legend)[0] > width - 2 * _EDGE and ncols > 1:  # too wide for one row: more rows
        ncols -= 1
        legend.set_ncols(ncols)
    legend_w, legend_h = extent(legend)  # at `top`, the note under it
    height = top + legend_h + _GAP + extent(source)[1] + _EDGE
    fig.set_size_inches(fig.get_figwidth(), height / 72)

    def frac_y(points_down):
        return 1 - points_down / height

    def place_axes(right):
        for ax, (slot_top, slot_h) in zip(axes, slots):
            ax.set_position((left / width, frac_y(slot_top + slot_h), (width - left - right) / width, slot_h / height))

    right = _EDGE
    for _ in range(2):  # a label that overhangs the right edge widens the margin; once more to settle
        place_axes(right)
        reach = max(
            (box.x1 * to_pt for ax in axes for t in [*_xticklabels(ax), *ax.texts]
             if t.get_text() and (box := t.get_window_extent(renderer))),
            default=0,
        )
        if reach <= width - _EDGE:
            break
        right += reach - (width - _EDGE)
    span = (left, width - right) if legend_w <= width - left - right else (_EDGE, width - _EDGE)  # under the panels if it fits
    footer.set_position((span[0] / width, frac_y(top + legend_h), (span[1] - span[0]) / width,
                         legend_h / height))
    heading.set_position((_EDGE / width, frac_y(_EDGE)))
    source.set_position((_EDGE / width, _EDGE / height))
