"""Benchmark: the consensus core's own cost per message and per height (not pass/fail).

Four validators in one process, every message delivered at once, blocks of `--block-kb`
KiB (e.g. 1000 transactions of 1 KiB). The application is trivial (the block hash is the
hash of a small header; validation is free), so the figures are the core's: signature
checks, tallies and the state machine. The real node adds transaction execution.

    .venv/bin/python -m benchmarks.bench_consensus --heights 200 --block-kb 1024
"""

from __future__ import annotations

import argparse
import struct
import time

from consensus.block_source import BlockMeta
from consensus.messages import CommitCertificate
from consensus.state_machine import ConsensusCore
from consensus.timeouts import TimeoutConfig
from consensus.validators import Validator, ValidatorSet
from node.hashing import sha256
from node.signing import Signer

HEADER_SIZE = 24


class FlatBlocks:
    def __init__(self, payload: bytes):
        self.payload = payload

    def propose(self, height: int, round_: int, last_commit: CommitCertificate | None) -> bytes:
        return struct.pack(">QQQ", height, round_, 1_700_000_000_000 + height) + self.payload

    def inspect(self, block: bytes) -> BlockMeta | None:
        if len(block) < HEADER_SIZE:
            return None
        return BlockMeta(sha256(block[:HEADER_SIZE]), struct.unpack(">QQQ", block[:HEADER_SIZE])[2])

    def validate(self, height: int, block: bytes) -> bool:
        return struct.unpack(">Q", block[:8])[0] == height


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heights", type=int, default=200)
    parser.add_argument("--block-kb", type=int, default=1024)
    parser.add_argument("--validators", type=int, default=4)
    args = parser.parse_args()
    n = args.validators
    signers = [Signer(sha256(b"bench-%d" % i)) for i in range(n)]
    vset = ValidatorSet(Validator(s.public_key, 1) for s in signers)
    app = FlatBlocks(b"\x00" * (args.block_kb * 1024))
    now = 1_700_000_000_000
    config = TimeoutConfig(gossip_interval_ms=10**9)
    cores = [
        ConsensusCore(chain_id="bench", signer=s, block_source=app, height=1, validators=vset,
                      prev_block_time_ms=now, last_commit=None, now_ms=now, config=config)
        for s in signers
    ]
    messages = 0
    step_s = 0.0
    started = time.perf_counter()
    for height in range(1, args.heights + 1):
        pending = [(i, o) for i, c in enumerate(cores) for o in c.ready().messages]
        decided: dict[int, object] = {}
        while pending:
            nxt = []
            for src, out in pending:
                for dst in range(n) if out.to is None else (out.to,):
                    if dst == src:
                        continue
                    t0 = time.perf_counter()
                    cores[dst].step(out.message, peer=src)
                    step_s += time.perf_counter() - t0
                    messages += 1
                    ready = cores[dst].ready()
                    if ready.decision is not None:
                        decided[dst] = ready.decision
                    nxt += [(dst, o) for o in ready.messages]
            pending = nxt
        assert len(decided) == n and len({d.block_hash for d in decided.values()}) == 1, f"height {height} not decided"
        d = next(iter(decided.values()))
        for c in cores:
            c.advance_height(height + 1, vset, now + height, d.certificate)
    elapsed = time.perf_counter() - started
    print(f"{n} validators, {args.heights} heights, blocks of {args.block_kb} KiB")
    print(f"  {args.heights / elapsed:.0f} heights/s for the whole cluster in one process ({elapsed:.2f} s)")
    print(f"  {messages} messages stepped, {step_s / messages * 1e6:.0f} us per step() on average")
    print(f"  per node: {elapsed / args.heights / n * 1e3:.2f} ms of consensus CPU per height")


if __name__ == "__main__":
    main()
