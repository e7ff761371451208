"""A content-addressed cache between processes (in `paths.cache_dir()`): it spares each build the 0.8 s
of importing Frictionless and papermill for answers that change only with their inputs. Only successes
are stored (invalid data is always reported in full); a cache that cannot be used is not used."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from talentbrief import fingerprint
from talentbrief import paths as paths_mod


def key(*parts: bytes | str | Path) -> str:
    """sha256 over the parts (files by content), the running code's environment included."""
    digest = hashlib.sha256(fingerprint.environment().encode())
    for part in parts:
        data = part.read_bytes() if isinstance(part, Path) else part
        data = data.encode("utf-8") if isinstance(data, str) else data
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _enabled() -> bool:
    return os.environ.get("TALENTBRIEF_MEMO", "1") != "0"


def _path(kind: str, digest: str) -> Path:
    return paths_mod.cache_dir() / kind / digest


def get(kind: str, digest: str) -> bytes | None:
    with contextlib.suppress(OSError):
        return _path(kind, digest).read_bytes() if _enabled() else None
    return None


def put(kind: str, digest: str, data: bytes) -> None:
    """Store atomically (a reader sees all of it or nothing); errors are ignored."""
    if _enabled():
        with contextlib.suppress(OSError):
            paths_mod.atomic_write(_path(kind, digest), data)


def templates():
    """Jinja's bytecode cache (None when off or unwritable): each run's fresh modules recompile templates."""
    if not _enabled():
        return None
    import jinja2

    folder = paths_mod.cache_dir() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))
