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
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tree_hash(folder: Path) -> str:
    """Hash of every file's relative path and bytes, in sorted order (caches excluded: paths.files)."""
    return sha256_bytes(canonical_json([(name, sha256_file(path)) for name, path in paths_mod.files(folder)]))


def conservative_hash(root: Path) -> str:
    """data/, notebooks/ and the root's own files: the key of reads that name no file (reads.CONSERVATIVE)."""
    root = Path(root)
    parts = [(folder, tree_hash(root / folder)) for folder in ("data", "notebooks")]
    parts += [(path.name, sha256_file(path)) for path in sorted(root.iterdir())
              if path.is_file() and not path.name.startswith(".")]
    return sha256_bytes(canonical_json(parts))
