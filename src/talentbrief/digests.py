"""sha256 digests of bytes, files, folders and JSON: what the kernel's read recorder (talentbrief.reads)
and the build's cache key (talentbrief.hashing) both take, so they agree on every digest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from talentbrief import paths as paths_mod


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


def tree_hash(folder: Path) -> str:
    """Hash of every file's relative path and bytes, in sorted order (caches excluded: paths.files)."""
    h = hashlib.sha256()
    for name, path in paths_mod.files(folder):
        h.update(name.encode() + b"\0")
        h.update(sha256_file(path).encode() + b"\0")
    return h.hexdigest()


def conservative_hash(root: Path) -> str:
    """data/, notebooks/ and the root's own files: the key of reads that name no file (reads.CONSERVATIVE)."""
    root = Path(root)
    h = hashlib.sha256()
    for folder in ("data", "notebooks"):
        h.update(folder.encode() + b"\0" + tree_hash(root / folder).encode() + b"\0")
    for path in sorted(root.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            h.update(path.name.encode() + b"\0" + sha256_file(path).encode() + b"\0")
    return h.hexdigest()
