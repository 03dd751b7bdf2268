"""A property-based run over the node's OpenAPI schema (schemathesis): requests generated from
every operation's parameters and bodies, sent over a real socket to a real node, signed by
various parties (or not at all). None may produce a 5xx; every 4xx carries a code and a
message. The endless event stream is left out (tests/test_api_events.py covers it)."""

from __future__ import annotations

import itertools

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.client_auth import signed_headers
from tests.cadastre_support import People, ThreadedNode, register

pytestmark = pytest.mark.filterwarnings("ignore")
EXAMPLES = 100         # per operation


class RequestsEdsAuth(requests.auth.AuthBase):
    """EDS request signing for `requests` (what schemathesis sends with)."""

    def __init__(self, party, chain_id: str, now_ms):
        self.party, self.chain_id, self.now_ms = party, chain_id, now_ms
        self._last = 0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        self._last = ts = max(self.now_ms(), self._last + 1)
        r.headers.update(signed_headers(self.party.signer, self.party.cert, self.chain_id, r.method, r.path_url, body, ts))
        return r


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from tests.ledger_support import TestPKI

    test_pki = TestPKI()
    people = People(test_pki)
    with ThreadedNode(str(tmp_path_factory.mktemp("schema") / "n"), test_pki, {"register": register(people)}) as tn:
        sessions = []
        for who in (people.owner, people.bank, people.registrar, people.stranger, people.court, people.auditor, None):
            s = requests.Session()
            if who is not None:
                s.auth = RequestsEdsAuth(who, tn.node.chain_id, tn.node.rt.now_ms)
            sessions.append(s)
        tn.sessions = itertools.cycle(sessions)
        yield tn


def _check(case, served) -> None:
    response = case.call(base_url=served.url, session=next(served.sessions), timeout=60)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("code"), str) and body["code"].isupper(), body
        assert isinstance(body.get("message"), str) and body["message"], body


def test_no_request_makes_the_node_fail(served):
    # Driven operation by operation (schemathesis's pytest fixture loader does not run under
    # pytest 9); each operation gets its own Hypothesis run.
    schema = schemathesis.openapi.from_url(served.url + "/openapi.json").exclude(path="/v1/events/stream")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def run(case):
            _check(case, served)

        run()
    # The run really went through the node: count what its metrics saw.
    metrics = requests.get(served.url + "/metrics", timeout=30).text
    served_total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("tamga_http_requests_total{"))
    assert served_total >= len(operations) * 10, served_total
    assert 'status="500"' not in metrics
