"""Consistency checks and derived figures, declared beside the data: data/checks.yml, data/derived.yml.

`read` is the one reader of both files; `problems` checks them against figures.csv, so `validate` (and
`build`) refuses an entry that cannot be evaluated before any kernel starts. `load.load()` hands out
their `Definitions`, whose entries record a read of their file when taken.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from figures import LANGS
from talentbrief import reads

FILES = {"check": "checks", "derived": "derived"}  # what -> the Paths attribute of its file
# The fields of an entry; checks word a finding per verdict, derived figures a text and a caveat.
FIELDS = {"check": ("id", "kind", "figures", "name", "finding"),
          "derived": ("id", "kind", "figures", "name", "text", "caveat")}
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Entry:
    what: str  # "check" or "derived"
    id: str
    kind: str
    figures: dict  # role -> figure id, or a tuple of ids for a role that takes several
    name: dict  # lang -> name
    wording: dict  # key -> lang -> template (checks: a verdict; derived: "text" and "caveat")

    @property
    def figure_ids(self) -> tuple[str, ...]:
        """Every input figure id, in the order the entry lists them."""
        return tuple(i for v in self.figures.values() for i in ((v,) if isinstance(v, str) else v))


@dataclass(frozen=True)
class Definitions:
    """The entries of both files, with the programme and labels of each input figure (from the whole
    figures table: a figure outside a report's scope is still named when a check cannot run)."""

    entries: dict = field(default_factory=dict)  # what -> tuple[Entry, ...]
    figures: dict = field(default_factory=dict)  # figure id -> {"programme_id", "label_en", "label_zh"}
    files: dict = field(default_factory=dict)  # what -> (path relative to the root, sha256 of what was read)

    def of(self, what: str) -> tuple[Entry, ...]:
        """The entries of one file (recorded as a read of that file: talentbrief.reads)."""
        if what in self.files:
            rel, sha = self.files[what]
            reads.record({"file": rel}, lambda: sha)
        return self.entries.get(what, ())

    def get(self, what: str, entry_id: str) -> Entry:
        found = {e.id: e for e in self.of(what)}
        if entry_id not in found:
            raise KeyError(f"no {what} {entry_id!r} in data/{FILES[what]}.yml" + _close(entry_id, found))
        return found[entry_id]

    def programmes(self, entry: Entry) -> set[str]:
        """The programmes an entry involves: those of its input figures."""
        return {self.figures[i]["programme_id"] for i in entry.figure_ids if i in self.figures}

    def concerning(self, what: str, programme: str | None = None) -> tuple[Entry, ...]:
        """Every entry (programme None: the audit), or those involving one programme (its brief)."""
        return tuple(e for e in self.of(what) if programme is None or programme in self.programmes(e))

    def label(self, figure_id: str, lang: str) -> str:
        return str(self.figures.get(figure_id, {}).get(f"label_{lang}", figure_id))


def _close(name: str, known) -> str:
    near = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


# libyaml's parser when PyYAML has it (its wheels do): the same nodes, several times faster, which a
# report's kernel pays on every run
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

def read(path: Path) -> tuple[list[tuple[int, dict]], list[tuple[int | None, str]], str | None]:
    """(entries with the line each starts on, problems as (line, message), sha256 of the bytes); a missing
    file has no entries. YAML aliases are refused: an entry says what it means in full."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], [], None
    sha = hashlib.sha256(data).hexdigest()
    loader = _LOADER(data.decode("utf-8", errors="replace"))
    try:
        node = loader.get_single_node()
        if node is None:
            return [], [], sha
        if _aliased(node):
            return [], [(None, "YAML aliases (*name) are not allowed here: write each entry in full")], sha
        document = loader.construct_document(node)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        return [], [(None if line is None else line + 1, f"not valid YAML: {exc}")], sha
    finally:
        loader.dispose()
    if not isinstance(document, list):
        return [], [(node.start_mark.line + 1, "expected a list of entries (each starting with '- id: ...')")], sha
    return [(n.start_mark.line + 1, d) for n, d in zip(node.value, document)], [], sha


def _aliased(root: yaml.Node) -> bool:
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += node.value
        elif isinstance(node, yaml.MappingNode):
            stack += [n for pair in node.value for n in pair]
    return False


def _entry(what: str, raw: dict) -> Entry:
    """An entry whose fields have the right shapes (problems() said so)."""
    wording = dict(raw["finding"]) if what == "check" else {"text": raw["text"], "caveat": raw["caveat"]}
    figures = {k: v if isinstance(v, str) else tuple(v) for k, v in raw["figures"].items()}
    return Entry(what, raw["id"], raw["kind"], figures, dict(raw["name"]), wording)


def _read_all(paths, figures):
    """(what, its file relative to the root, entries, sha256, problems as (file, line, message)) per file."""
    for what, name in FILES.items():
        path = getattr(paths, name)
        found, broken, sha = read(path)
        rel = path.relative_to(paths.root).as_posix()
        broken += entry_problems(what, found, figures)
        yield what, rel, found, sha, [(rel, line, message) for line, message in broken]


def load(paths, figures) -> tuple[Definitions, list[tuple[str, int | None, str]]]:
    """Both files, read once, with what `figures` (the whole table) says about their inputs, and the
    problems of their shapes as (file, line, message) (validate has checked them against the data)."""
    entries, files, problems = {}, {}, []
    for what, rel, found, sha, broken in _read_all(paths, None):
        problems += broken
        entries[what] = () if problems else tuple(_entry(what, raw) for _, raw in found)
        if sha is not None:
            files[what] = (rel, sha)
    wanted = {i for es in entries.values() for e in es for i in e.figure_ids}
    rows = figures[figures["figure_id"].astype(str).isin(wanted)]
    info = {str(r["figure_id"]): {k: str(r[k]) for k in ("programme_id", "label_en", "label_zh")}
            for r in rows.to_dict("records")}
    return Definitions(entries, info, files), problems


def problems(paths, figures: dict[str, dict[str, str]]) -> list[tuple[str, int | None, str]]:
    """Every problem of both files as (file, line, message) (`figures`: figure id -> its CSV row)."""
    return [problem for *_, broken in _read_all(paths, figures) for problem in broken]


def entry_problems(what: str, entries, figures) -> list[tuple[int, str]]:
    """(line, "check 'id': what is wrong") per entry that cannot be evaluated (`figures` None: shapes)."""
    out, seen = [], set()
    for line, raw in entries:
        label = f"{what} {raw.get('id')!r}" if isinstance(raw, dict) and isinstance(raw.get("id"), str) \
            else f"{what} at this line"
        out += [(line, f"{label}: {message}") for message in _entry_problems(what, raw, figures, seen)]
    return out


def _entry_problems(what, raw, figures, seen) -> list[str]:
    from talentbrief import checks, metrics  # lazy: only validation needs the kinds (and their imports)

    if not isinstance(raw, dict):
        return ["an entry must be a mapping (id: ..., kind: ..., ...)"]
    required = FIELDS[what]
    missing = [f for f in required if f not in raw]
    unknown = sorted(set(map(str, raw)) - set(required))
    problems = [f"missing required field {f!r}" for f in missing]
    problems += [f"unknown field {f!r}{_close(f, required)} (fields: {', '.join(required)})" for f in unknown]
    ident = raw.get("id")
    if "id" in raw and not (isinstance(ident, str) and _ID.fullmatch(ident)):
        problems.append(f"id must be a slug (lower-case letters, digits and '-'), got {ident!r}")
    elif ident in seen:
        problems.append("duplicate id (each check or derived figure has its own)")
    seen.add(ident)
    kinds = checks.KINDS if what == "check" else metrics.KINDS
    kind = kinds.get(raw.get("kind")) if isinstance(raw.get("kind"), str) else None
    if "kind" in raw and kind is None:
        problems.append(f"unknown kind {raw.get('kind')!r}{_close(str(raw.get('kind')), kinds)} "
                        f"(kinds: {', '.join(kinds)})")
    if "name" in raw:
        problems += _texts("name", raw["name"], ())
    if kind is None or missing:
        return problems
    problems += _figure_problems(raw["figures"], kind, figures)
    if what == "derived":
        roles = tuple(raw["figures"]) if isinstance(raw["figures"], dict) else ()
        extra = tuple(r for r in roles if r not in kind.inputs)  # further figures the text cites by role
        problems += _texts("text", raw["text"], (*kind.wording["text"], *extra))
        return problems + _texts("caveat", raw["caveat"], ())
    wording, verdicts = raw["finding"], ", ".join(kind.wording)
    if not isinstance(wording, dict):
        return problems + [f"finding must map each verdict ({verdicts}) to its en and zh wording"]
    problems += [f"finding: missing the wording for {v!r}" for v in kind.wording if v not in wording]
    problems += [f"finding: {str(v)!r} is not a verdict this kind gives ({verdicts})"
                 for v in wording if v not in kind.wording]
    return problems + [p for v, text in wording.items() if v in kind.wording
                       for p in _texts(f"finding.{v}", text, kind.wording[v])]


def _texts(where: str, value, placeholders) -> list[str]:
    """Problems of an {en, zh} wording whose templates may use these placeholders."""
    if not isinstance(value, dict):
        return [f"{where} must have an en and a zh text"]
    problems = [f"{where}: missing the {lang} text" for lang in LANGS
                if not (isinstance(value.get(lang), str) and value[lang].strip())]
    problems += [f"{where}: unknown language {str(k)!r} ({', '.join(LANGS)})" for k in value if k not in LANGS]
    for lang in LANGS:
        template = value.get(lang)
        if not isinstance(template, str):
            continue
        try:
            names = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            problems.append(f"{where}.{lang}: {exc} (write a literal brace as {{{{ or }}}})")
            continue
        for name, spec, conv in names:
            if name not in placeholders:
                offered = ", ".join("{" + p + "}" for p in placeholders) or "none"
                problems.append(f"{where}.{lang}: placeholder {{{name}}} is not one this kind provides ({offered})")
            elif spec or conv:
                problems.append(f"{where}.{lang}: write {{{name}}} without a format or conversion")
        if re.search(r"\d", re.sub(r"\{[^{}]*\}", "", template)):
            problems.append(f"{where}.{lang}: a digit typed into the wording (numbers come from the figures "
                            "through placeholders)")
    return problems


def _figure_problems(spec, kind, figures) -> list[str]:
    if not isinstance(spec, dict):
        return [f"figures must map each input ({', '.join(kind.inputs)}) to a figure id"]
    problems = [f"figures: missing {role!r}" for role in kind.inputs if role not in spec]
    rows = {}
    for role, value in spec.items():
        many = kind.inputs.get(role, False)
        if role not in kind.inputs and not kind.cites:
            problems.append(f"figures: {str(role)!r} is not an input of this kind ({', '.join(kind.inputs)})")
            continue
        ids = value if many else [value]
        if not (isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids)):
            problems.append(f"figures.{role}: " + ("a list of figure ids" if many else "one figure id"))
            continue
        unknown = [i for i in ids if figures is not None and i not in figures]
        problems += [f"unknown figure id {i!r}{_close(i, figures)}" for i in unknown]
        if not unknown and figures is not None:
            rows[role] = [figures[i] for i in ids] if many else figures[ids[0]]
    if problems or figures is None:
        return problems
    units = sorted({r.get("unit", "") for v in rows.values() for r in (v if isinstance(v, list) else [v])})
    if kind.same_unit and len(units) > 1:
        problems.append(f"figures in different units ({', '.join(units)}) cannot be compared")
    return problems + kind.valid(rows)
