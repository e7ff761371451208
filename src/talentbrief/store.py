"""Everything that writes into reports/, only from the build's parent process: atomic writes, only of
changed bytes, under a flock that dies with its holder. So that the manifest never vouches for a file a
kill left half-written, a report whose files change sits under "pending" while they are written; the
next build adopts a pending entry whose files match and drops the others (`reconcile`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from talentbrief.digests import sha256_bytes, sha256_file
from talentbrief.errors import TalentbriefError
from talentbrief.jobs import JobFailure, Outputs
from talentbrief.paths import Paths, atomic_write

MANIFEST_VERSION = 1


def _holds(path: Path, data: bytes) -> bool:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        return Path(path).read_bytes() == data
    return False


def write_if_changed(path: Path, data: bytes) -> bool:
    """atomic_write unless the file already holds exactly `data`; True if written."""
    if _holds(path, data):
        return False
    atomic_write(path, data)
    return True


class LockBusy(TalentbriefError):
    """Another build holds the lock (exit 1: nothing was wrong with the input)."""

    exit_code = 1


class StoreError(TalentbriefError):
    """reports/ cannot be used (not writable, lock path not a plain file): a one-line reason (exit 2)."""


def _lock_fd(paths: Paths) -> int:
    """Open (creating) the lock file, never through a symlink; StoreError with the reason otherwise."""
    lock = paths.build_lock
    try:
        paths.reports.mkdir(parents=True, exist_ok=True)
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            why = "is a symlink (not followed); remove it"
        elif exc.errno == errno.EISDIR or lock.is_dir():
            why = "is a folder; remove it"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise StoreError(f"cannot write to {exc.filename or lock}: {exc.strerror}") from None
        else:
            why = f"cannot be opened: {exc.strerror}"
        raise StoreError(f"lock file {lock} {why}") from None


@contextlib.contextmanager
def build_lock(paths: Paths, *, wait: bool = True, timeout: float | None = None,
               on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the exclusive build lock: LockBusy without `wait` or after `timeout` s, StoreError if unusable."""
    fd = _lock_fd(paths)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        for attempt in itertools.count():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not wait:
                    raise LockBusy(f"another build holds {paths.build_lock}") from None
                if attempt == 0 and on_wait:
                    on_wait()
                if deadline is not None and time.monotonic() >= deadline:
                    why = f"another build still holds {paths.build_lock} after {timeout:g} s"
                    raise LockBusy(why) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing drops the flock


