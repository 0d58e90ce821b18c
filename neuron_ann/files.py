"""Writing a file whole or not at all, for everything a crash must not leave half-written
(simulations, dataset records, checkpoints)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_whole"]


def write_whole(path, save) -> None:
    """``save(tmp)`` writes to a temporary name beside ``path``, which is then renamed to ``path``:
    a crash or a second process never sees half a file. The temporary name keeps ``path``'s
    ending (Keras and numpy insist on theirs) and starts with ``.`` and this process's id."""
    path = Path(path)
    tmp = path.with_name(f".{os.getpid()}.{path.name}")
    save(tmp)
    os.replace(tmp, path)
