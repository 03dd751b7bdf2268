"""The committed protobuf modules are exactly what `python -m proto.generate` produces."""

from __future__ import annotations

import pathlib

from proto import generate


def test_generated_modules_are_not_stale(tmp_path: pathlib.Path):
    generate.generate(tmp_path)
    for name in generate.GENERATED:
        fresh = (tmp_path / "proto" / name).read_bytes()
        committed = (generate.ROOT / "proto" / name).read_bytes()
        assert fresh == committed, f"proto/{name} is stale: run `python -m proto.generate` and commit the result"
