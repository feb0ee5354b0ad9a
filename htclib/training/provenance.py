"""Where a record came from: the code (git commit, dirty or not, a hash of the package's
source), the packages, the machine (CPU model, vector ISA, threads) and the time.

Every run record carries :func:`provenance` so that seeds are pooled only when they were
trained by the same code and settings, and a number can be traced to what produced it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # htclib/
REPO_DIR = PACKAGE_DIR.parent


def cpuinfo(key: str) -> str | None:
    """The value of the first ``key`` line of /proc/cpuinfo (None where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            line = next(ln for ln in f if ln.startswith(key))
    except (OSError, StopIteration):
        return None
    return line.split(":", 1)[1].strip()


def cpu_flags() -> set[str]:
    """The CPU's feature flags (empty where they cannot be read)."""
    return set((cpuinfo("flags") or "").split())


def vector_isa(flags: set[str]) -> str:
    """The widest fp32 FMA vector ISA: 'AVX-512', 'AVX2', 'other', or 'unknown' (no flags)."""
    if not flags:
        return "unknown"
    if "avx512f" in flags:
        return "AVX-512"
    return "AVX2" if "avx2" in flags and "fma" in flags else "other"


def _git(*args: str, strip: bool = True) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() if strip else out.stdout


def git_state() -> dict:
    """``{"commit", "dirty", "dirty_paths"}`` of the checkout holding this package.
    Dirty counts tracked files changed under ``htclib/`` and ``pyproject.toml`` only: the code
    that decides a result (committed records and regenerated tables change the tree all the
    time and decide nothing). None where this is no git checkout (an installed wheel)."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "dirty_paths": []}
    status = _git(
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        "htclib",
        "pyproject.toml",
        strip=False,
    )
    paths = [ln[3:] for ln in (status or "").splitlines() if ln.strip()]
    return {"commit": commit, "dirty": bool(paths), "dirty_paths": paths}


@lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 (12 hex) over the package's ``.py`` files, path and bytes: the same hash means
    the same code, committed or not."""
    h = hashlib.sha256()
    for f in sorted(PACKAGE_DIR.rglob("*.py")):
        h.update(str(f.relative_to(PACKAGE_DIR)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("torch", "transformers", "peft", "numpy", "scikit-learn", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict:
    """CPU model, vector ISA, native bf16, cores, torch threads, GPU (None without one)."""
    import torch

    from .precision import native_bf16

    return {
        "cpu": cpuinfo("model name") or platform.processor() or "unknown",
        "isa": vector_isa(cpu_flags()),
        "native_bf16": native_bf16("cpu"),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def utc_now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance() -> dict:
    """Everything above in one dict, for a run record (``result.json["provenance"]``), taken
    when the run starts: the code that trains it."""
    return {
        **git_state(),
        "source_hash": source_hash(),
        "packages": package_versions(),
        "machine": machine(),
        "started_utc": utc_now(),
    }
