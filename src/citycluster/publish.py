"""Atomic publication: readers see the old outputs or the new ones, never a mixture.

Write-audit-publish needs a last step that cannot leave a half-published folder behind when a run
is interrupted. A folder is replaced by two renames on the same file system; a crash between them
is repaired by :func:`recover` at the start of the next run.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl


def _old(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def recover(target: Path) -> None:
    """Undo a swap that was interrupted between its two renames."""
    old = _old(target)
    if old.exists():
        if target.exists():
            shutil.rmtree(old)
        else:
            os.rename(old, target)


def swap_directory(new: Path, target: Path) -> None:
    """Make ``new`` the content of ``target``; the previous content is removed afterwards."""
    recover(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    old = _old(target)
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    if old.exists():
        shutil.rmtree(old)


def fresh_sibling(target: Path, suffix: str) -> Path:
    """An empty folder beside ``target`` (same file system, so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.{suffix}.", dir=target.parent))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file so that no reader ever sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; publish like open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    """Text variant of :func:`write_bytes_atomic` (UTF-8, newline as given)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def parquet_bytes(df: pl.DataFrame) -> bytes:
    """Parquet with statistics off, so identical tables give identical bytes."""
    buf = io.BytesIO()
    df.write_parquet(buf, statistics=False, compression="zstd")
    return buf.getvalue()


def write_parquet_atomic(df: pl.DataFrame, path: Path) -> None:
    """Parquet variant of :func:`write_bytes_atomic`."""
    write_bytes_atomic(path, parquet_bytes(df))
