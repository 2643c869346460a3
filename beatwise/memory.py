"""Handing freed memory back to the operating system between a run's heavy steps."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_freed_memory() -> None:
    """Return the heap pages Python has freed. glibc keeps them for reuse, so after the ingest's frames
    are gone the run process still holds hundreds of MB while `dbt build` (a child process) needs its own."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to hand back this way
        pass
