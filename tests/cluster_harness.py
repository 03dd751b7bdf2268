"""Real node processes for tests: a consortium in a temp directory, started, killed with
SIGKILL, restarted, and queried over gRPC. Every wait is bounded by a deadline and polls a
condition; no sleep stands in for an assertion."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Callable

import grpc

from node.cluster import init_cluster
from node.config import NodeConfig
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_base_port(span: int = 210) -> int:
    """A base port whose HTTP, Ledger and peer ranges are all free now."""
    for attempt in range(200):
        base = 20000 + (os.getpid() * 7919 + attempt * 997) % 35000
        ok = True
        for offset in (0, 100, 200):
            for i in range(8):
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", base + offset + i))
                    except OSError:
                        ok = False
                        break
            if not ok:
                break
        if ok:
            return base
    raise RuntimeError("no free port range found")


class Cluster:
    def __init__(self, directory: str, nodes: int = 4, *, app: str = "tamga-generic/1", consensus: dict | None = None, app_state: dict | None = None, http: bool = True, env: dict | None = None):
        self.dir = directory
        self.base_port = free_base_port()
        if app_state is None and app == "tamga-registry/1":
            from contracts.genesis import default_app_state
            from node.cluster import OPERATORS

            app_state = default_app_state(authorities={"MOJ": OPERATORS[0][2]})
        self.layout = init_cluster(directory, nodes, base_port=self.base_port, app=app, consensus=consensus, app_state=app_state)
        self.configs = {NodeConfig.load(p).name: NodeConfig.load(p) for p in self.layout.nodes}
        self.config_files = {NodeConfig.load(p).name: p for p in self.layout.nodes}
        if not http:
            for name, cfg in self.configs.items():
                cfg.http_listen = ""
                cfg.save(self.config_files[name])
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = env or {}
        self._channels: dict[str, grpc.Channel] = {}

    @property
    def names(self) -> list[str]:
        return list(self.configs)

    # --- processes -------------------------------------------------------------------
    def start(self, name: str, extra_env: dict | None = None) -> None:
        assert name not in self.procs or self.procs[name].poll() is not None, f"{name} is running"
        env = {**os.environ, **self.env, **(extra_env or {}), "PYTHONPATH": ROOT}
        log = open(os.path.join(self.dir, f"{name}.stderr.log"), "ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "node", "run", "--config", self.config_files[name]],
            stdout=log,
            stderr=log,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )

    def start_all(self) -> None:
        for name in self.names:
            self.start(name)
        for name in self.names:
            self.wait_ready(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)
        ch = self._channels.pop(name, None)
        if ch is not None:
            ch.close()

    def exit_code(self, name: str, timeout_s: float = 30.0) -> int:
        return self.procs[name].wait(timeout=timeout_s)

    def alive(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def stop_all(self) -> None:
        for name in list(self.procs):
            if self.alive(name):
                self.procs[name].send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for ch in self._channels.values():
            ch.close()
        self._channels.clear()

    def log(self, name: str) -> str:
        with open(os.path.join(self.dir, f"{name}.stderr.log"), errors="replace") as f:
            return f.read()

    # --- gRPC ------------------------------------------------------------------------
    def ledger(self, name: str) -> pbg.LedgerStub:
        ch = self._channels.get(name)
        if ch is None:
            ch = grpc.insecure_channel(self.configs[name].ledger_listen)
            self._channels[name] = ch
        return pbg.LedgerStub(ch)

    def status(self, name: str, timeout_s: float = 2.0) -> pb.NodeStatus:
        return self.ledger(name).Status(pb.StatusRequest(), timeout=timeout_s)

    def wait_ready(self, name: str, timeout_s: float = 60.0) -> None:
        def ready():
            if not self.alive(name):
                raise AssertionError(f"node {name} exited with {self.procs[name].returncode}:\n{self.log(name)[-3000:]}")
            with contextlib.suppress(grpc.RpcError):
                self.status(name, 1.0)
                return True
            return False

        wait_for(ready, timeout_s, f"node {name} to answer")

    def height(self, name: str) -> int:
        return self.status(name).height

    def wait_height(self, names: list[str], height: int, timeout_s: float = 60.0) -> None:
        def reached():
            for n in names:
                try:
                    if self.height(n) < height:
                        return False
                except grpc.RpcError:
                    return False
            return True

        wait_for(reached, timeout_s, f"{names} to reach height {height}")

    def data_dir(self, name: str) -> str:
        cfg = self.configs[name]
        return cfg.path(cfg.data_dir)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(poll_s)
