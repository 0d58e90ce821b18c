"""Which bundle serves which cell type: the user's bundles, registered ones, shipped ones."""

from __future__ import annotations

from pathlib import Path

from ..bundle import Bundle, load, shipped_bundles
from ..errors import SwapError

__all__ = ["register_bundle", "registered_bundles", "resolve_bundles"]

_registered: list[Bundle] = []
_shipped_cache: dict[Path, Bundle] = {}


def _as_bundle(item) -> Bundle:
    if isinstance(item, Bundle):
        return item
    if isinstance(item, (str, Path)):
        return load(item)
    raise SwapError(f"bundles entries must be Bundle objects or paths of .onnx bundles, got {item!r}.")


def register_bundle(bundle) -> Bundle:
    """Make ``bundle`` (a Bundle or a path) available to every later :func:`swap_to_ann`; it wins over shipped ones."""
    bundle = _as_bundle(bundle)
    _registered.insert(0, bundle)
    return bundle


def registered_bundles() -> list[Bundle]:
    return list(_registered)


def _shipped() -> list[Bundle]:
    out = []
    for path in shipped_bundles():
        if path not in _shipped_cache:
            _shipped_cache[path] = load(path)
        out.append(_shipped_cache[path])
    return out


def resolve_bundles(bundles=None) -> list[Bundle]:
    """Bundles in order of precedence: given, then registered, then shipped."""
    given = []
    if bundles is not None:
        if isinstance(bundles, (str, Path, Bundle)):
            bundles = [bundles]
        elif isinstance(bundles, dict):
            bundles = list(bundles.values())
        given = [_as_bundle(b) for b in bundles]
    return given + list(_registered) + _shipped()


def bundle_for(type_name: str, candidates: list[Bundle]) -> Bundle | None:
    for bundle in candidates:
        if bundle.matches(type_name):
            return bundle
    return None


def _reset_for_tests() -> None:
    _registered.clear()