def read_manifest(paths: Paths, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The manifest, or an empty one if missing or unreadable (then `warn` says so; all is rebuilt)."""
    empty = {"version": MANIFEST_VERSION, "reports": {}}
    try:
        data = json.loads(paths.manifest.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return empty
    except (OSError, ValueError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    else:
        if (isinstance(data, dict) and data.get("version") == MANIFEST_VERSION
                and isinstance(data.get("reports"), dict) and isinstance(data.get("pending", {}), dict)
                and all(isinstance(e, dict) for e in data["reports"].values())):
            return data
        why = "not a talentbrief manifest of this version"
    if warn is not None:
        warn(f"{paths.manifest} is unreadable ({why}); every report it listed will be rebuilt")
    return empty


def outputs_match(paths: Paths, entry: dict[str, Any] | None, formats=None, *, hashes: bool = True) -> bool:
    """The outputs `entry` records (those of `formats`, or all) are files in reports/, with the recorded
    sha256 unless `hashes` is False: the one check that the manifest's files are on disk."""
    outputs = (entry or {}).get("outputs") or {}
    for fmt in outputs if formats is None else formats:
        out = outputs.get(fmt) or {}
        path = paths.reports / str(out.get("file", ""))
        if path.parent != paths.reports or not path.is_file():
            return False
        if hashes and sha256_file(path) != out.get("sha256"):
            return False
    return bool(outputs)


def reconcile(paths: Paths, manifest: dict[str, Any]) -> dict[str, Any]:
    """After a kill (under the lock, before any write): adopt matching pending entries, drop the rest."""
    for folder in (paths.reports, paths.failed, paths.executed):
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():  # never a real output
            tmp.unlink(missing_ok=True)
    pending = manifest.pop("pending", None)
    if pending:
        for rid, entry in pending.items():
            if isinstance(entry, dict) and outputs_match(paths, entry):
                manifest["reports"][rid] = entry
        write_manifest(paths, manifest)
    return manifest


def write_manifest(paths: Paths, manifest: dict[str, Any]) -> bool:
    data = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return write_if_changed(paths.manifest, data.encode())


def up_to_date(paths: Paths, entry: dict[str, Any] | None, input_sha256: str | None,
               formats: tuple[str, ...]) -> bool:
    """The manifest says this input built these outputs, and they are on disk unchanged."""
    fresh = bool(entry) and input_sha256 is not None and entry.get("input_sha256") == input_sha256
    return fresh and outputs_match(paths, entry, formats)


def clear_failure(paths: Paths, report_id: str) -> None:
    """Remove the report's record under _failed/ (it built, or is up to date again)."""
    for ext in (".txt", ".ipynb", ".html"):
        (paths.failed / f"{report_id}{ext}").unlink(missing_ok=True)


def has_failed(paths: Paths, report_id: str) -> bool:
    return (paths.failed / f"{report_id}.txt").is_file()


def store_success(paths: Paths, manifest: dict[str, Any], spec, outputs: Outputs, input_sha256: str | None,
                  components: dict[str, str], reads: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write a built report's files (its entry "pending" meanwhile), then record it. None for
    `input_sha256` or `reads` (the run recorded nothing: hashing.recorded_key) leaves it stale."""
    data = {fmt: getattr(outputs, fmt) for fmt in spec.formats}
    if missing := [fmt for fmt, b in data.items() if b is None]:
        raise ValueError(f"{spec.id}: the renderer returned no {missing[0]}")
    files = {fmt: {"file": f"{spec.id}.{fmt}", "sha256": sha256_bytes(b)} for fmt, b in data.items()}
    changing = [fmt for fmt in spec.formats if not _holds(paths.reports / files[fmt]["file"], data[fmt])]
    entry = {
        "id": spec.id,
        "notebook": spec.notebook,
        "parameters": spec.parameters,
        "formats": list(spec.formats),
        "title": outputs.title,
        "lang": outputs.lang,
        "as_of": outputs.as_of,
        "input_sha256": input_sha256,
        "inputs": components,
        "reads": reads,
        "outputs": files,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": round(outputs.duration_s, 3),
    }
    if changing:
        manifest["reports"].pop(spec.id, None)
        manifest.setdefault("pending", {})[spec.id] = entry
        write_manifest(paths, manifest)
        for fmt in changing:
            atomic_write(paths.reports / files[fmt]["file"], data[fmt])
    if outputs.executed:
        write_if_changed(paths.executed / f"{spec.id}.ipynb", outputs.executed)
    clear_failure(paths, spec.id)
    manifest["reports"][spec.id] = entry
    manifest.get("pending", {}).pop(spec.id, None)
    if not manifest.get("pending"):
        manifest.pop("pending", None)
    write_manifest(paths, manifest)
    return entry


def store_failure(paths: Paths, failure: JobFailure) -> None:
    """Record why a report failed under _failed/; its previous good files stay as they are."""
    rid = failure.report_id
    text = f"report: {rid}\nfailed in: {failure.where}\n\n{failure.message}\n"
    atomic_write(paths.failed / f"{rid}.txt", text.encode())
    if failure.executed:
        atomic_write(paths.failed / f"{rid}.ipynb", failure.executed)
        try:
            from talentbrief import render

            page = render.failure_html(failure.executed, title=f"{rid} (failed)")
        except Exception:  # noqa: BLE001 - a debugging aid must not hide the real failure
            page = None
        if page is not None:
            atomic_write(paths.failed / f"{rid}.html", page)
    else:
        for ext in (".ipynb", ".html"):
            (paths.failed / f"{rid}{ext}").unlink(missing_ok=True)


def index_bytes(manifest: dict[str, Any], order: list[str] | None = None) -> bytes:
    """index.html (catalogue.html.j2) of every report in the manifest; no clock, so it is stable."""
    from talentbrief import macros

    reports = manifest["reports"]
    rank = {rid: n for n, rid in enumerate(order or [])}
    rows = []
    for rid in sorted(reports, key=lambda rid: (rank.get(rid, len(rank)), rid)):
        r, outputs = reports[rid], reports[rid].get("outputs", {})
        files = [{"href": outputs[f]["file"], "label": f.upper()} for f in ("html", "pdf") if f in outputs]
        rows.append({"title": r.get("title") or rid, "lang": r.get("lang") or "",
                     "as_of": r.get("as_of") or "", "files": files})
    return macros.page("catalogue.html.j2", reports=rows).encode()


def write_index(paths: Paths, manifest: dict[str, Any], order: list[str] | None = None) -> bool:
    return write_if_changed(paths.index, index_bytes(manifest, order))
