"""Results that are pure functions of some bytes, kept between processes (a content-addressed cache).

Every build checks its data with Frictionless and reads its notebooks' parameters with papermill;
importing those two costs about 0.8 s per process before any report can start, for answers that
only change when the data, the notebooks, our checking code or the installed packages change. The
key of each entry is a sha256 over exactly those inputs, so a stale entry cannot be found, and only
successful answers are stored: invalid data is always checked again and reported in full.

Entries live in `paths.cache_dir()`; a cache that cannot be read or written is simply not used.
"""

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
    if not _enabled():
        return None
    try:
        return _path(kind, digest).read_bytes()
    except OSError:
        return None


def put(kind: str, digest: str, data: bytes) -> None:
    """Store atomically (a reader sees all of it or nothing); errors are ignored."""
    if not _enabled():
        return
    with contextlib.suppress(OSError):
        paths_mod.atomic_write(_path(kind, digest), data)


def templates():
    """Jinja's own bytecode cache in the same folder (None when switched off or not writable): every
    notebook run starts with fresh talentbrief modules, and compiling sections.html.j2 costs about
    15 ms of each; Jinja finds an entry by template name and checks it against the source's checksum."""
    if not _enabled():
        return None
    import jinja2

    folder = paths_mod.cache_dir() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))
