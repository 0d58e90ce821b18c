"""``neuron-ann convert``: turn a ModelDB-style model folder into a cell description.

A ModelDB folder typically holds ``.mod`` files (at the top or in a sub-folder), hoc files
defining cell templates (``begintemplate Name``) and a ``mosinit.hoc`` that opens a GUI.
``convert`` finds the mechanisms and templates without running ``mosinit.hoc``, compiles
the mechanisms into the per-user cache (the model's own versions take precedence over
neuron_ann's channels of the same name), instantiates each template in a separate process
to check that it builds and has a soma, and writes ``neuron_ann_cell.json``. That file is
a valid CELL argument of ``neuron-ann train``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .errors import NeuronAnnError

__all__ = ["convert_command", "convert_folder", "load_converted", "DESCRIPTION_NAME"]

DESCRIPTION_NAME = "neuron_ann_cell.json"
_TEMPLATE_RE = re.compile(r"^\s*begintemplate\s+(\w+)", re.MULTILINE)
_SKIP_HOC = {"mosinit.hoc", "init.hoc", "run.hoc"}


class ConvertError(NeuronAnnError, ValueError):
    """The folder cannot be turned into a cell description."""


def _templates(folder: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(folder.rglob("*.hoc")):
        if path.name in _SKIP_HOC:
            continue
        for name in _TEMPLATE_RE.findall(path.read_text(errors="replace")):
            found.setdefault(name, path)
    return found


def _probe(description: dict) -> dict:
    """Build each template in a fresh process; return {template: fingerprint or error text}."""
    code = (
        "import json, sys\n"
        "from neuron_ann.convert import load_converted\n"
        "from neuron_ann import celltools\n"
        "desc = json.loads(sys.argv[1]); out = {}\n"
        "for name in desc['templates']:\n"
        "    try:\n"
        "        cell = load_converted(desc, template=name)()\n"
        "        celltools.soma_of(cell)\n"
        "        out[name] = celltools.fingerprint(cell)\n"
        "    except Exception as exc:\n"
        "        out[name] = 'error: ' + str(exc).splitlines()[0][:300]\n"
        "print('NEURON_ANN_PROBE' + json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(description)], capture_output=True, text=True, timeout=900)
    for line in proc.stdout.splitlines():
        if line.startswith("NEURON_ANN_PROBE"):
            return json.loads(line[len("NEURON_ANN_PROBE"):])
    raise ConvertError(f"building the templates failed:\n{(proc.stdout + proc.stderr)[-2000:]}")


def convert_folder(folder, out=None) -> dict:
    """Describe the cell templates of ``folder`` and write ``neuron_ann_cell.json``.

    Raises:
        ConvertError: no folder, no hoc template, or no template that builds with a soma.
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ConvertError(f"model folder '{folder}' does not exist; pass the unpacked ModelDB folder.")
    mod_dirs = sorted({str(p.parent) for p in folder.rglob("*.mod")})
    templates = _templates(folder)
    if not templates:
        raise ConvertError(
            f"no hoc cell template (begintemplate NAME) found under '{folder}'; neuron_ann needs a template it can "
            "instantiate once per cell. Wrap the cell's code in a template and run convert again."
        )
    if mod_dirs:
        from . import mechanisms

        mechanisms.library_path(mod_dirs, include_package=True, override_package=True)
    description = {
        "format": "neuron_ann_cell/1",
        "folder": str(folder),
        "mod_dirs": mod_dirs,
        "hoc_files": sorted({str(p) for p in templates.values()}),
        "templates": sorted(templates),
    }
    probed = _probe(description)
    description["cells"] = probed
    usable = [name for name, fp in probed.items() if isinstance(fp, dict)]
    if not usable:
        details = "; ".join(f"{name}: {msg}" for name, msg in probed.items())
        raise ConvertError(f"none of the templates in '{folder}' builds a cell with a soma ({details}).")
    description["default_template"] = max(usable, key=lambda name: probed[name]["n_segments"])
    out = Path(out) if out else folder / DESCRIPTION_NAME
    out.write_text(json.dumps(description, indent=2))
    description["path"] = str(out)
    return description


def load_converted(description, template: str | None = None):
    """Load a converted model's mechanisms and hoc files; return a factory for its cells.

    Args:
        description: the dictionary written by :func:`convert_folder`, or the path of its JSON file.
        template: which template to build (default: the one ``convert`` chose).
    """
    if not isinstance(description, dict):
        path = Path(description)
        if not path.is_file():
            raise ConvertError(f"cell description '{path}' does not exist; run 'neuron-ann convert FOLDER' first.")
        description = json.loads(path.read_text())
    from neuron import h

    from . import mechanisms

    if description.get("mod_dirs"):
        mechanisms.load(description["mod_dirs"], include_package=True, override_package=True)
    else:
        mechanisms.load()
    h.load_file("stdrun.hoc")
    if not all(hasattr(h, name) for name in description["templates"]):
        for hoc_file in description["hoc_files"]:
            try:
                loaded = h.load_file(hoc_file)
            except RuntimeError:
                loaded = False
            if not loaded:
                raise ConvertError(
                    f"NEURON could not load '{hoc_file}' (run it with nrniv to see the hoc error; a template of the "
                    "same name defined earlier in this process also stops it: use a fresh process)."
                )
    name = template or description.get("default_template") or description["templates"][0]
    if not hasattr(h, name):
        raise ConvertError(f"template {name!r} is not defined; valid templates: {', '.join(description['templates'])}")
    return getattr(h, name)


def convert_command(args) -> int:
    description = convert_folder(args.folder, args.out)
    print(f"model folder: {description['folder']}")
    print(f"mechanism folders: {', '.join(description['mod_dirs']) or 'none'}")
    for name, result in description["cells"].items():
        if isinstance(result, dict):
            print(f"template {name}: {result['n_sections']} sections, {result['n_segments']} segments, "
                  f"{result['area_um2']:.0f} um2")
        else:
            print(f"template {name}: {result}")
    print(f"wrote {description['path']}; train with: neuron-ann train {description['path']} --out MODEL.onnx")
    return 0
