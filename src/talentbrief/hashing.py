"""A report's cache key: a sha256 over its notebook, the reads its run recorded, the report code,
requirements.lock and its parameters. What a report reads is known only once it has run, so the build
stores `recorded_key` and later compares it with `current_key`, the same reads hashed now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from talentbrief import paths as paths_mod
from talentbrief.digests import canonical_json, sha256_bytes, sha256_file, tree_hash
from talentbrief.paths import Paths


def report_code(src: Path) -> str:
    """sha256 of the src/ code a report can run, so editing doctor, preview or the CLI rebuilds nothing."""
    from talentbrief.fingerprint import REPORT_ENTRIES, closure

    package = Path(src) / "talentbrief"
    parts = [(f"talentbrief/{name}", sha256_file(package / name))
             for name in closure(package, REPORT_ENTRIES) if not name.startswith("../")]
    parts.append(("talentbrief/templates", tree_hash(package / "templates")))
    parts += [(name, sha256_file(path)) for name, path in paths_mod.files(src)
              if not name.startswith("talentbrief/")]
    return sha256_bytes(canonical_json(sorted(parts)))


def data_component(reads: list[dict[str, Any]]) -> str:
    """One digest for a report's recorded reads (each with its sha256), in any order."""
    return sha256_bytes(canonical_json(sorted(canonical_json(r).decode() for r in reads)))


class Context:
    """Each file and read hashed once per check, not once per report (make a new one for each check)."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self._files: dict[str, str] = {}
        self._reads: dict[bytes, str | None] = {}
        self._tables: Any = None
        self._src: str | None = None

    def file(self, relative: str) -> str:
        if relative not in self._files:
            path = self.paths.root / relative
            self._files[relative] = sha256_file(path) if path.is_file() else sha256_bytes(b"")
        return self._files[relative]

    def tables(self):
        """The current tables, loaded (and validated) once; raises load.DataError if invalid."""
        if self._tables is None:
            from talentbrief import load

            self._tables = load.load(self.paths.root)
        return self._tables

    def read(self, read: dict[str, Any]) -> str | None:
        """sha256 of what `read` would see now (talentbrief.reads.current)."""
        from talentbrief import reads

        key = canonical_json({k: v for k, v in read.items() if k != "sha256"})
        if key not in self._reads:
            self._reads[key] = reads.current(read, self.paths.root, lambda r: read_digest(r, self.tables()))
        return self._reads[key]

    def static(self, spec) -> dict[str, str]:
        """The components known without running the report (everything but its data)."""
        if self._src is None:
            self._src = report_code(self.paths.src)
        return {
            "notebook": self.file(spec.notebook),
            "src": self._src,
            "requirements.lock": self.file(self.paths.lockfile.name),
            "parameters": sha256_bytes(canonical_json(spec.parameters)),
        }


def key(components: dict[str, str]) -> str:
    return sha256_bytes(canonical_json(components))


def current_key(spec, entry: dict[str, Any] | None, context: Context) -> str | None:
    """The key the report of `entry` would be built under now; None if the entry recorded no reads."""
    if not entry or not isinstance(entry.get("reads"), list):
        return None
    now = [{**r, "sha256": context.read(r)} for r in entry["reads"]]
    return key({**context.static(spec), "data": data_component(now)})


def recorded_key(
    static: dict[str, str], inputs: dict[str, Any] | None
) -> tuple[str | None, dict[str, str], list[dict[str, Any]] | None]:
    """(key, components, reads) from what the run saw; no key if it recorded nothing (never up to date)."""
    if not inputs or not isinstance(inputs.get("data"), list):
        return None, dict(static), None
    components = {**static, "notebook": inputs.get("notebook", static["notebook"]),
                  "data": data_component(inputs["data"])}
    return key(components), components, inputs["data"]


def read_digest(read: dict, tables) -> str:
    """sha256 of a recorded table or query read, replayed on `tables` (talentbrief.reads.current)."""
    from talentbrief import load, scope  # noqa: F401 - scope registers its queries with the loader

    if "table" in read:
        if read["table"] not in load.TABLES:
            raise KeyError(read["table"])
        return load.table_digest(object.__getattribute__(tables, read["table"]))
    return load.answer_digest(load.QUERIES[read["query"]](load.plain(tables), **read["args"]))
