"""Where a node's time goes: py-spy's raw samples ("frame;frame;...;leaf count" per line,
frames as "function (file:line)", root first) summarised three ways:
- by area: each sample goes to the innermost frame that belongs to a known area (Ed25519,
  state tree, LevelDB, SQLite projection, contracts, consensus, gRPC, ...), so the areas add
  up to 100 % of the samples taken while a thread was busy (py-spy leaves idle threads out);
- inclusive: the project's functions (node/, consensus/, contracts/, cadastre/, api/) by the
  share of samples they were on the stack for;
- self: the leaf functions the samples were in.
Samples taken with `py-spy record --native` also hold C frames: libsodium's, LevelDB's, and
the functions of the modules mypyc compiled (node/native.py), which have no Python frame and
are put back under their module's source file here.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import sys

from node import native

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# Innermost match wins; checked in this order for each frame, leaf first.
AREAS = [
    ("Ed25519 signatures (PyNaCl)", ("nacl/", "node/signing.py", "_sodium", "ed25519", "sodium/")),
    ("X.509 certificates", ("cryptography/", "node/pki.py")),
    ("LevelDB (plyvel)", ("plyvel", "node/kv.py", "leveldb")),
    ("state tree (hashing, nodes)", ("node/state_tree.py", "node/merkle.py", "node/hashing.py")),
    ("cadastre projection (SQLite)", ("cadastre/", "sqlite3")),
    ("contracts (execution)", ("contracts/",)),
    ("msgpack codec", ("msgpack", "node/codec.py")),
    ("protobuf", ("google/protobuf",)),
    ("consensus core", ("consensus/",)),
    ("HTTP API", ("api/", "fastapi", "starlette", "uvicorn", "httpx", "anyio")),
    ("gRPC", ("grpc",)),
    ("chain (blocks, receipts, storage)", ("node/chain.py", "node/commit.py", "node/schema.py")),
    ("mempool and envelopes", ("node/mempool.py", "node/envelope.py")),
    ("engine and peers", ("node/bft_engine.py", "node/peers.py", "node/hub.py", "node/runner.py", "node/ledger_service.py")),
    ("logging", ("logging/", "node/logs.py")),
    ("asyncio event loop", ("asyncio/", "selectors.py")),
]
PROJECT = ("node/", "consensus/", "contracts/", "cadastre/", "api/")

# A compiled function in a native stack: CPyDef_<module>___<function> (or Class___method), or
# CPyPy_ for its wrapper callable from Python, located in the build's C file.
COMPILED = re.compile(r"^CPy(?:Def|Py)_(?P<module>[A-Za-z0-9_]+?)___(?P<name>.+)$")
COMPILED_FILES = {m.rsplit(".", 1)[1]: m.replace(".", "/") + ".py" for m in native.NATIVE_MODULES}


def py_spy() -> str | None:
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return here if os.path.exists(here) else shutil.which("py-spy")


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    # The project's files, wherever the code snapshot lies: from the package directory on.
    hits = [path.rfind("/" + top) for top in PROJECT]
    i = max(hits)
    return path[i + 1:] if i >= 0 else path


def parse(path: str) -> list[tuple[list[tuple[str, str]], int]]:
    samples = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = []
            for fr in stack.split(";"):
                m = FRAME.match(fr)
                frames.append(_frame(m["func"], m["file"]) if m else (fr, ""))
            samples.append((frames, int(count)))
    return samples


def _frame(func: str, file: str) -> tuple[str, str]:
    compiled = COMPILED.match(func)
    if compiled and compiled["module"] in COMPILED_FILES:
        return compiled["name"].replace("___", "."), COMPILED_FILES[compiled["module"]]
    return func, _short(file)


def area_of(file: str) -> str | None:
    for name, needles in AREAS:
        if any(n in file for n in needles):
            return name
    return None


def summarise(path: str, top: int = 20) -> dict:
    samples = parse(path)
    total = sum(c for _, c in samples)
    areas: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    leaf: collections.Counter = collections.Counter()
    for frames, count in samples:
        area = next((a for a in (area_of(f) for _, f in reversed(frames)) if a), "other (interpreter, stdlib)")
        areas[area] += count
        seen = set()
        for func, file in frames:
            if file.startswith(PROJECT) and (func, file) not in seen:
                seen.add((func, file))
                inclusive[f"{file}:{func}"] += count
        if frames:
            func, file = frames[-1]
            leaf[f"{file}:{func}"] += count

    def pct(c: int) -> float:
        return round(100 * c / total, 1) if total else 0.0

    return {
        "samples": total,
        "areas": [{"area": a, "pct": pct(c)} for a, c in areas.most_common()],
        "inclusive": [{"function": f, "pct": pct(c)} for f, c in inclusive.most_common(top)],
        "self": [{"function": f, "pct": pct(c)} for f, c in leaf.most_common(top)],
    }
