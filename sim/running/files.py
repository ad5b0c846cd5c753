"""Atomic file writes for run outputs.

Every writer puts the data in a hidden temporary file in the destination's own directory,
flushes it to disk and then renames it over the destination with :func:`os.replace`. A reader
(a notebook, a sweep collector, a crashed job's leftovers) therefore sees either the previous
complete file or the new complete file, never a half-written one. Temporary files are named
``.<name>.<random>.tmp`` so that globs like ``*.parquet`` do not pick them up.
"""

from __future__ import annotations

import datetime
import enum
import json
import math
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_parquet_atomic", "write_json_atomic", "write_text_atomic", "atomic_path", "to_jsonable"]


def _fsync_path(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def atomic_path(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` to write a temporary file, then move it to ``path`` in one step.

    Args:
        path: destination file; its directory must exist.
        write: function that writes the complete file at the temporary path it is given.

    Returns:
        The destination path.
    """
    dest = Path(path)
    # A fresh name in the same directory (so os.replace is a rename on one file system); the
    # writer creates it with the usual permissions.
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        write(tmp)
        _fsync_path(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def write_parquet_atomic(
    df, path: str | os.PathLike, fields: Mapping[str, Mapping[str, str]] | None = None, **kwargs: Any
) -> Path:
    """Write a pandas DataFrame to Parquet atomically (no index unless ``index=True``).

    Args:
        df: the table.
        path: destination file.
        fields: ``{column: {"unit": ..., "meaning": ...}}``, stored as the Parquet field metadata
            of those columns (read it with ``pyarrow.parquet.read_schema(path).field(name).metadata``).
        **kwargs: passed to :meth:`pandas.DataFrame.to_parquet`.
    """
    kwargs.setdefault("index", False)
    if fields:
        kwargs["schema"] = _schema_with_fields(df, fields, kwargs["index"])
    return atomic_path(path, lambda tmp: df.to_parquet(tmp, **kwargs))


def _schema_with_fields(df, fields: Mapping[str, Mapping[str, str]], index: bool | None):
    """The Arrow schema pandas would write for ``df``, with metadata on the named columns."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(df, preserve_index=index)
    for i, f in enumerate(schema):
        meta = fields.get(f.name)
        if meta:
            schema = schema.set(
                i, f.with_metadata({str(k).encode(): str(v).encode() for k, v in meta.items()})
            )
    return schema


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write a text file atomically."""
    return atomic_path(path, lambda tmp: tmp.write_text(text, encoding=encoding))


def to_jsonable(obj: Any) -> Any:
    """Plain JSON data from nested mappings, sequences, NumPy scalars, paths, enums and dates.

    NaN and infinite floats become ``None`` (strict JSON has no NaN).
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, enum.Enum):
        return obj.name
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, (datetime.date, datetime.datetime)):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def write_json_atomic(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    """Write ``obj`` as strict JSON atomically (see :func:`to_jsonable` for conversions)."""
    text = json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text)
