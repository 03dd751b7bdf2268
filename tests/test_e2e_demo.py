"""End to end: `tamga demo` against a real 4-node consortium started as `tamga cluster up`
starts it (the registry contracts, the demo register of 3,000 objects in genesis, HTTP APIs
on), in a temporary directory.

The demo runs as the command people run (a subprocess, --json); the test checks its account
of every step, then checks the ledger itself over the API (not the demo's word), shows that
the demo notices a step that does not behave as the law says (a negative control), that the
auditor's check over the Ledger service catches a changed block, receipt or genesis, and
finally stops the consortium and runs `tamga chain verify --data-dir` on every node's store.
Every wait is bounded and polls a condition.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from cli import demo_register
from cli.cluster_cmd import _default_app_state
from cli.demo_flow import STEPS, Consortium, Demo, StepFailed, one_event
from cli.remote_verify import verify_over_ledger
from contracts import builders as B
from proto import tamga_pb2 as pb
from tests.cluster_harness import ROOT, Cluster, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.timeout(180)]

DEMO_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def consortium(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("demo") / "cluster")
    app_state = _default_app_state("tamga-registry/1")          # what `tamga cluster up` puts in genesis
    assert len(app_state["register"]) == demo_register.DEFAULT_SIZE
    c = Cluster(directory, 4, app="tamga-registry/1", app_state=app_state, http=True)
    c.start_all()
    try:
        for name, cfg in c.configs.items():
            wait_for(lambda cfg=cfg: _healthy(cfg.http_listen), 60, f"the HTTP API of {name}")
        yield c
    finally:
        c.stop_all()


def _healthy(listen: str) -> bool:
    try:
        return httpx.get(f"http://{listen}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _steps(account: dict) -> dict[str, dict]:
    return {s["id"]: s for s in account["steps"]}


def test_the_demo_walks_the_pilot_flow_and_every_step_behaves_as_the_law_says(consortium):
    proc = subprocess.run([sys.executable, "-m", "cli.main", "demo", "--dir", consortium.dir, "--json"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    account = json.loads(proc.stdout)
    assert account["ok"] and account["failed_step"] is None
    assert [s["id"] for s in account["steps"]] == [sid for sid, _ in STEPS]
    assert all(s["ok"] and s["error"] is None and s["lines"] for s in account["steps"])
    assert "[14/14]" in proc.stderr and "Every step behaved as the law says" in proc.stderr     # progress for people
    st = _steps(account)
    people = st["consortium"]["facts"]["people"]
    flat, other = st["consortium"]["facts"]["apartment"], st["consortium"]["facts"]["other_object"]
    pledgor, buyer, bank_bin = people["pledgor"]["iin"], people["buyer"]["iin"], people["bank"]["bin"]
    register = {o["cn"]: o for o in _default_app_state("tamga-registry/1")["register"]}
    assert register[flat]["rights"][0]["holders"] == [{"id": pledgor, "share": [1, 1]}]
    assert register[other]["rights"][0]["holders"] == [{"id": pledgor, "share": [1, 1]}]

    # the bank saw no encumbrance; the pledge was filed, then registered by the registrar
    assert st["encumbrance_check"]["facts"]["certificate"]["encumbered"] is False
    assert st["encumbrance_check"]["facts"]["holder_check"] == {"id": pledgor, "holds_right": True}
    filed = st["pledge_filed"]["facts"]["tx"]
    assert filed["outcome"] == "filed" and filed["kind"] == "pledge.file"
    decided = st["pledge_registered"]["facts"]["tx"]
    assert decided["outcome"] == "registered" and decided["height"] > filed["height"]
    pledge_entry = st["pledge_registered"]["facts"]["pledge_entry"]

    # the notice came to the bank's endpoint signed by a validator, and on the Ministry's stream
    notices = st["notifications"]["facts"]
    assert notices["webhook_delivery"]["signature_ok"] is True
    assert notices["webhook_delivery"]["validator"] in consortium.names
    assert notices["webhook_delivery"]["body"]["event"]["data"]["pledge"] == pledge_entry
    assert "application.registered" in notices["webhook_kinds"] and "application.registered" in notices["sse_events"]

    # the extract verified offline, and an altered copy did not
    ext = st["extract"]["facts"]
    assert ext["verified"]["cadastral_number"] == flat and len(ext["verified"]["signed_by"]) >= 3
    assert ext["forged_rejected"]
    with open(ext["file"], "rb") as f:
        extract = json.loads(f.read())
    assert [p["id"] for p in extract["content"]["encumbrances"]["pledges"]] == [pledge_entry]

    # the auditor could not open the live store and verified over the Ledger service instead
    audit = st["audit"]["facts"]
    assert audit["method"] == "ledger" and audit["report"]["ok"] is True
    assert audit["report"]["blocks"] >= decided["height"] and audit["report"]["txs"] >= 2
    assert len(audit["block_hashes"]) == 4 and len(set(audit["block_hashes"].values())) == 1

    # the sale: tokens locked at filing, title and payment in one transaction
    assert st["sale_filed"]["facts"]["locked"] == [[buyer, 18_500_000_00]]
    assert st["sale_registered"]["facts"]["settled"] == {"payments": [[buyer, 18_500_000_00]], "receipts": [[pledgor, 18_500_000_00]]}
    sale_entry = st["sale_registered"]["facts"]["right_entry"]

    # the arrest registered at once, and then the sale refused
    arrest = st["arrest"]["facts"]
    assert arrest["tx"]["outcome"] == "registered" and arrest["certificate"]["excluding"] is True
    assert st["sale_refused"]["facts"]["receipt"]["code"] == "ENCUMBRANCE_EXCLUDES"

    # the court's reversal: cancelled, restored, refunded, and still in history
    court = st["court_reversal"]["facts"]
    assert court["cancelled"]["cancelled"] == sale_entry
    assert court["refund"]["payments"] == [[buyer, 18_500_000_00]] and court["refund"]["shortfalls"] == []
    history = {e["id"]: e["status"] for e in court["history"]}
    assert history[sale_entry] == "cancelled" and history[court["cancelled"]["restored"]] == "active"

    # the ledger itself, read as the registering body (full view), agrees with the account
    demo = Demo(Consortium.load(consortium.dir))
    try:
        demo.people.update(_registrar_only(demo))
        flat_cert = demo.certificate("registrar", flat)["certificate"]
        assert [(p["entry"], p["pledgee"]) for p in flat_cert["pledges"]] == [(pledge_entry, bank_bin)]
        other_cert = demo.certificate("registrar", other)["certificate"]
        assert [(h["id"], h["share"]) for h in other_cert["holders"]] == [(pledgor, [1, 1])]
        assert [a["entry"] for a in other_cert["arrests"]] == [arrest["arrest_entry"]]
        sheet = demo.get("registrar", f"/v1/objects/{other}")["sheet"]
        assert {e["id"]: e["status"] for e in sheet["history"]}[sale_entry] == "cancelled"
    finally:
        demo.close()


def _registrar_only(demo: Demo) -> dict:
    from cli.demo_people import Cast  # noqa: PLC0415

    officials = Cast(demo.c.ca, demo.c.operators(), demo.now()).officials()
    return {"registrar": officials["registrar"]}


class _ArrestElsewhere(Demo):
    """A demo whose bailiff arrests the pledged flat instead of the sold object: the resale is
    then not barred, so the step that expects a refusal must fail and say so."""

    def step_arrest(self) -> None:
        flat, bailiff = self.s["flat"]["cn"], self.people["bailiff"]
        st = self.submit(B.encumbrance_impose([flat], "arrest", bailiff.iin, B.act("EP-X", self.today().isoformat(), b"x"), "control"), "bailiff")
        self.expect_outcome(st, "registered", "the arrest")
        self.s["arrest_entry"] = one_event(st, "encumbrance.imposed")["entry"]


def test_the_demo_names_the_step_that_does_not_behave_as_the_law_says(consortium):
    account = _ArrestElsewhere(Consortium.load(consortium.dir)).run()
    assert account["ok"] is False and account["failed_step"] == "sale_refused"
    failed = _steps(account)["sale_refused"]
    assert "expected 'refused'" in failed["error"] and "'filed'" in failed["error"]
    assert [s["id"] for s in account["steps"]][-1] == "sale_refused"        # it stops there
    assert all(s["ok"] for s in account["steps"][:-1])


class _NoHouseholdLeft(Demo):
    def _pick_household(self, register):
        return None, 0


def test_without_a_household_left_the_registrar_loads_one_and_the_flow_passes(consortium):
    account = _NoHouseholdLeft(Consortium.load(consortium.dir)).run()
    assert account["ok"], [(s["id"], s["error"]) for s in account["steps"] if not s["ok"]]
    st = _steps(account)
    loaded = st["consortium"]["facts"]["loaded_household"]
    assert len(loaded) == 4 and all(cn.startswith("21-399-") for cn in loaded)
    assert st["consortium"]["facts"]["apartment"] in loaded and st["consortium"]["facts"]["other_object"] in loaded
    assert st["court_reversal"]["facts"]["refund"]["shortfalls"] == []


def test_a_directory_without_a_consortium_is_refused_with_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cli.main", "demo", "--dir", str(tmp_path / "none")], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "holds no consortium" in proc.stderr
    with pytest.raises(StepFailed):
        Consortium.load(str(tmp_path / "none"))


class _Tampering:
    """A Ledger stub that serves the node's chain with one thing changed."""

    def __init__(self, stub, height: int, change):
        self.stub, self.height, self.change = stub, height, change

    def Status(self, req, timeout=None):  # noqa: N802 - the gRPC method's name
        return self.stub.Status(req, timeout=timeout)

    def GetBlock(self, req, timeout=None):  # noqa: N802
        got = self.stub.GetBlock(req, timeout=timeout)
        return self.change(got) if req.height == self.height else got


