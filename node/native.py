"""Run the hot modules compiled by mypyc, when a build of exactly the sources on disk exists.

What it is for: a node spends most of its CPU in the interpreter, executing contracts and
updating the state tree (benchmarks/README.md). mypyc compiles these modules, unchanged
Python with their type annotations, to C extensions. Measured on 2026-11-28: one node's
pipeline in one process (`benchmarks.bench_node_pipeline`) 334-335 µs of CPU per tx against
389-412 as Python; the 4-node consortium at saturation ~475 µs per tx per node against ~535.
The Python sources stay the truth: the compiled modules are a cache of them, and every module
runs the same either way (tests/test_native.py replays one workload both ways and compares
the block hashes, state roots, receipts and cadastre).

How it stays honest:
- `build()` (`python -m node.native build`; scripts/start and scripts/test run it) compiles
  NATIVE_MODULES into build/native/<digest>/. The digest covers the interpreter's ABI and
  every source file of the packages they are checked against, so any edit there gives
  another digest.
- `enable()` runs first in every Tamga process (cli, benchmarks, the tests' conftest). It
  installs an import finder for NATIVE_MODULES only when build/native/<digest of the sources
  now>/ is complete: a source edited after the build runs as Python, never as a stale build.
- TAMGA_NATIVE: "0" runs everything as Python; "1" requires the build (enable() raises when
  it is missing: scripts/test sets it, so the suite tests what the nodes run); unset, the
  build is used when it is there.

May import: the standard library only (it runs before any other Tamga module is imported).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

# The modules compiled: what a node runs per transaction (admission, execution, the state
# tree, the cadastre's projection) and nothing with threads or sockets. Not contracts.builders: clients build
# txs with it, and a bad argument there must reach the ledger and be refused there. They are compiled as one group, so
# calls between them are C calls; they must be imported only through the finder, all of them
# or none (enable() refuses when one was imported before it).
NATIVE_MODULES = (
    "node.codec", "node.state", "node.state_tree", "node.gencache", "node.txid_filter",
    "node.envelope", "node.mempool", "node.chain",
    "node.signing", "node.merkle", "node.hashing",
    "cadastre.canon", "cadastre.records", "cadastre.projection", "cadastre.source",
    "contracts.authority", "contracts.bars", "contracts.book", "contracts.businessdays",
    "contracts.claims", "contracts.corrections", "contracts.court", "contracts.deadlines", "contracts.env",
    "contracts.executor", "contracts.genesis", "contracts.governance", "contracts.keyrecovery",
    "contracts.keys", "contracts.kinds", "contracts.objects", "contracts.payloads", "contracts.pledge",
    "contracts.queries", "contracts.refusals", "contracts.sale", "contracts.settlement", "contracts.sheet",
    "contracts.stops",
)
# The packages the compiled modules are type-checked against: their sources are copied into
# the build and all of them are in the digest (a changed signature there can change what
# the compiled code does).
CHECKED_PACKAGES = ("node", "consensus", "contracts", "cadastre", "proto")
BUILD_FORMAT = "1"  # raise when the build's recipe changes: every digest changes with it
ENV = "TAMGA_NATIVE"
CACHE_ENV = "TAMGA_NATIVE_CACHE"
ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"

_state: dict = {"compiled": False, "reason": "enable() was not called", "digest": None}


class NativeBuildMissing(RuntimeError):
    """TAMGA_NATIVE=1 and no build of the sources on disk: run `python -m node.native build`."""


def source_files(root: Path = ROOT) -> list[Path]:
    """The files the digest covers, in a fixed order."""
    files: list[Path] = []
    for package in CHECKED_PACKAGES:
        files += sorted(p for p in (root / package).rglob("*") if p.suffix in (".py", ".pyi") and "__pycache__" not in p.parts)
    return files


def source_digest(root: Path = ROOT, modules: tuple[str, ...] = NATIVE_MODULES) -> str:
    """What a build is keyed by: the recipe, the interpreter's ABI, the module list and the
    bytes of every checked source."""
    h = hashlib.sha256()
    for part in (BUILD_FORMAT, sys.implementation.cache_tag, sysconfig.get_config_var("EXT_SUFFIX") or "", ",".join(modules)):
        h.update(part.encode() + b"\0")
    for path in source_files(root):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:24]


def cache_dir(root: Path = ROOT) -> Path:
    """Where builds are kept: $TAMGA_NATIVE_CACHE when set (so that code snapshots share the
    working tree's builds), else root/build/native."""
    cache = os.environ.get(CACHE_ENV)
    return Path(cache) if cache else root / "build" / "native"


def build_dir(root: Path = ROOT, digest: str | None = None) -> Path:
    """Where the build of `root`'s sources is (or would be)."""
    return cache_dir(root) / (digest or source_digest(root))


def _extension(directory: Path, module: str) -> Path:
    """The file of `module` compiled, in a tree of extensions rooted at `directory`."""
    return directory / (module.replace(".", "/") + importlib.machinery.EXTENSION_SUFFIXES[0])


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules (and mypyc's shared library) in one build directory."""

    def __init__(self, directory: Path, modules: tuple[str, ...], shared: str):
        self.directory = directory
        self.names = frozenset(modules) | {shared}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        location = _extension(self.directory, fullname)
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(location))
        return importlib.util.spec_from_file_location(fullname, location, loader=loader)


def enable(root: Path = ROOT, modules: tuple[str, ...] = NATIVE_MODULES) -> dict:
    """Load NATIVE_MODULES from their build from now on, if it matches the sources; returns
    status(). Call it before anything imports one of them."""
    global _state
    mode = os.environ.get(ENV, "")
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return status()
    if mode == "0":
        _state = {"compiled": False, "reason": f"{ENV}=0", "digest": None}
        return status()
    early = sorted(m for m in modules if m in sys.modules)
    digest = source_digest(root, modules)
    directory = build_dir(root, digest)
    manifest = directory / MANIFEST
    if early:
        reason = f"imported before native.enable(): {', '.join(early)}"
    elif not manifest.is_file():
        reason = f"no build of these sources ({directory}); run `python -m node.native build`"
    else:
        info = json.loads(manifest.read_text())
        assert tuple(info["modules"]) == modules, "a build's digest covers its module list"
        sys.meta_path.insert(0, _Finder(directory, modules, info["shared"]))
        _state = {"compiled": True, "reason": str(directory), "digest": digest}
        return status()
    if mode == "1":
        raise NativeBuildMissing(f"{ENV}=1 but {reason}")
    _state = {"compiled": False, "reason": reason, "digest": digest}
    return status()


def status() -> dict:
    """{"compiled": bool, "reason": why (the build used, or why none), "digest"}."""
    return dict(_state)


def is_compiled(module) -> bool:
    """True when `module` was loaded from a build (an extension), not from its source."""
    return isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)


