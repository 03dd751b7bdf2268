"""The report's profile summary (benchmarks/loadgen/profile.py) over py-spy's raw samples,
with native frames: compiled modules' functions go back under their source files."""

from __future__ import annotations

from benchmarks.loadgen import profile


def test_compiled_and_native_frames_are_put_under_their_modules_and_areas(tmp_path):
    root = "_run_module_as_main (<frozen runpy>:198);BftEngine._handle_peer_message (/x/node/bft_engine.py:196)"
    raw = tmp_path / "samples.txt"
    raw.write_text("\n".join([
        # Contract execution, compiled: no Python frame below the engine.
        f"{root};CPyDef_chain___Chain___build_block (__native_ab12.c:100);CPyDef_payloads___check (__native_ab12.c:200);Py_DECREF (object.h:537) 6",
        # A state-tree method of a compiled class.
        f"{root};CPyDef_state_tree___StateTree____apply (__native_ab12.c:300) 3",
        # libsodium inside a compiled signature check.
        f"{root};CPyDef_signing___verify (__native_ab12.c:400);crypto_sign_open (_sodium.c:10250);ge25519_double_scalarmult_vartime (ed25519_ref10.c:789) 5",
        # LevelDB's own code under the (interpreted) store.
        f"{root};LevelDBStore.write (/x/node/kv.py:105);leveldb::DBImpl::Write (libleveldb-e43d8649.so.1.22.0) 2",
        # Interpreted Python, as before.
        f"{root};verify (/x/node/signing.py:51) 4",
    ]) + "\n")
    got = profile.summarise(str(raw))
    areas = {a["area"]: a["pct"] for a in got["areas"]}
    assert got["samples"] == 20
    assert areas == {"contracts (execution)": 30.0, "Ed25519 signatures (PyNaCl)": 45.0, "state tree (hashing, nodes)": 15.0, "LevelDB (plyvel)": 10.0}
    inclusive = {f["function"]: f["pct"] for f in got["inclusive"]}
    assert inclusive["node/chain.py:Chain.build_block"] == 30.0
    assert inclusive["contracts/payloads.py:check"] == 30.0
    assert inclusive["node/state_tree.py:StateTree._apply"] == 15.0
    assert inclusive["node/signing.py:verify"] == 45.0
