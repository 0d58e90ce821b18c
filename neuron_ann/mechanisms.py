"""Compile NMODL folders once into a per-user cache and load them once per process.

``load()`` compiles the package's own ``mod/`` folder; ``load(extra_dirs=[...])`` adds the
user's folders. Each folder set is compiled with ``nrnivmodl`` into
``<cache>/mech/<hash>/`` where the hash covers the mod files' contents, the NEURON version
and the machine, so an edit or a NEURON upgrade triggers exactly one recompilation.
A file lock makes concurrent first calls (pytest-xdist, MPI ranks) safe; a library whose
mechanisms are already present in the process (the user loaded the same files, or NEURON
auto-loaded ``x86_64/`` from the working directory) is not loaded twice.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import MechanismError

__all__ = ["load", "mod_dir", "hoc_dir", "install_hoc_library", "cache_dir", "mechanism_names", "library_path", "select_files"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_loaded: dict = {}  # library hash, and load() arguments -> library loaded in this process
_name_origin: dict = {}  # mechanism name -> "package", "user" or "preloaded"


def _find_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    raise MechanismError(
        f"neuron_ann cannot find its '{name}/' folder next to {_PACKAGE_DIR}; "
        "reinstall the package (pip install -e . from the source checkout)."
    )


def mod_dir() -> Path:
    """The folder holding the package's NMODL files."""
    return _find_dir("mod")


def hoc_dir() -> Path:
    """The folder holding ``neuron_ann.hoc`` and the hoc templates of the bundled cells."""
    return _find_dir("hoc")


def install_hoc_library() -> list[Path]:
    """Link the package's hoc files into NEURON's own hoc library, so that hoc code can
    simply ``load_file("neuron_ann.hoc")``. Idempotent; returns the links it made or kept."""
    from neuron import h

    library = Path(h.neuronhome()) / "lib" / "hoc"
    if not library.is_dir() or not os.access(library, os.W_OK):
        raise MechanismError(
            f"NEURON's hoc library '{library}' is not writable; add {hoc_dir()} to HOC_LIBRARY_PATH instead."
        )
    links = []
    for source in sorted(hoc_dir().glob("*.hoc")):
        link = library / source.name
        if link.is_symlink() or not link.exists():
            if link.is_symlink() and link.resolve() == source.resolve():
                links.append(link)
                continue
            link.unlink(missing_ok=True)
            link.symlink_to(source)
            links.append(link)
    return links


