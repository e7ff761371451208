"""House style for talentbrief: how numbers are written and how charts look, in English and Chinese.

Numbers (pure functions, no pandas):

* ``format_number`` writes a value with every digit it has. English uses "million"/"billion" when
  the value is a whole number of thousands (12643000 -> "12.643 million") and commas otherwise
  (10,149; 12,643,001). Chinese uses 亿 / 万 when the scaled value needs at most two decimals
  (12643000 -> "1264.3万", 15000 -> "1.5万") and plain digits otherwise (10149): precise counts
  are written out in full, as Chinese statistical bulletins do.
* Rounding never hides a qualifier: whenever a number is rounded for display and the rounding
  changed it, an exact figure becomes "about"/"约". Bounds are rounded in the direction that keeps
  them true (a lower bound down, an upper bound up), so they keep their own wording.
* ``format_figure`` adds the qualifier and the unit. Chinese lower bounds put 余 after a 万/亿
  number ("252万余人", the usual bulletin style) and use the prefix 超过 before plain digits
  ("超过14人"), because "14余人" is not idiomatic.

Charts: ``use_style`` / ``style_rc`` hold the palette and type scale; ``bar_chart`` returns a
``Chart`` (PNG bytes, alt text, figure ids, source note) whose ``to_html`` is what reports embed.
"""

from __future__ import annotations

import numbers
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

LANGS = ("en", "zh")
QUALIFIERS = ("exact", "approx", "lower_bound", "upper_bound")
STATUSES = ("achieved", "planned")

# unit -> (English singular, English plural, Chinese measure word + noun)
UNITS: dict[str, tuple[str, str, str]] = {
    "persons": ("person", "people", "人"),
    "person_times": ("person-time", "person-times", "人次"),
    "courses": ("course", "courses", "门课程"),
    "occupations": ("occupation", "occupations", "个职业"),
    "organisations": ("organisation", "organisations", "家机构"),
    "areas": ("area", "areas", "个领域"),
    "fields": ("field", "fields", "个领域"),
    "projects": ("project", "projects", "个项目"),
    "seminars": ("seminar", "seminars", "期研修班"),
    "branches": ("branch", "branches", "个分支机构"),
    "journals": ("journal", "journals", "种期刊"),
    "members": ("member", "members", "名会员"),
    "bases": ("base", "bases", "个基地"),
}

# Words written before a number in running text.
_PHRASES = {
    "en": {"exact": "", "approx": "about", "lower_bound": "more than", "upper_bound": "up to"},
    "zh": {"exact": "", "approx": "约", "lower_bound": "超过", "upper_bound": "不超过"},
}
# Names of the qualifiers themselves, for table columns and legends.
_QUALIFIER_LABELS = {
    "en": {"exact": "exact", "approx": "approximate", "lower_bound": "lower bound",
           "upper_bound": "upper bound"},
    "zh": {"exact": "确数", "approx": "约数", "lower_bound": "下限", "upper_bound": "上限"},
}
# Compact marks for chart labels, where there is no room for words.
_MARKS = {"exact": "", "approx": "≈", "lower_bound": "≥", "upper_bound": "≤"}
_STATUS_LABELS = {
    "en": {"achieved": "achieved", "planned": "planned"},
    "zh": {"achieved": "已完成", "planned": "计划"},
}
_PER_YEAR = {"en": "a year", "zh": "每年"}

# (threshold, word, decimals allowed in the scaled value), largest first
_EN_SCALES = ((10**9, " billion", 3), (10**6, " million", 3))
_ZH_SCALES = ((10**8, "亿", 2), (10**4, "万", 2))


# ---------------------------------------------------------------- validation


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


def _check_qualifier(qualifier: str) -> str:
    if qualifier not in QUALIFIERS:
        raise ValueError(f"unknown qualifier {qualifier!r}: expected one of {', '.join(QUALIFIERS)}")
    return qualifier


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: expected one of {', '.join(UNITS)}")
    return unit


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


# ---------------------------------------------------------------- numbers


def _plain(d: Decimal) -> str:
    """Fixed-point digits without exponent or trailing zeros."""
    text = format(d.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _decimals(d: Decimal) -> int:
    exponent = d.normalize().as_tuple().exponent
    return max(0, -exponent)


def _digits(d: Decimal, lang: str) -> str:
    """Write a non-negative decimal in the house style of ``lang``."""
    scales = _EN_SCALES if lang == "en" else _ZH_SCALES
    group = _grouped if lang == "en" else _plain
    for threshold, word, allowed in scales:
        if d >= threshold and _decimals(d / threshold) <= allowed:
            return group(d / threshold) + word
    return group(d)


def _grouped(d: Decimal) -> str:
    """English digits: thousands separated by commas."""
    whole, _, frac = _plain(d).partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "")


def _round_significant(d: Decimal, digits: int, qualifier: str) -> Decimal:
    """Round to ``digits`` significant digits, in the direction that keeps a bound true."""
    if digits < 1:
        raise ValueError("digits must be at least 1")
    if d == 0:
        return d
    rounding = {"lower_bound": ROUND_FLOOR, "upper_bound": ROUND_CEILING}.get(qualifier, ROUND_HALF_UP)
    quantum = Decimal(1).scaleb(d.adjusted() - digits + 1)
    return d.quantize(quantum, rounding=rounding)


