"""The operator's and integrator's CLI against a real node process: status, blocks, txs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli
from node import envelope
from tests.cluster_harness import Cluster
from tests.test_consensus_processes import Client

pytestmark = pytest.mark.processes


def test_status_block_and_tx_commands(tmp_path):
    cluster = Cluster(str(tmp_path / "c"), 1, http=False)
    cluster.start_all()
    try:
        ledger = cluster.configs["moj"].ledger_listen
        client = Client(cluster)
        runner = CliRunner()
        env = envelope.build_envelope("tamga-local-1", "note.put", {"key": "deed", "value": b"x"}, [(client.signer, client.cert)], 42)
        path = tmp_path / "env.bin"
        path.write_bytes(env)
        out = runner.invoke(cli, ["tx", "submit", str(path), "--ledger", ledger, "--wait", "10", "--json"])
        assert out.exit_code == 0, out.output
        submitted = json.loads(out.output)
        assert submitted["status"] == "applied" and submitted["code"] == "STORED"

        shown = json.loads(runner.invoke(cli, ["tx", "show", submitted["tx_id"], "--ledger", ledger, "--json"]).output)
        assert shown["height"] == submitted["height"]
        block = json.loads(runner.invoke(cli, ["block", "show", "--height", str(submitted["height"]), "--ledger", ledger, "--json"]).output)
        assert [t["tx_id"] for t in block["txs"]] == [submitted["tx_id"]]
        assert block["commit"]["signers"] == [0]
        status = json.loads(runner.invoke(cli, ["node", "status", "--ledger", ledger, "--json"]).output)
        assert status["height"] >= submitted["height"] and status["node"] == "moj"

        again = runner.invoke(cli, ["tx", "submit", str(path), "--ledger", ledger])
        assert again.exit_code == 1 and "DUPLICATE_TX" in again.output
        missing = runner.invoke(cli, ["tx", "show", "00" * 32, "--ledger", ledger])
        assert missing.exit_code == 1 and "NOT_FOUND" in missing.output
    finally:
        cluster.stop_all()


def test_chain_verify_of_a_running_node_needs_ledger_and_genesis(tmp_path):
    cluster = Cluster(str(tmp_path / "c"), 1, http=False)
    cluster.start_all()
    try:
        client = Client(cluster)
        client.wait("moj", client.put("moj", "k"))
        runner = CliRunner()
        locked = runner.invoke(cli, ["chain", "verify", "--data-dir", cluster.data_dir("moj"), "--json"])
        assert locked.exit_code == 2 and "--ledger" in json.loads(locked.output)["error"]
        remote = runner.invoke(cli, ["chain", "verify", "--ledger", cluster.configs["moj"].ledger_listen, "--genesis", cluster.layout.genesis_file, "--json"])
        assert remote.exit_code == 0, remote.output
        assert json.loads(remote.output)["ok"] is True
    finally:
        cluster.stop_all()
    stopped = CliRunner().invoke(cli, ["chain", "verify", "--data-dir", cluster.data_dir("moj")])
    assert stopped.exit_code == 0 and stopped.output.startswith("OK")
