"""CPU time a node spends in each stage of its pipeline, for operators and the benchmark.

What it is for: where a node's CPU goes, measured where it is spent. A sampling profiler
records wall-clock time, and where four nodes share two cores it charges a stage also for
the time its thread stood waiting for a core; `time.thread_time` counts only the CPU the
event-loop thread used. Stages (all on the event loop, none inside another):
  admission  checking and admitting submitted and gossiped transactions (signatures above all)
  build      the proposer's block: executing its transactions and updating the state tree
  validate   re-executing a peer's proposal before voting for it
  commit     the synced batch, the mempool, and answering the clients who wait
  cadastre   the projection into SQLite and the other commit listeners
A single-validator node seals a block in one call, building it and writing its batch: that
is charged to build. The rest of the event loop (gRPC messages, consensus, the HTTP API) and the other threads
(gRPC's poller, LevelDB's compactions, the cadastre's checkpoints) are read off the kernel's
per-thread and per-process clocks, so the parts add up to the process's CPU.
A reading costs a system call (~0.6 µs): stages are measured per call, per block or per
batch of gossip, never per state read.
The other threads are told apart by the names the kernel knows them by (/proc/self/task, read
when a snapshot is taken): gRPC names its own, the cadastre's checkpointer names itself
(`name_os_thread`), and what is left is LevelDB's compaction thread, which has no name of its
own. This is how an operator, and the benchmark report, see which of them grows with the chain.
May import: the standard library only.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

STAGES = ("admission", "build", "validate", "commit", "cadastre")
CHECKPOINT_THREAD = "cadastre-ckpt"   # the kernel keeps at most 15 bytes of a thread's name
# Names gRPC's C core gives its threads: timers, the event engine's pool and its watchdog, executors.
GRPC_THREAD_PREFIXES = ("grpc", "event_engine", "lifeguard", "default-executo", "resolver-execu", "timer_manager")


def name_os_thread(name: str) -> None:
    """Give the calling thread `name` in the kernel (what `top -H` and /proc show). Linux
    only; elsewhere, or if /proc is not writable, the thread keeps its name."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


def read_threads(loop_native_id: int, task_dir: str = "/proc/self/task") -> dict[str, tuple[str | None, float]] | None:
    """Every thread of the process but the event loop's: thread id -> (kind, CPU seconds), the
    kind 'grpc_threads' or 'checkpoint_thread' by the thread's name, None for the others
    (LevelDB's compaction thread). None where there is no /proc to read."""
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, tuple[str | None, float]] = {}
    for tid in tids:
        if tid == str(loop_native_id):
            continue
        try:
            with open(os.path.join(task_dir, tid, "stat")) as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended between the listing and the read
        # "tid (name) state ..." : the name may hold spaces or parentheses, so split at the last ")".
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        kind = "checkpoint_thread" if name == CHECKPOINT_THREAD else "grpc_threads" if name.startswith(GRPC_THREAD_PREFIXES) else None
        out[tid] = (kind, seconds)
    return out


class ThreadParts:
    """The CPU off the event loop by kind, as counters that never go down: 'grpc_threads',
    'checkpoint_thread' and 'other_threads' (the rest of the process's CPU off the loop).

    Why it keeps state: a thread that ends leaves /proc (gRPC's pool grows and shrinks), and its
    CPU would drop out of its kind's sum; here it stays, as of its last reading. Threads are
    read in clock ticks and the process in nanoseconds, so the remainder is held at its highest
    value. Any thread may read (the API's scrape, the benchmark)."""

    KINDS = ("grpc_threads", "checkpoint_thread")

    def __init__(self, loop_native_id: int, task_dir: str = "/proc/self/task"):
        self.loop_native_id = loop_native_id
        self.task_dir = task_dir
        self._lock = threading.Lock()
        self._last: dict[str, tuple[str | None, float]] = {}
        self._ended = dict.fromkeys(self.KINDS, 0.0)
        self._other = 0.0

    def read(self, off_loop_seconds: float) -> dict[str, float] | None:
        now = read_threads(self.loop_native_id, self.task_dir)
        if now is None:
            return None
        with self._lock:
            for tid, (kind, seconds) in self._last.items():
                cur = now.get(tid)
                if kind is not None and (cur is None or cur[0] != kind or cur[1] < seconds):
                    self._ended[kind] += seconds  # ended, or its id now names another thread
            self._last = now
            parts = dict(self._ended)
            for kind, seconds in now.values():
                if kind is not None:
                    parts[kind] += seconds
            self._other = max(self._other, off_loop_seconds - sum(parts.values()))
            parts["other_threads"] = self._other
            return parts


class CpuMeter:
    """Seconds of thread CPU per stage, accumulated since the node started. Read and written
    on the thread that created it (the event loop's), except `snapshot`, which any thread
    may call."""

    def __init__(self, clock: Callable[[], float] = time.thread_time):
        self.clock = clock
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._loop_thread = threading.get_ident()
        self._threads = ThreadParts(threading.get_native_id())
        self._stages = {name: _Stage(self, name) for name in STAGES}

    def stage(self, name: str) -> "_Stage":
        """`with meter.stage("build"):` charges the block to that stage, also when it raises.
        Stages never nest, so each has one reusable context object."""
        return self._stages[name]

    def add(self, stage: str, started: float) -> None:
        """Charge `stage` with the CPU used since `started` (a reading of `clock`)."""
        self.seconds[stage] += self.clock() - started

    def event_loop_seconds(self) -> float | None:
        """CPU the event-loop thread has used in all, from any thread; None where the
        platform has no per-thread clock to read."""
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(self._loop_thread))
        except (AttributeError, OSError):
            return None

    def snapshot(self) -> dict:
        """Stage seconds, the event loop's and the whole process's CPU seconds, and the other
        threads' by kind (None where they cannot be told apart)."""
        loop, process = self.event_loop_seconds(), time.process_time()
        threads = self._threads.read(max(0.0, process - loop)) if loop is not None else None
        return {"stages": dict(self.seconds), "event_loop": loop, "process": process, "threads": threads}


class _Stage:
    __slots__ = ("meter", "name", "started")

    def __init__(self, meter: CpuMeter, name: str):
        self.meter, self.name, self.started = meter, name, 0.0

    def __enter__(self) -> None:
        self.started = self.meter.clock()

    def __exit__(self, *exc) -> None:
        self.meter.add(self.name, self.started)
