"""The hot modules compiled by mypyc (node/native.py): loaded only from a build of exactly the
sources on disk, all or none, and computing what their Python sources compute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from node import native

ROOT = Path(__file__).resolve().parent.parent
HOT = ("node.fake_hot",)


def _tree(root: Path) -> None:
    """A stand-in source tree: one 'hot' module and a neighbour in the checked packages."""
    for package in native.CHECKED_PACKAGES:
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "node" / "fake_hot.py").write_text("X = 1\n")
    (root / "node" / "neighbour.py").write_text("Y = 1\n")
    (root / "api").mkdir()
    (root / "api" / "routes.py").write_text("Z = 1\n")


def _env_without_native_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in (native.ENV, native.CACHE_ENV)}


def _enable_in_child(root: Path, env_mode: str | None, cache: Path | None = None) -> subprocess.CompletedProcess:
    """native.enable() for the stand-in tree in a fresh interpreter (it changes sys.meta_path)."""
    env = _env_without_native_settings()
    if env_mode is not None:
        env[native.ENV] = env_mode
    if cache is not None:
        env[native.CACHE_ENV] = str(cache)
    code = ("import json, sys; from pathlib import Path; from node import native; "
            f"print(json.dumps(native.enable(Path(sys.argv[1]), {HOT!r})))")
    return subprocess.run([sys.executable, "-c", code, str(root)], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)


def _fake_build(root: Path, base: Path | None = None, modules: tuple[str, ...] = HOT) -> None:
    """A complete-looking build of `root`'s sources (a manifest, no extensions)."""
    directory = (base or root / "build" / "native") / native.source_digest(root, modules)
    directory.mkdir(parents=True)
    (directory / native.MANIFEST).write_text(json.dumps({"modules": list(modules), "shared": "x__mypyc"}))


def test_the_digest_covers_every_checked_source_and_nothing_else(tmp_path):
    _tree(tmp_path)
    before = native.source_digest(tmp_path, HOT)
    assert native.source_digest(tmp_path, HOT) == before
    (tmp_path / "api" / "routes.py").write_text("Z = 2\n")  # not what the hot modules are checked against
    assert native.source_digest(tmp_path, HOT) == before
    (tmp_path / "node" / "neighbour.py").write_text("Y = 2\n")  # a signature the hot code may rely on
    after_neighbour = native.source_digest(tmp_path, HOT)
    assert after_neighbour != before
    (tmp_path / "node" / "fake_hot.py").write_text("X = 2\n")
    assert native.source_digest(tmp_path, HOT) not in (before, after_neighbour)
    assert native.source_digest(tmp_path, HOT + ("node.neighbour",)) != native.source_digest(tmp_path, HOT)


def test_a_build_is_used_only_for_the_sources_it_was_made_from(tmp_path):
    _tree(tmp_path)
    _fake_build(tmp_path)
    got = json.loads(_enable_in_child(tmp_path, None).stdout)
    assert got["compiled"] is True
    (tmp_path / "node" / "fake_hot.py").write_text("X = 'edited after the build'\n")
    got = json.loads(_enable_in_child(tmp_path, None).stdout)
    assert got["compiled"] is False and "no build of these sources" in got["reason"]


def test_tamga_native_1_refuses_to_fall_back_and_0_never_loads(tmp_path):
    _tree(tmp_path)
    required = _enable_in_child(tmp_path, "1")
    assert required.returncode != 0 and "NativeBuildMissing" in required.stderr and "node.native build" in required.stderr
    _fake_build(tmp_path)
    off = json.loads(_enable_in_child(tmp_path, "0").stdout)
    assert off == {"compiled": False, "reason": "TAMGA_NATIVE=0", "digest": None}


def test_snapshots_share_builds_through_the_cache_directory(tmp_path):
    _tree(tmp_path)
    cache = tmp_path / "cache"
    _fake_build(tmp_path, base=cache)
    assert json.loads(_enable_in_child(tmp_path, None).stdout)["compiled"] is False
    got = json.loads(_enable_in_child(tmp_path, "1", cache=cache).stdout)
    assert got["compiled"] is True and got["reason"].startswith(str(cache))


def test_a_module_imported_before_enable_keeps_every_hot_module_interpreted(tmp_path):
    """Half compiled and half not is no state to run in: a compiled module's calls into
    another of its group go straight to the compiled code, which would never be set up."""
    _tree(tmp_path)
    hot = ("node.codec",)
    _fake_build(tmp_path, modules=hot)
    code = ("import json, sys; from pathlib import Path; import node.codec; from node import native; "
            f"print(json.dumps(native.enable(Path(sys.argv[1]), {hot!r})))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, env={**_env_without_native_settings(), "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    got = json.loads(done.stdout)
    assert got["compiled"] is False and "imported before native.enable(): node.codec" in got["reason"]


def test_this_session_runs_the_hot_modules_all_compiled_or_all_interpreted():
    """Under scripts/test (TAMGA_NATIVE=1) they are compiled: the suite tests what the nodes run."""
    import contracts.pledge  # noqa: F401 - make sure a contract module is loaded
    import node.chain  # noqa: F401
    import node.state_tree  # noqa: F401

    compiled = native.status()["compiled"]
    loaded = [sys.modules[m] for m in native.NATIVE_MODULES if m in sys.modules]
    assert len(loaded) >= 3
    assert [native.is_compiled(m) for m in loaded] == [compiled] * len(loaded)
    if os.environ.get(native.ENV) == "1":
        assert compiled


@pytest.mark.processes
def test_the_compiled_and_the_interpreted_modules_compute_the_same_chain_and_cadastre(tmp_path):
    """One pilot-like workload (filings, decisions, sales, claims, discharges) replayed as
    Python and compiled: the same block hashes, state roots, receipts and cadastre tables."""
    native.build(say=lambda line: None)  # at most a minute, nothing when scripts/test built it
    scenario = tmp_path / "scenario.json"
    run = lambda *args, mode: subprocess.run([sys.executable, "-m", "tests.native_replay", *args], cwd=ROOT,  # noqa: E731
                                             env={**os.environ, native.ENV: mode}, capture_output=True, text=True, timeout=300)
    recorded = run("record", str(scenario), "--txs", "1200", "--block-txs", "50", mode="0")
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    results = {}
    for mode in ("0", "1"):
        done = run("replay", str(scenario), mode=mode)
        assert done.returncode == 0, done.stderr[-2000:]
        results[mode] = json.loads(done.stdout)
    interpreted, compiled = results["0"], results["1"]
    assert (interpreted["compiled"], compiled["compiled"]) == (False, True)
    assert len(interpreted["blocks"]) >= 10
    assert sum(t[0] for t in interpreted["cadastre"].values()) > 1000
    assert compiled["blocks"] == interpreted["blocks"]
    assert compiled["cadastre"] == interpreted["cadastre"]


def test_a_module_that_does_not_type_check_is_not_built_and_the_error_says_where(tmp_path, monkeypatch):
    """mypyc compiles only what type-checks (a wrong annotation would be a TypeError at run
    time); the build stops with mypy's message and leaves no build behind."""
    monkeypatch.delenv(native.CACHE_ENV, raising=False)
    _tree(tmp_path)
    (tmp_path / "node" / "fake_hot.py").write_text("X: int = 'not an int'\n")
    with pytest.raises(RuntimeError, match=r"node/fake_hot\.py:1: error"):
        native.build(tmp_path, HOT, say=lambda line: None)
    assert not native.build_dir(tmp_path, native.source_digest(tmp_path, HOT)).exists()