def _number(value, lang: str, digits: int | None, qualifier: str) -> tuple[str, str, Decimal]:
    """(text, qualifier after rounding, value shown): an exact value that rounding changed becomes approx."""
    d = _decimal(value)
    shown = d if digits is None else _round_significant(d, digits, qualifier)
    if shown != d and qualifier == "exact":
        qualifier = "approx"
    sign = "-" if shown < 0 else ""
    return sign + _digits(abs(shown), lang), qualifier, shown


def format_number(value, lang: str, *, digits: int | None = None) -> str:
    """A number in house style; with ``digits`` (significant) it is rounded and marked "about" if changed."""
    _check_lang(lang)
    text, qualifier, _ = _number(value, lang, digits, "exact")
    return _join(lang, qualifier, text, unit_text="", per_year=False, scaled=_is_scaled(text))


def _is_scaled(text: str) -> bool:
    return text.endswith(("万", "亿"))


def _join(lang: str, qualifier: str, number: str, *, unit_text: str, per_year: bool, scaled: bool) -> str:
    """Put qualifier, number, unit and "a year" together in the word order of ``lang``."""
    if lang == "en":
        phrase = _PHRASES["en"][qualifier]
        words = [phrase, number + (f" {unit_text}" if unit_text else ""), _PER_YEAR["en"] if per_year else ""]
        return " ".join(w for w in words if w)
    if qualifier == "lower_bound" and scaled:
        core = f"{number}余{unit_text}"
    else:
        core = f"{_PHRASES['zh'][qualifier]}{number}{unit_text}"
    return (_PER_YEAR["zh"] if per_year else "") + core


# ---------------------------------------------------------------- labels


def unit_label(unit: str, lang: str, n=2) -> str:
    """The unit's word for a count of ``n`` (English singular only for exactly one)."""
    _check_lang(lang)
    singular, plural, zh = UNITS[_check_unit(unit)]
    if lang == "zh":
        return zh
    return singular if n == 1 else plural


def qualifier_phrase(qualifier: str, lang: str) -> str:
    """Words placed before a number: "more than", "about", "up to", "" / 超过, 约, 不超过, ""."""
    return _PHRASES[_check_lang(lang)][_check_qualifier(qualifier)]


def qualifier_label(qualifier: str, lang: str) -> str:
    """Name of the qualifier (for tables and legends): "lower bound" / 下限."""
    return _QUALIFIER_LABELS[_check_lang(lang)][_check_qualifier(qualifier)]


def qualifier_mark(qualifier: str) -> str:
    """Compact sign for chart labels: ≥, ≈, ≤ or nothing."""
    return _MARKS[_check_qualifier(qualifier)]


def status_label(status: str, lang: str) -> str:
    """achieved / planned in the reader's language."""
    labels = _STATUS_LABELS[_check_lang(lang)]
    if status not in labels:
        raise ValueError(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    return labels[status]


# ---------------------------------------------------------------- figures


def format_figure(value, unit: str, qualifier: str, lang: str, *, per_year: bool = False,
                  digits: int | None = None) -> str:
    """A sourced figure as a phrase: "more than 2.52 million people", "252万余人", "每年约8万人"."""
    _check_lang(lang)
    _check_unit(unit)
    _check_qualifier(qualifier)
    text, qualifier, shown = _number(value, lang, digits, qualifier)
    return _join(lang, qualifier, text, unit_text=unit_label(unit, lang, shown),
                 per_year=per_year, scaled=_is_scaled(text))


def format_derived(value, lang: str, *, unit: str | None = None, qualifier: str = "approx",
                   digits: int = 3, per_year: bool = False) -> str:
    """A computed number, rounded to ``digits`` significant digits; exact results that round become approx."""
    _check_lang(lang)
    _check_qualifier(qualifier)
    if unit is not None:
        return format_figure(value, unit, qualifier, lang, per_year=per_year, digits=digits)
    text, qualifier, _ = _number(value, lang, digits, qualifier)
    return _join(lang, qualifier, text, unit_text="", per_year=per_year, scaled=_is_scaled(text))


def format_percent(ratio, lang: str, digits: int = 0, *, qualifier: str = "exact") -> str:
    """A ratio as a percentage with ``digits`` decimals; marked about/约 when rounding changed it."""
    _check_lang(lang)
    _check_qualifier(qualifier)
    pct = _decimal(ratio) * 100
    rounding = {"lower_bound": ROUND_FLOOR, "upper_bound": ROUND_CEILING}.get(qualifier, ROUND_HALF_UP)
    shown = pct.quantize(Decimal(1).scaleb(-digits), rounding=rounding)
    if shown != pct and qualifier == "exact":
        qualifier = "approx"
    return _join(lang, qualifier, _plain(shown) + "%", unit_text="", per_year=False, scaled=False)