def cache_dir() -> Path:
    """Per-user cache: ``$NEURON_ANN_CACHE``, else ``$XDG_CACHE_HOME/neuron_ann``, else ``~/.cache/neuron_ann``."""
    if os.environ.get("NEURON_ANN_CACHE"):
        return Path(os.environ["NEURON_ANN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neuron_ann"


_NAME_RE = re.compile(r"\b(SUFFIX|POINT_PROCESS|ARTIFICIAL_CELL)\s+(\w+)")


def mechanism_names(mod_files) -> dict[str, str]:
    """Map each mechanism name declared in ``mod_files`` to its kind (SUFFIX, POINT_PROCESS, ...)."""
    names = {}
    for path in mod_files:
        text = Path(path).read_text(errors="replace")
        text = re.sub(r"COMMENT.*?ENDCOMMENT", "", text, flags=re.DOTALL)
        text = re.sub(r":.*", "", text)
        for kind, name in _NAME_RE.findall(text):
            names[name] = kind
    return names


def _mod_files(dirs) -> list[Path]:
    files = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise MechanismError(f"mechanism folder '{d}' does not exist; pass a folder holding .mod files.")
        found = sorted(d.glob("*.mod"))
        if not found:
            raise MechanismError(f"mechanism folder '{d}' holds no .mod files; pass a folder holding .mod files.")
        files.extend(found)
    return files


def _check_unique_names(files):
    seen, declared = {}, {}
    for f in files:
        if f.name in seen:
            raise MechanismError(
                f"two mechanism folders both hold '{f.name}' ({seen[f.name]} and {f}); rename one of them."
            )
        seen[f.name] = f
        for name in mechanism_names([f]):
            if name in declared:
                raise MechanismError(
                    f"mechanism '{name}' is declared in both {declared[name]} and {f}; "
                    "rename one of them (NEURON allows each mechanism name once)."
                )
            declared[name] = f


def _hash(files) -> str:
    import neuron

    digest = hashlib.sha256()
    digest.update(f"neuron={neuron.__version__};machine={platform.machine()}".encode())
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _library_in(build_dir: Path) -> Path | None:
    for candidate in sorted(build_dir.glob("*/libnrnmech.so")) + sorted(build_dir.glob("*/.libs/libnrnmech.so")):
        return candidate
    return None


def _explain_failure(output: str, files) -> str:
    names = [f.name for f in files]
    culprit = None
    for line in output.splitlines():
        for name in names:
            if name in line and ("rror" in line or "line" in line):
                culprit = name
                break
        if culprit:
            break
    if culprit is None:
        for name in names:
            stem = name[:-4]
            if re.search(rf"\b{re.escape(stem)}\.(c|cpp)\b.*(error|Error)", output):
                culprit = name
                break
    tail = "\n".join(output.strip().splitlines()[-25:])
    where = f"in '{culprit}'" if culprit else "(see the compiler output below)"
    return (
        f"nrnivmodl failed to compile the mechanisms {where}.\n"
        f"Fix the NMODL file, or check that a C++ compiler (g++) and make are installed "
        f"(Debian/Ubuntu: apt-get install g++ make).\n--- compiler output (last lines) ---\n{tail}"
    )


def library_path(extra_dirs=(), include_package: bool = True, override_package: bool = False) -> Path:
    """Compile (if needed) without loading; returns the last library (the user's, if any)."""
    return [_compile(files)[1] for files in _file_groups(extra_dirs, include_package, override_package)][-1]


def _file_groups(extra_dirs=(), include_package: bool = True, override_package: bool = False) -> list[list[Path]]:
    """The .mod files of each library to build: the package's, then the user's folders together.

    The package and the user's folders become separate libraries, so a process that has
    already loaded the package can still load the user's folders later.
    """
    user_files = _mod_files([Path(d) for d in extra_dirs]) if extra_dirs else []
    package_files = _mod_files([mod_dir()]) if include_package else []
    if override_package:
        user_names = set(mechanism_names(user_files))
        package_files = [f for f in package_files if not user_names & set(mechanism_names([f]))]
    _check_unique_names(package_files + user_files)
    return [group for group in (package_files, user_files) if group]


def select_files(extra_dirs=(), include_package: bool = True, override_package: bool = False) -> list[Path]:
    """Every .mod file that :func:`load` with these arguments compiles (checked for clashing names)."""
    return [f for group in _file_groups(extra_dirs, include_package, override_package) for f in group]


def _compile(files):
    key = _hash(files)
    build_dir = cache_dir() / "mech" / key
    lib = _library_in(build_dir) if (build_dir / "ok").exists() else None
    if lib is None:
        lib = _build(files, build_dir, key)
    return key, lib


def _build(files, build_dir: Path, key: str) -> Path:
    build_dir.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(build_dir) + ".lock"):
        if (build_dir / "ok").exists() and _library_in(build_dir):
            return _library_in(build_dir)
        src = build_dir / "src"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir()
        for f in files:
            shutil.copy2(f, src / f.name)
        nrnivmodl = shutil.which("nrnivmodl", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        if nrnivmodl is None:
            raise MechanismError(
                "nrnivmodl was not found next to the Python interpreter or on PATH; "
                "install NEURON with 'pip install neuron' into this environment."
            )
        proc = subprocess.run([nrnivmodl, "src"], cwd=build_dir, capture_output=True, text=True)
        output = proc.stdout + proc.stderr
        (build_dir / "nrnivmodl.log").write_text(output)
        lib = _library_in(build_dir)
        if proc.returncode != 0 or lib is None:
            raise MechanismError(_explain_failure(output, files))
        (build_dir / "ok").write_text(key + "\n")
        return lib


def _present_in_process(names: dict[str, str]) -> set[str]:
    from neuron import h

    present = set()
    density = set()
    mt = h.MechanismType(0)
    ref = h.ref("")
    for i in range(int(mt.count())):
        mt.select(i)
        mt.selected(ref)
        density.add(ref[0])
    for name, kind in names.items():
        if kind == "SUFFIX" and name in density:
            present.add(name)
        elif kind != "SUFFIX" and hasattr(h, name):
            present.add(name)
    return present


def load(extra_dirs=(), include_package: bool = True, override_package: bool = False) -> Path:
    """Compile and load mechanisms; safe to call any number of times.

    Args:
        extra_dirs: the user's own folders of ``.mod`` files, compiled together into one
            library beside the package's (a mechanism name may be declared only once).
        include_package: also compile and load the package's own ``mod/`` folder.
        override_package: where a user folder declares a mechanism that the package also
            declares (a published model's own ``NaTa_t``, say), leave the package's file out
            so the user's version is the one loaded in this process. Must happen before
            the package's mechanisms are loaded (before any bundled cell is built).

    Returns:
        The path of the last library loaded (the user's, if any).

    Raises:
        MechanismError: compilation failed (names the file and shows the compiler's
            message), or mechanisms of the same names already exist in this process
            from a different library.
    """
    request = (tuple(str(Path(d).resolve()) for d in extra_dirs), include_package, override_package)
    if request in _loaded:  # mod files edited after loading cannot be reloaded into a running NEURON anyway
        return _loaded[request]
    lib = None
    groups = _file_groups(extra_dirs, include_package, override_package)
    for i, files in enumerate(groups):
        is_user = bool(extra_dirs) and i == len(groups) - 1
        lib = _load_files(files, "user" if is_user else "package")
    _loaded[request] = lib
    return lib


def _load_files(files, origin: str) -> Path:
    key, lib = _compile(files)
    if key in _loaded:
        return lib
    names = mechanism_names(files)
    present = _present_in_process(names)
    ours = {name for name in present if name in _name_origin}
    foreign = present - ours
    # a user folder must not silently run with the package's version of one of its mechanisms
    clash = {name for name in ours if origin == "user" and _name_origin[name] == "package"}
    if clash or (foreign and foreign != set(names) - ours):
        shown = ", ".join(sorted(clash or foreign))
        raise MechanismError(
            f"these mechanisms already exist in this NEURON process under the same names, from a "
            f"different library: {shown}. Load your model's mechanisms before building any neuron_ann "
            "cell (in a fresh process), or rename your mechanisms."
        )
    if not present:
        from neuron import h

        if not h.nrn_load_dll(str(lib)):
            raise MechanismError(f"NEURON could not load the compiled mechanisms '{lib}'; delete {lib.parents[1]} and retry.")
    # otherwise every name is already there: auto-loaded from ./x86_64, or the user's versions
    # overriding the package's (override_package)
    _loaded[key] = lib
    for name in set(names) - present:
        _name_origin[name] = origin
    for name in foreign:
        _name_origin[name] = "preloaded"
    return lib