# --- building ----------------------------------------------------------------------------
def build(root: Path = ROOT, modules: tuple[str, ...] = NATIVE_MODULES, *, say=lambda line: print(line, flush=True)) -> Path:
    """Compile `modules` with mypyc into build/native/<digest>/ unless that is there already;
    returns the directory. Needs mypy (the `native` extra) and a C compiler. Safe to run
    twice at once: each compiles in a directory of its own and the first to finish wins."""
    digest = source_digest(root, modules)
    target = build_dir(root, digest)
    if (target / MANIFEST).is_file():
        say(f"native build up to date: {target}")
        return target
    files = [m.replace(".", "/") + ".py" for m in modules]
    with tempfile.TemporaryDirectory(prefix="tamga-native-") as tmp:
        work = Path(tmp) / "src"
        for path in source_files(root):
            dest = work / path.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        say(f"compiling {len(modules)} modules with mypyc into {target} (about a minute)")
        # follow-imports=silent: only the compiled modules must type-check; the packages
        # around them are read for their types.
        cmd = [sys.executable, "-m", "mypyc", "--ignore-missing-imports", "--follow-imports=silent", "--disable-error-code", "annotation-unchecked", *files]
        done = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise RuntimeError(f"mypyc failed (exit {done.returncode}):\n{tail}")
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        shared = [p.name[: -len(suffix)] for p in work.glob("*__mypyc" + suffix)]
        assert len(shared) == 1, f"mypyc makes one shared library for a group, found {shared}"
        # Staged beside the target, so that the rename which publishes it stays on one file
        # system (the temporary directory may be on another) and is atomic.
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
        try:
            for m in (*modules, shared[0]):
                dest = _extension(staging, m)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(_extension(work, m), dest)
            (staging / MANIFEST).write_text(json.dumps({"modules": list(modules), "shared": shared[0], "python": sys.version}, indent=1))
            try:
                staging.rename(target)
            except OSError:
                if not (target / MANIFEST).is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already when the rename published it
    say(f"native build ready: {target}")
    return target


def prune(root: Path = ROOT, keep: int = 4) -> None:
    """Remove all but the `keep` newest builds (each is ~10 MB)."""
    builds = sorted((p for p in cache_dir(root).glob("*") if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["build"]:
        try:
            build()
        except (RuntimeError, OSError) as exc:
            print(f"native build failed; Tamga runs as Python: {exc}", file=sys.stderr)
            return 1
        prune()
        return 0
    if args[:1] == ["status"]:
        print(json.dumps(enable()))
        return 0
    print("usage: python -m node.native build|status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
