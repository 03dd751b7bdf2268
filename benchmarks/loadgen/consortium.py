"""A benchmark consortium: four real node processes (tests/cluster_harness.Cluster) with the
registry contracts and a demo register in genesis, plus what the benchmark needs on top:
the CPU each process used, and starting one node under py-spy (the profiler runs the node
as its child, which is what works in this sandbox; attaching to a running pid does not).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx

from benchmarks.loadgen.population import Population
from contracts.genesis import default_app_state
from node import pki
from node.cluster import OPERATORS
from tests.cluster_harness import ROOT, Cluster, wait_for

MOJ_BIN = OPERATORS[0][2]
GOV4C_BIN = OPERATORS[1][2]
BANK_BINS = [OPERATORS[2][2], OPERATORS[5][2]]   # ForteBank runs a node; a second bank uses the API only
CLK_TCK = os.sysconf("SC_CLK_TCK")


SNAPSHOT_DIRS = ["node", "consensus", "contracts", "cadastre", "api", "proto", "cli"]
# One cache of compiled hot modules (node/native.py) for the working tree and every snapshot:
# a snapshot of the sources already built finds that build by its digest.
NATIVE_CACHE = os.path.join(ROOT, "build", "native")


def node_env(code_root: str) -> dict[str, str]:
    """The environment a Tamga process run from `code_root` needs on top of os.environ."""
    return {"PYTHONPATH": code_root, "TAMGA_NATIVE_CACHE": NATIVE_CACHE}


def build_native(code_root: str, python: str = sys.executable) -> str:
    """Compile the hot modules of the code at `code_root` as scripts/start does (a minute,
    or nothing when the cache holds a build of them). Says what its nodes will run:
    "compiled", or "python: " and why not."""
    if not os.path.exists(os.path.join(code_root, "node", "native.py")):
        return "python: this code has no node/native.py"
    done = subprocess.run([python, "-m", "node.native", "build"], cwd=code_root, env={**os.environ, **node_env(code_root)},
                          capture_output=True, text=True)
    return "compiled" if done.returncode == 0 else "python: the build failed: " + done.stderr.strip()[-300:]


def code_snapshot(dest: str, ref: str = "HEAD", python: str = sys.executable) -> dict:
    """The committed code (git `ref`, HEAD by default) of the packages a node runs, extracted
    into `dest`, so that nodes started or restarted during a long run all run one version,
    whatever others edit in the working tree meanwhile. What is measured is then a commit.
    ValueError when `ref` names no commit of this repository."""
    found = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True, text=True)
    if found.returncode != 0:
        raise ValueError(f"{ref!r} names no commit of this repository (try a hash, a branch, a tag or HEAD~1)")
    commit = found.stdout.strip()
    # A snapshot of HEAD leaves out uncommitted edits: say which.
    dirty = _git("status", "--porcelain", "--", *SNAPSHOT_DIRS).splitlines() if commit == _git("rev-parse", "HEAD").strip() else []
    os.makedirs(dest, exist_ok=True)
    archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", commit, *SNAPSHOT_DIRS], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    return {"root": dest, "commit": commit, "uncommitted_changes_not_measured": dirty, "native": build_native(dest, python)}


def working_tree(python: str = sys.executable) -> dict:
    """The code a node runs when it is run from the working tree (no snapshot)."""
    return {"root": ROOT, "commit": "working tree", "uncommitted_changes_not_measured": [], "native": build_native(ROOT, python)}


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=True).stdout


class BenchCluster(Cluster):
    """Cluster with an optional command wrapper (py-spy), per-process CPU readings, and nodes
    run from a code snapshot (`code_root`) instead of the working tree."""

    code_root: str = ROOT
    python: str = sys.executable  # the interpreter the nodes run on (benchmarks.ab --python-b)

    def start(self, name: str, extra_env: dict | None = None, wrapper: list[str] | None = None) -> None:  # type: ignore[override]
        assert name not in self.procs or self.procs[name].poll() is not None, f"{name} is running"
        env = {**os.environ, **self.env, **(extra_env or {}), **node_env(self.code_root)}
        log = open(os.path.join(self.dir, f"{name}.stderr.log"), "ab")
        self.procs[name] = subprocess.Popen(
            [*(wrapper or []), self.python, "-m", "cli.main", "node", "run", "--config", self.config_files[name]],
            stdout=log, stderr=log, env=env, cwd=self.code_root, start_new_session=True,
        )

    def http_url(self, name: str) -> str:
        return "http://" + self.configs[name].http_listen

    def _running_pid(self, name: str) -> int | None:
        proc = self.procs.get(name)
        return None if proc is None or proc.poll() is not None else proc.pid

    def cpu_seconds(self, name: str) -> float:
        """User + system CPU of the node process (and, under py-spy, of the profiler too)."""
        pid = self._running_pid(name)
        return 0.0 if pid is None else _proc_cpu(pid) + sum(_proc_cpu(c) for c in _children(pid))

    def main_thread_cpu_seconds(self, name: str) -> float:
        """User + system CPU of the node's main thread (its event loop) alone; the rest of
        cpu_seconds is LevelDB's compaction, the cadastre's checkpoints and gRPC's threads,
        which a Python profile does not see."""
        pid = self._running_pid(name)
        return 0.0 if pid is None else _proc_cpu(pid, f"/proc/{pid}/task/{pid}/stat")

    def wait_api(self, name: str, timeout_s: float = 120.0) -> None:
        """Until the node's HTTP API answers and its cadastre projection is at the chain head."""
        def ok():
            if not self.alive(name):
                raise AssertionError(f"node {name} exited with {self.procs[name].returncode}:\n{self.log(name)[-3000:]}")
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                s = httpx.get(self.http_url(name) + "/v1/status", timeout=2.0).json()
                return s["cadastre_height"] == s["height"]
            return False

        wait_for(ok, timeout_s, f"the HTTP API of {name}", poll_s=0.2)


def _proc_cpu(pid: int, stat_path: str | None = None) -> float:
    try:
        with open(stat_path or f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def generator_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def create(directory: str, *, people: int, objects: int, consensus: dict | None = None, register: bool = True,
           code_root: str = ROOT) -> tuple[BenchCluster, Population]:
    """A fresh consortium in `directory` whose register the population owns; certificates issued."""
    pop = Population(people, objects if register else 0, bank_bins=BANK_BINS, registrar_bin=GOV4C_BIN, moj_bin=MOJ_BIN)
    app_state = default_app_state(authorities={"MOJ": MOJ_BIN}, register=pop.objects if register else None)
    if os.path.exists(directory):
        shutil.rmtree(directory)
    cluster = BenchCluster(directory, 4, app="tamga-registry/1", consensus=consensus, app_state=app_state)
    cluster.code_root = code_root
    with open(cluster.layout.ca_cert_file, "rb") as c, open(cluster.layout.ca_key_file, "rb") as k:
        ca = pki.CertificateAuthority.load(c.read(), k.read())
    pop.issue(ca)
    return cluster, pop


def start(cluster: BenchCluster, timeout_s: float = 180.0) -> None:
    for name in cluster.names:
        cluster.start(name)
    for name in cluster.names:
        cluster.wait_ready(name, timeout_s)
    for name in cluster.names:
        cluster.wait_api(name, timeout_s)


def stop_profiled(cluster: BenchCluster, name: str, timeout_s: float = 60.0) -> int | None:
    """Stop py-spy (SIGINT: it writes its samples, and the node it runs goes down with it)."""
    proc = cluster.procs[name]
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    # The node itself may outlive py-spy in its session: end it too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.2)
    return proc.returncode
