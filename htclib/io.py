"""Atomic, verified file writes: nothing half-written is ever read back as valid.

Every write goes to a temporary file in the same folder and is renamed into place (atomic on
POSIX). :func:`write_manifest` records size and SHA-256 of a folder's files so a truncated or
corrupted file is detected on load (:func:`verify_manifest`) instead of being used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


class CorruptFileError(RuntimeError):
    """A file does not match the size/hash recorded when it was written."""


def ensure_writable_dir(folder: str | os.PathLike) -> Path:
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PermissionError(f"cannot create output folder {folder}: {e.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"output folder {folder} is not writable")
    return folder


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    ensure_writable_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would (others on a
        # shared machine can read the records and artifacts)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(
        path, json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable) + "\n"
    )


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CorruptFileError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(folder: str | os.PathLike, files: list[str]) -> Path:
    """Record size and hash of ``files`` (names inside ``folder``) in ``folder/MANIFEST.json``."""
    folder = Path(folder)
    entries = {
        f: {"bytes": (folder / f).stat().st_size, "sha256": sha256_file(folder / f)} for f in files
    }
    return atomic_write_json(folder / "MANIFEST.json", entries)


def verify_manifest(folder: str | os.PathLike) -> None:
    """Raise :class:`CorruptFileError` naming the first file that is missing, truncated or altered."""
    folder = Path(folder)
    mf = folder / "MANIFEST.json"
    if not mf.exists():
        raise CorruptFileError(f"{folder}: no MANIFEST.json (incomplete write?)")
    for name, want in read_json(mf).items():
        f = folder / name
        if not f.exists():
            raise CorruptFileError(f"{f}: missing (listed in MANIFEST.json)")
        size = f.stat().st_size
        if size != want["bytes"]:
            raise CorruptFileError(f"{f}: {size} bytes, expected {want['bytes']} (truncated?)")
        if sha256_file(f) != want["sha256"]:
            raise CorruptFileError(f"{f}: content hash differs from MANIFEST.json (corrupted)")


def _jsonable(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


CLAIM = ".grid-claim"


def _alive_python(pid: int) -> bool:
    """Is ``pid`` a live Python process (not a pid recycled by something else)?"""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"python" in cmd


def claim_holder(folder: Path) -> int:
    """The pid of the live Python process holding ``folder``'s claim, 0 when none does (no
    claim, an unreadable one, or one whose process died)."""
    try:
        pid = int((folder / CLAIM).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0
    return pid if pid and _alive_python(pid) else 0


def claim(folder: Path) -> bool:
    """Take ``folder`` for this process, so several workers (grid workers in two shells, two
    local runs sharing a level) never train the same thing at once; a claim whose process died
    is taken over, this process may re-enter its own."""
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / CLAIM
    for _ in range(2):
        try:
            fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = claim_holder(folder)
            if pid == os.getpid():
                return True
            if pid:
                return False
            f.unlink(missing_ok=True)  # stale: its worker died
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return True
    return False


def release(folder: Path) -> None:
    (folder / CLAIM).unlink(missing_ok=True)
