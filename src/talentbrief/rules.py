"""Cross-field rules a Table Schema cannot express, on rows of raw CSV strings.

Each returns `(column, message)` pairs; a cell of the wrong type is left to the schema check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from figures import LANGS

NEEDS_START = ("cumulative", "per_year")
NEEDS_END = ("point",)

# Wording that qualifies a number, looked for next to it (BEFORE chars ahead, AFTER chars behind).
MARKERS = {
    "lower_bound": (
        r"\bmore than\b", r"\bover\b", r"\bexceed(?:s|ed|ing)?\b", r"\bat least\b", r"\bor more\b",
        r"\bupwards of\b", r"(?<!不)超过", r"[\d十百千万亿]余", r"以上", r"逾", r"[\d十百千万亿]多",
    ),
    "approx": (r"\babout\b", r"\baround\b", r"\bapproximately\b", r"\broughly\b", r"约", r"左右"),
    "upper_bound": (
        r"\bless than\b", r"\bfewer than\b", r"\bunder\b", r"\bup to\b", r"\bat most\b", r"\bnearly\b",
        r"\balmost\b", r"不到", r"不足", r"不超过", r"以下", r"以内", r"近(?=\d)",
    ),
}
WORDING = {
    "lower_bound": "more than/over/exceeds/超过/余/以上",
    "approx": "about/around/approximately/约/左右",
    "upper_bound": "less than/up to/nearly/不到/以下",
}
BEFORE, AFTER = 16, 8

_CHINESE_ROUND = {100: "百", 1000: "千", 10**4: "万", 10**6: "百万", 10**7: "千万", 10**8: "亿"}


def _scaled(value: int, base: int) -> str:
    """value / base without float noise or trailing zeros: 12643000 / 10**4 -> '1264.3'."""
    return format((Decimal(value) / Decimal(base)).normalize(), "f")


def spellings(value: int) -> list[str]:
    """Ways a source may write `value`: 2520000 -> '2520000', '2,520,000', '2.52 million', '252万', ..."""
    out = [str(value), f"{value:,}"]
    units = ((" thousand", 10**3), (" million", 10**6), (" billion", 10**9), ("万", 10**4), ("亿", 10**8))
    out += [f"{_scaled(value, base)}{word}" for word, base in units if value >= base]
    if value in _CHINESE_ROUND:
        out.append(_CHINESE_ROUND[value])
    return list(dict.fromkeys(out))


def _pattern(spelling: str) -> str:
    # Not part of a longer number: '14' must not match in '140' or '1.4', '2万' not in '12万'.
    body = re.escape(spelling).replace(r"\ ", r"\s*")
    return rf"(?<![\d.,]){body}(?!\d|[.,]\d)"


def number_spans(value: int, quote: str) -> list[tuple[int, int]]:
    """Where in `quote` the value appears as written (any spelling)."""
    found = (re.finditer(_pattern(s), quote, flags=re.IGNORECASE) for s in spellings(value))
    return sorted({m.span() for matches in found for m in matches})


def qualifiers_near(quote: str, spans: list[tuple[int, int]]) -> set[str]:
    """Qualifiers whose wording appears next to one of the number's occurrences."""
    windows = [quote[max(0, start - BEFORE) : end + AFTER] for start, end in spans]
    return {qualifier for qualifier, patterns in MARKERS.items()
            if any(re.search(p, w, flags=re.IGNORECASE) for p in patterns for w in windows)}


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def check_periods(row: Mapping[str, str]) -> list[tuple[str, str]]:
    basis, start, end = row.get("period_basis", ""), row.get("period_start", ""), row.get("period_end", "")
    start_d, end_d = _date(start), _date(end)
    return [(column, why) for failed, column, why in (
        (basis in NEEDS_START and not start, "period_start", f"a {basis} figure needs period_start"),
        (basis in NEEDS_END and not end, "period_end",
         f"a {basis} figure needs period_end (the date of the stock)"),
        (start_d and end_d and end_d < start_d, "period_end", f"period_end {end} is before period_start {start}"),
    ) if failed]


def check_quote(row: Mapping[str, str]) -> list[tuple[str, str]]:
    value, quote, qualifier = _int(row.get("value", "")), row.get("quote", ""), row.get("qualifier", "")
    if value is None or not quote:
        return []
    spans = number_spans(value, quote)
    if not spans:
        tried = ", ".join(f'"{s}"' for s in spellings(value))
        return [("quote", f"quote does not contain the value {value} as written (looked for {tried})")]
    near = qualifiers_near(quote, spans)
    if qualifier in WORDING and qualifier not in near:
        why = f"qualifier {qualifier} but the quote has no {WORDING[qualifier]} next to the number"
        return [("qualifier", why)]
    if qualifier == "exact" and near:
        return [("qualifier", f"qualifier exact but the quote's wording next to the number says {min(near)}")]
    return []


