"""Which bundle serves which cell type: the user's bundles, registered ones, shipped ones."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..bundle import METADATA_KEY, Bundle, load, shipped_bundles
from ..errors import BundleError, SwapError

__all__ = ["register_bundle", "registered_bundles", "resolve_bundles", "bundle_for"]

log = logging.getLogger("neuron_ann.bridge")

_registered: list[Bundle] = []
# (path, mtime_ns, size) -> Bundle, or (BundleError, cell_type dict or None) for an unusable file
_shipped_cache: dict = {}


class Candidates(list):
    """Bundles in order of precedence, plus the shipped files that could not be used (``unusable``)."""

    unusable: list  # (path, BundleError, cell_type dict or None)

    def __init__(self, items=(), unusable=()):
        super().__init__(items)
        self.unusable = list(unusable)


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


def _raw_cell_type(path: Path):
    """The ``cell_type`` of a bundle file that does not pass :func:`neuron_ann.bundle.load`, if it can be read at all."""
    try:
        from ..runtime.providers import cpu_session

        session = cpu_session(path.read_bytes())
        cell_type = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])["cell_type"]
        return cell_type if isinstance(cell_type, dict) else None
    except Exception:  # a corrupted file: its type is unknown
        return None


def _shipped():
    """Usable shipped bundles, and (path, error, cell_type) for shipped files that are not.

    An unusable shipped file (an older bundle format, a damaged install) must not stop swaps
    that do not need it; :func:`bundle_for` raises its error when a cell needs it.
    """
    usable, unusable = [], []
    for path in shipped_bundles():
        stat = path.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in _shipped_cache:
            try:
                _shipped_cache[key] = load(path)
            except BundleError as exc:
                # keep only the message: a cached traceback would keep the caller's frames (and
                # with them the user's cells and NetCons) alive for the rest of the session
                _shipped_cache[key] = (BundleError(str(exc)), _raw_cell_type(path))
                log.warning("neuron_ann: shipped bundle %s cannot be used: %s", path, exc)
        entry = _shipped_cache[key]
        if isinstance(entry, Bundle):
            usable.append(entry)
        else:
            unusable.append((path, *entry))
    return usable, unusable


def resolve_bundles(bundles=None) -> Candidates:
    """Bundles in order of precedence: given, then registered, then shipped."""
    given = []
    if bundles is not None:
        if isinstance(bundles, (str, Path, Bundle)):
            bundles = [bundles]
        elif isinstance(bundles, dict):
            bundles = list(bundles.values())
        given = [_as_bundle(b) for b in bundles]
    usable, unusable = _shipped()
    return Candidates(given + list(_registered) + usable, unusable)


def bundle_for(type_name: str, candidates: list[Bundle]) -> Bundle | None:
    """The first candidate for ``type_name``, or None.

    Raises:
        BundleError: no usable bundle matches, but a shipped file for this type cannot be used.
    """
    for bundle in candidates:
        if bundle.matches(type_name):
            return bundle
    for path, error, cell_type in getattr(candidates, "unusable", ()):
        if cell_type and type_name in (cell_type.get("python_class"), cell_type.get("hoc_template")):
            raise BundleError(
                f"the shipped surrogate for {type_name} cannot be used: {error} Pass a usable bundle with "
                "bundles=[path] (or register_bundle(path)), or leave these cells out of cells=."
            )
    return None


def unusable_note(candidates) -> str:
    """Text naming shipped bundle files that could not be read (for 'no surrogate bundle' messages)."""
    unusable = getattr(candidates, "unusable", ())
    if not unusable:
        return ""
    return " Shipped bundle files that cannot be used: " + "; ".join(f"{path} ({error})" for path, error, _ in unusable) + "."


def _reset_for_tests() -> None:
    _registered.clear()
