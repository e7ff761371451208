"""Reading a built project's reports/: the manifest, the report ids, output hashes.

The manifest's shape is the store's (talentbrief.store); these helpers accept its documented content
(per report: id, notebook, parameters, input hashes, sha256 of each output, built_at, duration) and
tolerate either a mapping or a list of reports.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_manifest(root: Path) -> dict:
    path = Path(root) / "reports" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_reports(manifest: dict) -> dict[str, dict]:
    reports = manifest.get("reports", manifest)
    if isinstance(reports, list):
        return {entry["id"]: entry for entry in reports}
    return {key: value for key, value in reports.items() if isinstance(value, dict)}


def _find_hashes(node, key_hint: str = "") -> dict[str, str]:
    """Collect {file name or format: sha256} from an entry's outputs, whatever nesting the store chose."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        path = node.get("path") or node.get("file") or node.get("name")
        digest = node.get("sha256") or node.get("hash")
        if isinstance(digest, str) and len(digest) == 64:
            found[str(path or key_hint)] = digest
        for key, value in node.items():
            if isinstance(value, str) and len(value) == 64 and key not in ("sha256", "hash"):
                found[key] = value
            elif isinstance(value, (dict, list)):
                found.update(_find_hashes(value, key))
    elif isinstance(node, list):
        for item in node:
            found.update(_find_hashes(item, key_hint))
    return found


def output_files(root: Path, report_id: str, entry: dict) -> dict[Path, str]:
    """{output file: sha256 recorded} for one manifest entry (html and pdf)."""
    outputs = entry.get("outputs")
    assert outputs, f"manifest entry {report_id} lists no outputs: {entry}"
    reports = Path(root) / "reports"
    result: dict[Path, str] = {}
    for key, digest in _find_hashes(outputs).items():
        name = Path(key).name
        if name in ("html", "pdf"):
            name = f"{report_id}.{name}"
        if not name.endswith((".html", ".pdf")):
            continue
        result[reports / name] = digest
    assert result, f"manifest entry {report_id}: no html/pdf output hash found in {outputs}"
    return result


def report_ids(root: Path) -> list[str]:
    return sorted(manifest_reports(load_manifest(root)))


def manifest_lang(entry: dict) -> str | None:
    for key in ("lang",):
        if key in entry:
            return entry[key]
    params = entry.get("parameters") or {}
    return params.get("lang")