def inferred_fields(row: Mapping[str, str]) -> list[str]:
    """The field names listed in a row's `inferred` cell ("period_start;period_end" -> both)."""
    return [name.strip() for name in row.get("inferred", "").split(";") if name.strip()]


def check_inferred(row: Mapping[str, str]) -> list[tuple[str, str]]:
    """`inferred` names existing, filled fields of this row, and `note` says how they were inferred."""
    problems = []
    for name in inferred_fields(row):
        if name not in row or name in ("inferred", "note"):
            problems.append(("inferred", f'"{name}" is not a field of this table that can be inferred'))
        elif not row[name]:
            problems.append(("inferred", f'"{name}" is listed as inferred but is empty'))
    if inferred_fields(row) and not row.get("note", "").strip():
        problems.append(("note", "inferred values need a note saying how they were inferred"))
    return problems


def check_publisher(row: Mapping[str, str]) -> list[tuple[str, str]]:
    """A named outlet has a Chinese name, and a Chinese name needs the outlet it names."""
    if bool(row.get("publisher", "").strip()) != bool(row.get("publisher_zh", "").strip()):
        return [("publisher_zh", "publisher and publisher_zh must both be filled or both be empty")]
    return []


def check_restates(row: Mapping[str, str], figures: Mapping[str, Mapping[str, str]],
                   published: Mapping[str, str]) -> list[tuple[str, str]]:
    """A restatement links to an original (no chains): same indicator, another source, not later.
    An unknown id is the schema's foreign key to report."""
    target_id = row.get("restates", "")
    target = figures.get(target_id)
    if not target_id or target is None:
        return []
    if target_id == row.get("figure_id"):
        return [("restates", "a figure cannot restate itself")]
    mine, theirs = _date(published.get(row.get("source_id"), "")), _date(published.get(target.get("source_id"), ""))
    return [("restates", why) for failed, why in (
        (target.get("restates"), f'{target_id} itself restates {target.get("restates")}: link to the original'),
        (target.get("indicator") != row.get("indicator"),
         f'{target_id} measures {target.get("indicator")}, not {row.get("indicator")}'),
        (target.get("source_id") == row.get("source_id"),
         f"{target_id} is from the same source: one row per number (curation rule 2)"),
        (mine and theirs and theirs > mine,
         f"{target_id} was published after this row's source: link the later row to the earlier one"),
    ) if failed]


def check_part_of(row: Mapping[str, str], figures: Mapping[str, Mapping[str, str]]) -> list[tuple[str, str]]:
    """A part links to its total: a row of the same source (its breakdown) and unit, basis and status,
    no smaller, not itself a part. An unknown id is the schema's foreign key to report."""
    total_id = row.get("part_of", "")
    total = figures.get(total_id)
    if not total_id or total is None:
        return []
    if total_id == row.get("figure_id"):
        return [("part_of", "a figure cannot be a part of itself")]
    mine, theirs = _int(row.get("value", "")), _int(total.get("value", ""))
    return [("part_of", why) for failed, why in (
        (total.get("part_of"), f'{total_id} is itself a part of {total.get("part_of")}: link to the total'),
        (total.get("source_id") != row.get("source_id"),
         f"{total_id} is from another source: a breakdown is given by one source"),
        *((total.get(c) != row.get(c), f"{total_id} has {c} {total.get(c)}, this row {row.get(c)}")
          for c in ("unit", "period_basis", "status")),
        (mine is not None and theirs is not None and mine > theirs,
         f"value {mine} is larger than the total {total_id} ({theirs})"),
    ) if failed]


def check_translations(row: Mapping[str, str], language: str | None) -> list[tuple[str, str]]:
    """A quote is translated into every report language but its source's own (the quote itself)."""
    problems = []
    for lang in LANGS:
        column = f"quote_{lang}"
        if column not in row or language is None:
            continue
        if lang != language and row.get("quote") and not row[column].strip():
            problems.append((column, f"the source is in {language}: quote_{lang} needs a translation of the quote"))
        elif lang == language and row[column].strip():
            problems.append((column, f"the source is in {lang}: the quote is already {lang}, leave quote_{lang} empty"))
    return problems


def check_figure(row: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every single-row rule for one figures.csv row."""
    return check_periods(row) + check_quote(row) + check_inferred(row)


def quote_in_text(quote: str, text: str) -> bool:
    """The quote is a verbatim span of the source; only runs of whitespace may differ."""
    return " ".join(quote.split()) in " ".join(text.split())


def inferred(row) -> frozenset[str]:
    """The fields a loaded source or figure row lists in `inferred` (a string, or NaN when empty)."""
    value = row.get("inferred") if hasattr(row, "get") else None
    return frozenset(inferred_fields({"inferred": value})) if isinstance(value, str) else frozenset()


def restated_ids(figures, ids) -> set[str]:
    """The figure ids that rows among `ids` restate (`restates`: a string, or NaN when empty)."""
    picked = figures[figures["figure_id"].astype(str).isin(set(ids))]
    if "restates" not in picked:
        return set()
    return {str(t) for t in picked["restates"].dropna()}
