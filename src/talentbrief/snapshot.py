"""The no-op fast path: after a build that left every selected report up to date, one digest of the
inputs and the size and mtime of every output; a later build with the same arguments that finds both
unchanged has nothing to do, without importing pandas, frictionless or papermill. Anything else falls
through to the full check, the authority. Any build that writes removes the file first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from talentbrief.digests import canonical_json, sha256_bytes, sha256_file
from talentbrief.paths import INPUTS, Paths, atomic_write, input_files

NAME = ".uptodate.json"


def _file(paths: Paths) -> Path:
    return paths.reports / NAME


def inputs_digest(paths: Paths) -> str:
    """One digest of every input file of the project (paths.input_files): names and bytes."""
    return sha256_bytes(canonical_json([(name, sha256_file(path)) for name, path in input_files(paths.root)]))


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _outputs(paths: Paths, manifest: dict[str, Any]) -> dict[str, list[int] | None]:
    names = ["manifest.json", "index.html"]
    for entry in manifest.get("reports", {}).values():
        names += [o["file"] for o in entry.get("outputs", {}).values() if "file" in o]
    return {n: _stat(paths.reports / n) for n in sorted(set(names))}


def outside_inputs(manifest: dict[str, Any]) -> bool:
    """Whether a report of `manifest` read something `inputs_digest` does not hash (talentbrief.reads)."""
    for entry in manifest.get("reports", {}).values():
        for read in entry.get("reads") or ():
            if "project" in read:
                return True
            named = read.get("file", read.get("dir"))
            if isinstance(named, str) and named.split("/")[0] not in INPUTS:
                return True
    return False


def key(ids: list[str], as_of: str | None) -> str:
    return json.dumps({"ids": sorted(ids), "as_of": as_of}, sort_keys=True)


def record(paths: Paths, build_key: str, report_ids: list[str], manifest: dict[str, Any],
           inputs: str) -> None:
    """Called when every selected report is up to date with the inputs whose digest is `inputs`."""
    data = {"key": build_key, "inputs": inputs, "reports": sorted(report_ids),
            "outputs": _outputs(paths, manifest)}
    atomic_write(_file(paths), json.dumps(data, sort_keys=True).encode())


def forget(paths: Paths) -> None:
    _file(paths).unlink(missing_ok=True)


def unchanged(paths: Paths, build_key: str) -> int | None:
    """The number of reports known up to date, or None when the full check is needed."""
    try:
        data = json.loads(_file(paths).read_bytes())
        manifest = json.loads(paths.manifest.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    if (
        data.get("key") != build_key
        or data.get("outputs") != _outputs(paths, manifest)
        or outside_inputs(manifest)  # then the input digest does not cover what a report read
        or data.get("inputs") != inputs_digest(paths)
    ):
        return None
    return len(data.get("reports", []))
