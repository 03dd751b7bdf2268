"""scripts/pick-python chooses the interpreter .venv is made with, and the benchmarks record
how that interpreter carries the CPython runtime (benchmarks.common.libpython_linkage)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


from benchmarks.common import libpython_linkage, machine

ROOT = Path(__file__).resolve().parents[1]
PICK = ROOT / "scripts" / "pick-python"


def pick(env_extra: dict[str, str], path: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "TAMGA_OS_PYTHON")}
    env.update(env_extra)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(["bash", str(PICK)], env=env, capture_output=True, text=True, timeout=60)


def fake_python(directory: Path, name: str, version: tuple[int, int]) -> Path:
    """An executable that answers the picker's suitability check as a Python of `version`
    would: exit 0 when it is 3.11 or newer."""
    exe = directory / name
    suitable = version >= (3, 11)
    exe.write_text(f"#!/bin/sh\nexit {0 if suitable else 1}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_the_operating_systems_python_comes_first_when_it_is_suitable(tmp_path):
    os_python = fake_python(tmp_path, "os-python", (3, 12))
    fake_python(tmp_path, "python3", (3, 13))
    run = pick({"TAMGA_OS_PYTHON": str(os_python)}, path=f"{tmp_path}:/usr/bin:/bin")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(os_python)


def test_an_old_operating_system_python_falls_back_to_python3_on_path(tmp_path):
    os_python = fake_python(tmp_path, "os-python", (3, 9))
    python3 = fake_python(tmp_path, "python3", (3, 11))
    run = pick({"TAMGA_OS_PYTHON": str(os_python)}, path=f"{tmp_path}:/usr/bin:/bin")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(python3)


def test_a_missing_operating_system_python_falls_back_to_python3_on_path(tmp_path):
    python3 = fake_python(tmp_path, "python3", (3, 11))
    run = pick({"TAMGA_OS_PYTHON": str(tmp_path / "absent")}, path=f"{tmp_path}:/usr/bin:/bin")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(python3)


def test_python_set_by_the_operator_wins(tmp_path):
    chosen = fake_python(tmp_path, "mine", (3, 11))
    os_python = fake_python(tmp_path, "os-python", (3, 12))
    run = pick({"PYTHON": str(chosen), "TAMGA_OS_PYTHON": str(os_python)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(chosen)


def test_an_unsuitable_python_set_by_the_operator_is_refused_not_replaced(tmp_path):
    chosen = fake_python(tmp_path, "old", (3, 9))
    run = pick({"PYTHON": str(chosen)})
    assert run.returncode == 1
    assert run.stdout == ""
    assert f"PYTHON={chosen} is not a Python 3.11 or newer" in run.stderr


def test_no_suitable_python_at_all_says_what_to_install(tmp_path):
    fake_python(tmp_path, "python3", (3, 10))
    run = pick({"TAMGA_OS_PYTHON": str(tmp_path / "absent")}, path=f"{tmp_path}:/bin")
    assert run.returncode == 1
    assert "install python3 (3.11+) with its venv module, or set PYTHON" in run.stderr


def test_the_picker_accepts_the_interpreter_running_these_tests():
    # The real check, not a fake: this interpreter made a working venv, so it must pass.
    run = pick({"PYTHON": sys.executable})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == sys.executable


def test_libpython_linkage_reads_the_memory_map(tmp_path):
    shared = tmp_path / "shared"
    shared.write_text("7f00-7f01 r-xp 0 08:01 1 /opt/py/lib/libpython3.11.so.1.0\n7f02-7f03 r-xp 0 08:01 2 /lib/libc.so.6\n")
    static = tmp_path / "static"
    static.write_text("5500-5501 r-xp 0 08:01 3 /usr/bin/python3.11\n7f02-7f03 r-xp 0 08:01 2 /lib/libc.so.6\n")
    assert libpython_linkage(str(shared)) == "shared"
    assert libpython_linkage(str(static)) == "static"
    assert libpython_linkage(str(tmp_path / "no-such-file")) == "unknown"


def test_machine_names_this_interpreter_and_its_linkage():
    m = machine()
    assert m["interpreter"] == os.path.realpath(sys.executable)
    try:
        with open("/proc/self/maps") as maps:
            expected = "shared" if "libpython" in maps.read() else "static"
    except OSError:  # no memory map to read (not Linux): the linkage is not claimed
        expected = "unknown"
    assert m["libpython"] == expected