def _with_tx_byte_flipped(got):
    block = pb.Block.FromString(got.block)
    env = bytearray(block.txs[0])
    env[-1] ^= 1                                    # the last byte of the first tx's last signature
    block.txs[0] = bytes(env)
    return pb.GetBlockResponse(block=block.SerializeToString(), commit=got.commit, receipts=got.receipts)


def test_verifying_a_running_node_over_the_ledger_catches_what_was_changed(consortium):
    genesis = Consortium.load(consortium.dir).genesis
    stub = consortium.ledger("gov4c")
    sound = verify_over_ledger(stub, genesis)
    assert sound.ok and sound.txs >= 8, sound.findings
    with_txs = next(h for h in range(1, sound.blocks + 1) if pb.Block.FromString(stub.GetBlock(pb.GetBlockRequest(height=h)).block).txs)

    receipts = verify_over_ledger(_Tampering(stub, with_txs, lambda g: pb.GetBlockResponse(block=g.block, commit=g.commit, receipts=g.receipts + b"\x00")), genesis)
    assert not receipts.ok and receipts.first_bad_height == with_txs and "receipts" in receipts.findings[0].what

    signature = verify_over_ledger(_Tampering(stub, with_txs, _with_tx_byte_flipped), genesis)
    assert not signature.ok and signature.first_bad_height == with_txs

    commit = verify_over_ledger(_Tampering(stub, with_txs, lambda g: pb.GetBlockResponse(block=g.block, commit=b"", receipts=g.receipts)), genesis)
    assert not commit.ok and commit.first_bad_height == with_txs

    other = dataclasses.replace(genesis, app_state={**genesis.app_state, "register": genesis.app_state["register"][:-1]})
    forked = verify_over_ledger(stub, other)                # a genesis that is not the consortium's
    assert not forked.ok and forked.first_bad_height == 1


def test_after_the_consortium_stops_every_store_passes_tamga_chain_verify(consortium):
    heads = {n: consortium.height(n) for n in consortium.names}
    top = max(heads.values())
    consortium.wait_height(consortium.names, top, timeout_s=30)
    consortium.stop_all()
    deadline = time.monotonic() + 60
    for name in consortium.names:
        proc = subprocess.run([sys.executable, "-m", "cli.main", "chain", "verify", "--data-dir", consortium.data_dir(name), "--json"],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True,
                              timeout=max(1.0, deadline - time.monotonic()))
        report = json.loads(proc.stdout)
        assert proc.returncode == 0 and report["ok"], (name, report)
        assert report["head_height"] >= top and report["txs"] >= 24     # 8 of the demo, 7 of the control, 9 with a loaded household
