"""reports.yml -> the list of reports to build, one per combination of an entry's grid.

Strict: every mistake is reported at once, naming its entry, before any kernel starts.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import string
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from talentbrief.errors import TalentbriefError
from talentbrief.paths import Paths

if TYPE_CHECKING:
    from pydantic import ValidationError

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ID_MAX = 100  # reports/<id>.html, _failed/<id>.ipynb and temp names stay far below NAME_MAX (255)
RESERVED_IDS = frozenset({"index", "manifest"})  # reports/index.html, reports/manifest.json
FORMATS = ("html", "pdf")
LIMITS = ("timeout", "max_output", "max_memory")  # per-entry overrides of the build's limits
# A catalogue is a few dozen entries; YAML aliases may share values, but expanding them may not
# produce more than this many values (an "alias bomb" grows exponentially as Python objects).
MAX_VALUES = 10_000


class CatalogueError(TalentbriefError):
    """The catalogue is unusable (exit 2); `.messages` lists every problem found."""


@dataclass(frozen=True)
class ReportSpec:
    id: str
    notebook: str  # relative to the project root, e.g. "notebooks/overview.ipynb"
    parameters: dict[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = FORMATS
    entry: str = ""  # the catalogue entry it came from, for messages
    limits: dict[str, float] = field(default_factory=dict)  # the entry's overrides (keys in LIMITS)


@functools.cache
def _schema():
    """Built on first use: a no-op build (talentbrief.snapshot) must not pay pydantic's 0.5 s import."""
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field

    class Entry(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        id: str
        notebook: str
        parameters: dict[str, Any] = {}
        grid: dict[str, list[Any]] = {}
        formats: list[Literal["html", "pdf"]] = list(FORMATS)
        timeout: Annotated[float, Field(ge=0, strict=False)] | None = None  # seconds
        max_output: Annotated[float, Field(ge=0, strict=False)] | None = None  # MB
        max_memory: Annotated[float, Field(ge=0, strict=False)] | None = None  # MB

    class Catalogue(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        parameters: dict[str, Any] = {}  # shared by every report (e.g. a fixed as_of), entries override
        reports: list[dict[str, Any]]

    return Entry, Catalogue


def _plain(value: Any) -> Any:
    """YAML turns 2026-11-01 into a date; notebooks take ISO strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _errors(exc: ValidationError) -> list[str]:
    found = [(".".join(str(p) for p in e["loc"]) or "entry", e) for e in exc.errors()]
    return [f"unknown key {where!r}" if e["type"] == "extra_forbidden" else f"{where}: {e['msg']}"
            for where, e in found]


def check_id(report_id: str) -> str | None:
    """Why `report_id` is not a safe file name, or None. Ids become reports/<id>.html."""
    if len(report_id) > ID_MAX:
        return f"bad id {report_id[:40]!r}... ({len(report_id)} characters): ids are at most {ID_MAX}"
    if not ID_RE.match(report_id) or ".." in report_id:
        return f"bad id {report_id!r}: use lowercase letters, digits and '-', starting with a letter or digit"
    if report_id in RESERVED_IDS:
        return f"bad id {report_id!r}: reserved (reports/ has its own {report_id} file)"
    return None


def _check_notebook(paths: Paths, notebook: str) -> str | None:
    if Path(notebook).is_absolute() or "\\" in notebook:
        return f"notebook {notebook!r} must be a relative path under notebooks/"
    target = (paths.root / notebook).resolve()
    if not target.is_relative_to(paths.notebooks.resolve()):
        return f"notebook {notebook!r} is outside notebooks/"
    if target.suffix != ".ipynb":
        return f"notebook {notebook!r} is not an .ipynb file"
    if not target.is_file():
        return f"notebook {notebook!r} does not exist"
    return None


def _expand(entry: Any, shared: dict[str, Any]) -> tuple[list[ReportSpec], list[str]]:
    names = [f for _, f, _, _ in string.Formatter().parse(entry.id) if f is not None]
    known = set(entry.grid) | set(entry.parameters) | set(shared)
    if unknown := [n for n in names if n not in known]:
        return [], [f"id template uses {', '.join(map(repr, unknown))}, not a parameter or grid key"]
    if empty := [k for k, v in entry.grid.items() if not v]:
        return [], [f"grid {', '.join(map(repr, empty))} is empty"]
    if overlap := set(entry.grid) & set(entry.parameters):
        return [], [f"{', '.join(sorted(overlap))} both in parameters and grid"]
    if missing_grid := [k for k in entry.grid if k not in names]:
        return [], [f"id template {entry.id!r} must contain {{{missing_grid[0]}}} so grid ids differ"]
    specs, problems = [], []
    keys = list(entry.grid)
    formats = tuple(f for f in FORMATS if f in entry.formats)
    limits = {k: getattr(entry, k) for k in LIMITS if getattr(entry, k) is not None}
    for combo in itertools.product(*(entry.grid[k] for k in keys)):
        params = {**shared, **entry.parameters, **dict(zip(keys, combo))}
        report_id = entry.id.format(**params)
        if (why := check_id(report_id)) is not None:
            problems.append(why)
            continue
        specs.append(ReportSpec(report_id, entry.notebook, params, formats, entry.id, limits))
    return specs, problems


def parse(paths: Paths, data: Any) -> list[ReportSpec]:
    """Validate and expand an already-parsed catalogue document."""
    from pydantic import ValidationError

    data = _plain(data)
    Entry, Catalogue = _schema()
    try:
        cat = Catalogue.model_validate(data if isinstance(data, dict) else {"reports": data})
    except ValidationError as exc:
        raise CatalogueError([f"reports.yml: {m}" for m in _errors(exc)]) from None
    problems: list[str] = []
    specs: list[ReportSpec] = []
    for n, raw in enumerate(cat.reports, start=1):
        label = f"entry {n}" + (f" ({raw['id']!r})" if isinstance(raw, dict) and "id" in raw else "")
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            problems += [f"reports.yml {label}: {m}" for m in _errors(exc)]
            continue
        if (why := _check_notebook(paths, entry.notebook)) is not None:
            problems.append(f"reports.yml {label}: {why}")
        expanded, why_not = _expand(entry, cat.parameters)
        problems += [f"reports.yml {label}: {m}" for m in why_not]
        specs += expanded
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.id in seen:
            first = seen[spec.id]
            problems.append(f"reports.yml: duplicate id {spec.id!r} (entries {first!r} and {spec.entry!r})")
        seen.setdefault(spec.id, spec.entry)
    if problems:
        raise CatalogueError(problems)
    return specs


def _where(node: yaml.Node) -> str:
    return f"reports.yml:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _sizes(root: yaml.Node) -> dict[int, int]:
    """How many values each node expands to (an alias counted each time it is used), computed on the
    node graph, which stays as small as the text; a recursive alias raises CatalogueError."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if done:
            open_.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
            continue
        open_.add(id(node))  # a node never comes back while open: its children are checked below
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise CatalogueError([f"{_where(child)}: a recursive alias (a value that contains itself)"])
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand beyond MAX_VALUES, naming the entry that does it."""
    sizes = _sizes(root)
    if sizes[id(root)] <= MAX_VALUES:
        return
    parts: list[tuple[int, yaml.Node, str]] = []  # (values, node, label): shared parameters, then entries
    entries = root
    if isinstance(root, yaml.MappingNode):
        entries = {getattr(k, "value", None): v for k, v in root.value}.get("reports")
        parts = [(sizes[id(k)] + sizes[id(v)], v, repr(getattr(k, "value", k)))
                 for k, v in root.value if getattr(k, "value", None) != "reports"]
    for n, entry in enumerate(entries.value if isinstance(entries, yaml.SequenceNode) else [], start=1):
        fields = entry.value if isinstance(entry, yaml.MappingNode) else []
        ident = next((v.value for k, v in fields if getattr(k, "value", None) == "id"), None)
        label = f"entry {n}" + (f" ({ident!r})" if isinstance(ident, str) else "")
        parts.append((sizes[id(entry)], entry, label))
    total = 0
    for size, node, label in parts:
        total += size
        if total > MAX_VALUES:
            break
    else:
        node, label = root, "the catalogue"
    refused = f"YAML aliases expand to more than {MAX_VALUES} values; refused"
    raise CatalogueError([f"{_where(node)}: {label}: {refused}"])


def _read_yaml(text: str) -> Any:
    """yaml.safe_load, except that alias expansion is bounded before any Python object is built."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load(paths: Paths) -> list[ReportSpec]:
    """Read reports.yml; raises CatalogueError naming every bad entry."""
    try:
        data = _read_yaml(paths.catalogue.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError([f"{paths.catalogue}: no catalogue"]) from None
    except yaml.YAMLError as exc:
        raise CatalogueError([f"reports.yml: not valid YAML: {exc}"]) from None
    return parse(paths, data)


def with_as_of(specs: list[ReportSpec], as_of: str) -> list[ReportSpec]:
    """The cron run's override: every report that takes as_of gets this one (and so a new cache key)."""
    return [replace(s, parameters={**s.parameters, "as_of": as_of}) if "as_of" in s.parameters else s
            for s in specs]
