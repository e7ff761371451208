"""The cache key of a report: a sha256 over everything that can change its output.

Components: the notebook's bytes, the fingerprint of exactly the data rows the report reads (so a changed
row rebuilds only the reports that read it), the src/ tree (code, CSS, templates), requirements.lock, and
the parameters as canonical JSON. The components go into the manifest so a rebuild can be explained.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from talentbrief.paths import Paths

SRC_SUFFIXES = (".py", ".css", ".j2", ".json")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tree_hash(folder: Path, suffixes: tuple[str, ...] | None = None) -> str:
    """Hash of every file's relative path and bytes, in sorted order (caches excluded)."""
    h = hashlib.sha256()
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and not any(part.endswith(".egg-info") for part in p.parts)
        and (suffixes is None or p.name.endswith(suffixes))
    )
    for p in files:
        h.update(p.relative_to(folder).as_posix().encode() + b"\0")
        h.update(sha256_file(p).encode() + b"\0")
    return h.hexdigest()


class Context:
    """What every report of one build shares: hashed/loaded once, not once per report."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self._src: str | None = None
        self._lock: str | None = None
        self._tables: Any = None

    @property
    def src(self) -> str:
        if self._src is None:
            self._src = tree_hash(self.paths.src, SRC_SUFFIXES)
        return self._src

    @property
    def lock(self) -> str:
        if self._lock is None:
            lf = self.paths.lockfile
            self._lock = sha256_file(lf) if lf.is_file() else sha256_bytes(b"")
        return self._lock

    def data(self, parameters: dict[str, Any]) -> str:
        """Fingerprint of the rows a report with these parameters reads (talentbrief.scope decides)."""
        from talentbrief import load, scope

        if self._tables is None:
            self._tables = load.load(self.paths.root)
        tables = self._tables
        if "as_of" in parameters:
            tables = scope.select(tables, as_of=parameters["as_of"], programme=parameters.get("programme"))
        return load.fingerprint(tables)


def input_hash(paths: Paths, spec, context: Context | None = None) -> tuple[str, dict[str, str]]:
    """(hex digest, components) for one report; pass a shared Context when hashing many."""
    ctx = context or Context(paths)
    components = {
        "notebook": sha256_file(paths.root / spec.notebook),
        "data": ctx.data(spec.parameters),
        "src": ctx.src,
        "requirements.lock": ctx.lock,
        "parameters": sha256_bytes(canonical_json(spec.parameters)),
    }
    return sha256_bytes(canonical_json(components)), components
