"""A notebook's typed parameters, read from its `parameters` cell, and the build's check of them.

papermill injects any name silently; the build refuses unknown names, wrong types (the annotation, else
the default's type; a None default takes anything) and values outside a domain declared at the end of the
help comment (`lang = "en"  # report language; one of: en, zh`), before any kernel starts.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from talentbrief import memo
from talentbrief import paths as paths_mod

TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict,
}


@dataclass(frozen=True)
class ParamInfo:
    name: str
    type: str  # one of TYPES, "None" (default None: anything goes), or the annotation as written
    default: str  # as written in the notebook
    help: str
    optional: bool = False  # annotated `X | None` / Optional[X]: None is also fine
    choices: tuple = ()  # the declared domain ("one of: a, b" in the help comment); () for any value


_DOMAIN = re.compile(r"\bone of:\s*(.+?)\s*$")


def domain(help_text: str) -> tuple:
    """The values declared by a help comment ending in `one of: a, b, c`; () when none are."""
    found = _DOMAIN.search(help_text)
    if found is None:
        return ()
    values = []
    for item in (i.strip() for i in found.group(1).split(",")):
        try:
            values.append(ast.literal_eval(item))
        except (ValueError, SyntaxError):
            values.append(item)
    return tuple(v for v in values if v != "")


def _literal_type(default: str) -> str:
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError):
        return "any"
    if value is None:
        return "None"
    exact = {bool: "bool", int: "int", float: "float", str: "str", list: "list", tuple: "list", dict: "dict"}
    return exact.get(type(value), "any")


def _parse_annotation(annotation: str) -> tuple[str, bool]:
    text = annotation.replace(" ", "")
    for prefix in ("Optional[", "typing.Optional["):
        if text.startswith(prefix) and text.endswith("]"):
            return _parse_annotation(text[len(prefix) : -1])[0], True
    parts = [p for p in text.split("|") if p]
    optional = "None" in parts
    parts = [p for p in parts if p != "None"]
    if len(parts) == 1:
        base = parts[0].split("[", 1)[0].replace("typing.", "").lower()
        return base if base in TYPES else "any", optional
    return ("None" if not parts else "any"), optional


def inspect(notebook: Path | str) -> dict[str, ParamInfo]:
    """Parameters of a notebook, remembered (talentbrief.memo) by its bytes, this module and the packages."""
    path = Path(notebook)
    source = path.read_bytes()
    stored = memo.key(source, Path(__file__))
    if (hit := memo.get("params", stored)) is not None:
        return {p["name"]: ParamInfo(**{**p, "choices": tuple(p.get("choices", ()))}) for p in json.loads(hit)}
    found = _inspect(path)
    memo.put("params", stored, json.dumps([asdict(p) for p in found.values()]).encode())
    return found


def _inspect(path: Path) -> dict[str, ParamInfo]:
    """Each `name[: annotation] = default  # help` of the notebook's `parameters` cell, read with ast (as
    papermill reads them, plus the annotated `x: str | None = None` its line regex skips)."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    cell = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None or cell.cell_type != "code":
        return {}
    source, infos = cell.source, {}
    for node in ast.parse(source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [None])[0]
        if not isinstance(target, ast.Name) or getattr(node, "value", None) is None:
            continue
        default = ast.get_source_segment(source, node.value) or "None"
        after = source.splitlines()[node.end_lineno - 1][node.end_col_offset:]
        help_text = after.split("#", 1)[1].strip() if "#" in after else ""
        if isinstance(node, ast.AnnAssign):
            kind, optional = _parse_annotation(ast.get_source_segment(source, node.annotation) or "None")
        else:
            kind, optional = _literal_type(default), False
        infos[target.id] = ParamInfo(target.id, kind, default, help_text, optional, domain(help_text))
    return infos


def default(notebook: Path | str, name: str):
    """The value the notebook's parameters cell gives `name` (None when it gives none)."""
    info = inspect(notebook).get(name)
    return ast.literal_eval(info.default) if info is not None and info.default else None


def value(spec, root: Path, name: str):
    """A report's parameter: from the catalogue, else the notebook's default."""
    return spec.parameters[name] if name in spec.parameters else default(Path(root) / spec.notebook, name)


def type_error(info: ParamInfo, value: Any) -> str | None:
    """Why `value` does not fit `info` (its type, then its declared domain), or None."""
    if value is None and info.optional:
        return None
    if info.type not in ("None", "any"):
        fits = isinstance(value, TYPES[info.type]) and not (
            info.type in ("int", "float") and isinstance(value, bool)
        )
        if not (fits or (info.type == "list" and isinstance(value, tuple))):
            return f"expects {info.type} (default {info.default}), got {type(value).__name__} {value!r}"
    if info.choices and value not in info.choices:
        return f"must be one of {', '.join(map(str, info.choices))}, got {value!r}"
    return None


def check(spec, root: Path | None = None) -> list[str]:
    """Problems with a report's parameters, each naming the report and the parameter."""
    root = Path(root) if root is not None else paths_mod.get().root
    try:
        infos = inspect(root / spec.notebook)
    except Exception as exc:  # noqa: BLE001 - not a notebook, an unparsable parameters cell, ...
        return [f"report {spec.id!r}: cannot read parameters of {spec.notebook}: {exc}"]
    problems = []
    for name, value in spec.parameters.items():
        if name not in infos:
            known = ", ".join(infos) or "none"
            why = f"unknown parameter {name!r} for {spec.notebook} (it accepts: {known})"
            problems.append(f"report {spec.id!r}: {why}")
        elif (why := type_error(infos[name], value)) is not None:
            problems.append(f"report {spec.id!r}: parameter {name!r} {why}")
    return problems


def _cmd(args: argparse.Namespace) -> int:
    path = Path(args.notebook)
    if not path.is_file():  # also accept a path relative to the project root
        with contextlib.suppress(FileNotFoundError):
            path = paths_mod.get(args.root).root / args.notebook
    if not path.is_file():
        print(f"talentbrief params: no notebook {args.notebook}")
        return 2
    try:
        infos = inspect(path)
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be read
        print(f"talentbrief params: cannot read parameters of {path}: {exc}")
        return 2
    if not infos:
        print(f"{args.notebook}: no parameters cell")
        return 0
    rows = [("name", "type", "default", "help")]
    for p in infos.values():
        kind = ("any" if p.type == "None" else p.type) + (" | None" if p.optional else "")
        rows.append((p.name, kind, p.default, p.help))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("params", help="list a notebook's parameters: name, type, default, help")
    p.add_argument("notebook", help="path to the notebook, e.g. notebooks/overview.ipynb")
    p.set_defaults(func=_cmd)
