"""Atheris (libFuzzer) harness for the trust suite's hostile-input targets (issue 7).

Run by hand, from the repository root:

    .venv/bin/python tests/fuzz/fuzz_envelope.py -atheris_runs=200000

Arguments go to libFuzzer (-atheris_runs=N, -max_len=N, -artifact_prefix=DIR/, a corpus
directory, ...), except these two of ours:

    --write-seeds DIR   write one seed per raw target (a valid envelope, block, commit,
                        payload) to DIR and exit; pass DIR as the corpus afterwards.
    --explain FILE      decode a crashing input libFuzzer saved: print the target it runs
                        and write that target's bytes to FILE.<target>.bin, the form kept
                        in tests/fuzz/regressions/ (name it <target>--<what>.bin there).

Each input's last byte picks a mode (libFuzzer's data provider reads integers from the
end): a target fed the raw remaining bytes, or a structured mutator of a valid input
steered by them (tests/fuzz/targets.py). A crash is any exception other than a TamgaError,
or a broken property (something stored, the mempool changed). Envelope and commit inputs
reproduce in any world; block inputs depend on the world's random keys, so a block crash
becomes a code-built case in tests/test_trust_fuzz.py instead of a file.

At the end of a run with -atheris_runs it prints the number of inputs per mode and outcome.
"""

from __future__ import annotations

import collections
import os
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import atheris  # noqa: E402

with atheris.instrument_imports(include=["node", "consensus", "tests.fuzz.targets"]):
    from tests.fuzz import targets as T  # noqa: E402

# cryptography warns about certificates with a non-positive serial; the fuzzer makes many.
warnings.simplefilter("ignore")

MODES = (
    ("envelope", False),
    ("envelope", True),
    ("codec", False),
    ("codec", True),
    ("proto", False),
    ("block", False),
    ("block", True),
    ("commit", False),
    ("commit", True),
    ("peer", False),
    ("peer", True),
)

WORLD: T.World | None = None
COUNTS: collections.Counter = collections.Counter()
RUNS = 0


def materialize(data: bytes) -> tuple[str, bytes]:
    """The target an atheris input runs, and the bytes it feeds that target."""
    fdp = atheris.FuzzedDataProvider(data)
    target, structured = MODES[fdp.ConsumeIntInRange(0, len(MODES) - 1)]
    if structured:
        return target, T.MUTATORS[target](WORLD, T.ProviderChoices(fdp))
    return target, fdp.ConsumeBytes(fdp.remaining_bytes())


def test_one_input(data: bytes) -> None:
    target, payload = materialize(data)
    outcome = T.TARGETS[target](WORLD, payload)
    COUNTS[(target, outcome)] += 1
    if RUNS and sum(COUNTS.values()) == RUNS:
        print(f"tamga-fuzz: {RUNS} inputs, 0 crashes", flush=True)
        for (tgt, out), n in sorted(COUNTS.items()):
            print(f"tamga-fuzz:   {tgt:9} {out:40} {n}", flush=True)


def write_seeds(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    samples = {"envelope": WORLD.envelopes[1], "codec": T.codec.encode({"key": "k", "value": b"v", "n": [1, 2]}), "proto": WORLD.next_block, "block": WORLD.next_block, "commit": WORLD.commit, "peer": WORLD.peer_proposal}
    for mode, (target, structured) in enumerate(MODES):
        if not structured:
            with open(os.path.join(directory, f"seed-{mode}-{target}"), "wb") as f:
                f.write(samples[target] + bytes([mode]))


def main(argv: list[str]) -> None:
    global WORLD, RUNS
    WORLD = T.World()
    if "--write-seeds" in argv:
        write_seeds(argv[argv.index("--write-seeds") + 1])
        return
    if "--explain" in argv:
        path = argv[argv.index("--explain") + 1]
        with open(path, "rb") as f:
            target, payload = materialize(f.read())
        with open(f"{path}.{target}.bin", "wb") as f:
            f.write(payload)
        print(f"target {target}; its input ({len(payload)} bytes) written to {path}.{target}.bin")
        T.TARGETS[target](WORLD, payload)
        print("no crash on this input now")
        return
    for arg in argv:
        if arg.startswith("-atheris_runs="):
            RUNS = int(arg.split("=", 1)[1])
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
