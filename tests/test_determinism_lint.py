"""consensus/ and contracts/ must be deterministic: every validator runs them and must get
the same bytes. This reads their source and fails on what could break that:

- imports of modules that reach the clock, randomness, the disk, the network or the process
  (time, random, secrets, os, socket, threading, asyncio, uuid, math, ...): only the modules
  listed in ALLOWED may be imported;
- floats: a float literal, true division `/`, or a call of float(). Records are written with
  node.codec.encode_trusted, which does not re-check for floats (that is why it is fast), so
  this is what keeps floats out of the state (design decision 6: money in integer tiyn);
- hash() and id(), whose values change from process to process.
datetime is allowed for calendar arithmetic; calling now()/today()/utcnow() is not.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("consensus", "contracts")
ALLOWED = {"__future__", "typing", "dataclasses", "enum", "collections", "functools", "itertools", "bisect", "heapq",
           "hashlib", "abc", "struct", "re", "fractions", "datetime", "consensus", "contracts", "node", "proto", "google"}
CLOCK_CALLS = {"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"}
FORBIDDEN_CALLS = {"float", "hash", "id", "open", "input", "eval", "exec"}


def problems(source: str) -> list[str]:
    out = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Import):
            out += [f"line {n.lineno}: imports {a.name}" for a in n.names if a.name.split(".")[0] not in ALLOWED]
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").split(".")[0] not in ALLOWED:
            out.append(f"line {n.lineno}: imports from {n.module}")
        elif isinstance(n, ast.Constant) and type(n.value) is float:
            out.append(f"line {n.lineno}: float literal {n.value!r}")
        elif isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, ast.Div):
            out.append(f"line {n.lineno}: true division (use // or fractions.Fraction)")
        elif isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                out.append(f"line {n.lineno}: calls {f.id}()")
            elif isinstance(f, ast.Attribute) and f.attr in CLOCK_CALLS:
                out.append(f"line {n.lineno}: calls .{f.attr}() (the clock)")
    return out


FILES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_deterministic_package_source(path):
    assert problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("snippet, found", [
    ("import time\n", "imports time"),
    ("from random import choice\n", "imports from random"),
    ("import os.path\n", "imports os.path"),
    ("x = 1.5\n", "float literal"),
    ("x = a / b\n", "true division"),
    ("x /= 2\n", "true division"),
    ("x = float(y)\n", "calls float()"),
    ("k = hash(v)\n", "calls hash()"),
    ("d = datetime.date.today()\n", "the clock"),
])
def test_the_lint_catches_each_kind(snippet, found):
    assert any(found in p for p in problems(snippet))


def test_the_lint_reads_the_packages():
    assert len(FILES) > 20
