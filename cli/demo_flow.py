"""The walk-through of `tamga demo`: the pilot's flow against a running consortium, step by
step, each step checking that the ledger behaved as the law says.

Everything goes through the public surfaces a bank, a registrar or an auditor would use: the
HTTP API of one node (EDS-signed requests, api/client_auth.py; transactions POSTed to
/v1/txs), a webhook to the bank's endpoint, the event stream, verifiable extracts checked
offline (cadastre.extract.verify, what `tamga extract verify` runs), and the Ledger gRPC
service for the auditor. The demo's people get certificates from the local consortium's CA
key (cli/demo_people.py); the objects come from the demo register in genesis: each run takes
the next household whose objects are still unencumbered, so the demo can be run again.

Steps (STEPS): the bank reads the certificate of encumbrances; registers its endpoint; bank
and pledgor sign the smart pledge contract and the bank's system files it; the registrar
checks and registers it; the notices arrive (webhook signed by a node, and the Ministry's
event stream); the applicant downloads an extract and verifies it offline; the auditor
verifies the chain; a buyer gets settlement tokens; a sale settled in tokens is filed (tokens
locked) and registered (title and payment in one transaction); a bailiff's arrest is
registered at once and a sale is then refused; a court cancels the sale (Art 33, 44.4): the
seller is restored, the tokens refunded, the cancelled entry stays in history.

May import: anything in Tamga (cli is the top of the graph), httpx, grpc.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import glob
import json
import os
import secrets
import time
from typing import Any, Callable

import grpc
import httpx

from cli import demo_register
from cli.demo_people import Cast, Person, buyer_iin
from cli.demo_receiver import WebhookReceiver
from contracts import builders as B
from node import envelope, pki
from node.config import NodeConfig
from node.genesis import Genesis
from proto import tamga_pb2 as pb

ASTANA = datetime.timezone(datetime.timedelta(hours=5))
PLEDGE_AMOUNT_TIYN = 25_000_000 * 100           # a 25 million tenge mortgage loan
SALE_PRICE_TIYN = 18_500_000 * 100
HOUSEHOLDS_TRIED_MAX = 300
WAIT_MS_MAX = 30_000                            # the longest wait POST /v1/txs accepts (api/routes_ledger.py)


class StepFailed(Exception):
    """The ledger did not behave as the law says (or could not be asked)."""

    def __init__(self, message: str, **facts: Any):
        super().__init__(message)
        self.message = message
        self.facts = facts


@dataclasses.dataclass
class StepRecord:
    id: str
    title: str
    ok: bool = False
    lines: list[str] = dataclasses.field(default_factory=list)
    facts: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class Reporter:
    """What the demo tells as it goes (the command prints; tests may collect)."""

    def start(self, index: int, total: int, step: StepRecord) -> None: ...

    def line(self, text: str) -> None: ...

    def done(self, step: StepRecord) -> None: ...


# --- the consortium on disk ---------------------------------------------------------------
@dataclasses.dataclass
class Consortium:
    directory: str
    genesis: Genesis
    ca_pem: bytes
    ca: pki.CertificateAuthority
    configs: dict[str, NodeConfig]
    node: NodeConfig                 # the node whose API the demo's people use

    @classmethod
    def load(cls, directory: str, node: str | None = None) -> "Consortium":
        genesis_file = os.path.join(directory, "genesis.json")
        if not os.path.exists(genesis_file):
            raise StepFailed(f"{directory} holds no consortium (no genesis.json); start one with scripts/start or `tamga cluster up --dir {directory}`")
        with open(genesis_file, "rb") as f:
            genesis = Genesis.from_json(f.read())
        try:
            with open(os.path.join(directory, "ca", "ca.pem"), "rb") as f:
                ca_pem = f.read()
            with open(os.path.join(directory, "ca", "ca.key"), "rb") as f:
                ca = pki.CertificateAuthority.load(ca_pem, f.read())
        except OSError as exc:
            raise StepFailed(f"the consortium's CA key is needed to issue the demo's certificates: {exc}") from None
        configs = {}
        for path in sorted(glob.glob(os.path.join(directory, "nodes", "*", "config.json"))):
            cfg = NodeConfig.load(path)
            configs[cfg.name] = cfg
        if not configs:
            raise StepFailed(f"{directory}/nodes holds no node configs")
        name = node or ("bank" if "bank" in configs else next(iter(configs)))
        if name not in configs:
            raise StepFailed(f"no node {name!r} in {directory}; nodes: {', '.join(configs)}")
        if not configs[name].http_listen:
            raise StepFailed(f"node {name} serves no HTTP API (http_listen is empty in its config)")
        return cls(directory, genesis, ca_pem, ca, configs, configs[name])

    @property
    def base_url(self) -> str:
        return f"http://{self.node.http_listen}"

    def operators(self) -> dict[str, tuple[str, str]]:
        from node.cluster import OPERATORS  # noqa: PLC0415

        return {name: (org, bin_) for name, org, bin_ in OPERATORS}


# --- helpers ----------------------------------------------------------------------------------
def tenge(tiyn: int) -> str:
    return f"{tiyn // 100:,} tenge" + (f" {tiyn % 100:02d} tiyn" if tiyn % 100 else "")


def m2(dm2: int) -> str:
    return f"{dm2 // 100:,}" + (f".{dm2 % 100:02d}" if dm2 % 100 else "") + " m²"


def _error_text(r: httpx.Response) -> str:
    try:
        j = r.json()
        return f"HTTP {r.status_code} {j.get('code')}: {j.get('message')}"
    except ValueError:
        return f"HTTP {r.status_code}: {r.text[:200]}"


def events_of(status: dict, kind: str) -> list[dict]:
    return [e["data"] for e in status.get("events") or [] if e["kind"] == kind]


def one_event(status: dict, kind: str) -> dict:
    found = events_of(status, kind)
    if len(found) != 1:
        raise StepFailed(f"expected one {kind!r} notification in tx {status.get('tx_id')}, got {[e['kind'] for e in status.get('events') or []]}")
    return found[0]


# --- the walk-through ----------------------------------------------------------------------------
STEPS: list[tuple[str, str]] = [
    ("consortium", "The consortium and the demo's participants"),
    ("encumbrance_check", "The bank asks for the certificate of encumbrances"),
    ("bank_endpoint", "The bank's information system registers its endpoint for notifications"),
    ("pledge_filed", "The bank forms the smart pledge contract; bank and pledgor sign with their EDS; the bank's system submits it"),
    ("pledge_registered", "The registrar checks the application and registers the pledge"),
    ("notifications", "The registration notice reaches the bank's system and the Ministry of Justice"),
    ("extract", "The applicant downloads a verifiable extract and checks it offline"),
    ("audit", "An auditor verifies the whole chain"),
    ("tokens_issued", "The buyer receives settlement tokens"),
    ("sale_filed", "A sale settled in tokens is filed: the buyer's tokens are locked"),
    ("sale_registered", "The registrar registers the sale: title and payment move together"),
    ("arrest", "A bailiff arrests the object: registered at once"),
    ("sale_refused", "A sale while the arrest stands is refused"),
    ("court_reversal", "A court declares the sale invalid: the entry is cancelled (Art 33, 44.4)"),
]


class Demo:
    def __init__(self, consortium: Consortium, *, timeout_s: float = 30.0, reporter: Reporter | None = None,
                 now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.timezone.utc)):
        self.c = consortium
        self.timeout_s = timeout_s
        self.reporter = reporter or Reporter()
        self.now = now
        self.chain_id = consortium.genesis.chain_id
        self.steps: list[StepRecord] = []
        self.current: StepRecord | None = None
        self.people: dict[str, Person] = {}
        self.clients: dict[str, httpx.Client] = {}
        self.receiver: WebhookReceiver | None = None
        self.s: dict[str, Any] = {}        # what later steps need from earlier ones

    # --- running ------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.monotonic()
        try:
            for i, (sid, title) in enumerate(STEPS, start=1):
                step = StepRecord(sid, title)
                self.steps.append(step)
                self.current = step
                self.reporter.start(i, len(STEPS), step)
                t0 = time.monotonic()
                try:
                    getattr(self, "step_" + sid)()
                    step.ok = True
                except StepFailed as exc:
                    step.error = exc.message
                    step.facts.update(exc.facts)
                except (httpx.HTTPError, grpc.RpcError) as exc:
                    step.error = f"the consortium could not be reached: {type(exc).__name__}: {exc}"
                except OSError as exc:
                    step.error = f"{type(exc).__name__}: {exc}"
                step.seconds = round(time.monotonic() - t0, 3)
                self.reporter.done(step)
                if not step.ok:
                    break
        finally:
            self.close()
        failed = next((s for s in self.steps if not s.ok), None)
        return {
            "ok": failed is None and len(self.steps) == len(STEPS),
            "failed_step": failed.id if failed else None,
            "chain_id": self.chain_id,
            "node": self.c.node.name,
            "api": self.c.base_url,
            "seconds": round(time.monotonic() - started, 3),
            "steps": [s.to_dict() for s in self.steps],
        }

    def close(self) -> None:
        if self.s.get("webhook") is not None:
            # The demo's endpoint goes away with it: remove the webhook, or the node would
            # keep retrying deliveries to it.
            try:
                self.http("bank").delete(f"/v1/webhooks/{self.s.pop('webhook')}")
            except httpx.HTTPError:
                pass
        for c in self.clients.values():
            c.close()
        self.clients.clear()
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None

    def say(self, text: str) -> None:
        assert self.current is not None
        self.current.lines.append(text)
        self.reporter.line(text)

    def fact(self, **facts: Any) -> None:
        assert self.current is not None
        self.current.facts.update(facts)

    # --- talking to the node ------------------------------------------------------------------
    def http(self, who: str) -> httpx.Client:
        if who not in self.clients:
            self.clients[who] = self.people[who].client(self.c.base_url, self.chain_id, self.timeout_s + 10)
        return self.clients[who]

    def get(self, who: str, path: str, **params: Any) -> Any:
        r = self.http(who).get(path, params={k: v for k, v in params.items() if v is not None})
        if r.status_code != 200:
            raise StepFailed(f"GET {path} as {self.people[who].name}: {_error_text(r)}")
        return r.json()

    def submit(self, built: tuple[str, dict], *signers: str) -> dict:
        """Sign with each signer's EDS, submit through the API as the first signer's system,
        and wait for the commit; the tx status (outcome, receipt, application, events)."""
        kind, payload = built
        env = envelope.build_envelope(self.chain_id, kind, payload, [self.people[s].pair for s in signers], secrets.randbits(62))
        client = self.http(signers[0])
        wait_ms = min(int(self.timeout_s * 1000), WAIT_MS_MAX)
        r = client.post("/v1/txs", params={"wait_ms": wait_ms}, json={"envelope": base64.b64encode(env).decode()})
        if r.status_code not in (200, 202):
            raise StepFailed(f"the node did not accept the {kind} transaction: {_error_text(r)}")
        status = r.json()
        deadline = time.monotonic() + self.timeout_s
        while status.get("status") != "committed":
            # 202: accepted but not committed within wait_ms; ask again until our deadline.
            if time.monotonic() > deadline:
                raise StepFailed(f"the {kind} transaction {status.get('tx_id')} was not committed within {self.timeout_s:.0f} s")
            time.sleep(0.2)
            r = client.get(f"/v1/txs/{status['tx_id']}")
            if r.status_code == 200:
                status = r.json()
        return status

    def expect_outcome(self, status: dict, outcome: str, what: str) -> None:
        if status["outcome"] != outcome:
            rec = status["receipt"]
            raise StepFailed(f"{what}: expected {outcome!r}, the ledger answered {status['outcome']!r} "
                             f"({rec.get('code')}: {rec.get('message')} {rec.get('article') or ''})".rstrip(),
                             tx_id=status["tx_id"], receipt=rec)

    def certificate(self, who: str, cn: str, holder: str | None = None) -> dict:
        return self.get(who, f"/v1/objects/{cn}/encumbrances", holder=holder)

    def today(self) -> datetime.date:
        return self.now().astimezone(ASTANA).date()

    def tx_line(self, status: dict) -> str:
        return f"tx {status['tx_id'][:16]}… committed in block {status['height']}"

    # --- 1. the consortium -----------------------------------------------------------------------
    def step_consortium(self) -> None:
        c = self.c
        health = httpx.get(f"{c.base_url}/health", timeout=self.timeout_s).json()
        register = list(c.genesis.app_state.get("register") or [])
        self.say(f"Chain {self.chain_id}: {len(c.genesis.validators)} validator{'s' if len(c.genesis.validators) > 1 else ''} "
                 f"({', '.join(f'{v.name} – {v.organisation}' for v in c.genesis.validators)})")
        self.say(f"Using the HTTP API of node {c.node.name} at {c.base_url} (height {health['height']}, "
                 f"cadastre at {health['cadastre_height']}, status {health['status']})")
        self.say(f"Demo register in genesis: {len(register):,} objects entered by systematic registration (Chapter 6)")
        if health["status"] != "ok":
            raise StepFailed(f"node {c.node.name} reports status {health['status']} (lag {health.get('lag_blocks')} blocks)")
        cast = Cast(c.ca, c.operators(), self.now())
        self.people.update(cast.officials())
        household, run = self._pick_household(register)
        if household is None:
            household, run = self._load_household(len(register))
        self.people["pledgor"] = cast.citizen("pledgor", household.owner)
        self.people["buyer"] = cast.citizen("buyer", buyer_iin(run, 0))
        self.people["buyer2"] = cast.citizen("buyer2", buyer_iin(run, 1))
        self.s.update(flat=household.apartment, other=household.other, run=run)
        self.say("EDS certificates issued with the consortium CA key (ca/ca.key) to:")
        for key in ("bank", "pledgor", "registrar", "bailiff", "court", "issuer", "buyer", "buyer2", "moj"):
            self.say(f"  {key:<9} {self.people[key].describe()}")
        flat, other = household.apartment, household.other
        self.say(f"The pledgor {self.people['pledgor'].name} is the sole owner of, in the register:")
        self.say(f"  {flat['cn']}  {flat['type']}, {flat['ident']['address']}, {m2(flat['ident']['area_total_dm2'])}")
        self.say(f"  {other['cn']}  {other['type']}, {other['ident']['address']}, {m2(other['ident']['area_total_dm2'])}")
        self.fact(height=health["height"], register_objects=len(register), household_index=run,
                  people={k: p.to_dict() for k, p in self.people.items()}, apartment=flat["cn"], other_object=other["cn"])

    def _pick_household(self, register: list[dict]) -> tuple[demo_register.Household | None, int]:
        """The first household of the register whose objects are still as loaded: unencumbered,
        nothing pending, the same sole owner (earlier runs of the demo used the ones before)."""
        for run, h in enumerate(demo_register.households(register)):
            if run >= HOUSEHOLDS_TRIED_MAX:
                break
            if all(self._untouched(o["cn"], h.owner) for o in (h.apartment, h.other)):
                return h, run
        return None, 0

    def _load_household(self, register_size: int) -> tuple[demo_register.Household, int]:
        """No untouched household in genesis (a small or no register, or many earlier runs):
        the registrar enters one by systematic registration (register.load, Art 56, 57) in the
        first free quarter of the district the generator leaves for this."""
        from node.identity import make_bin, make_iin  # noqa: PLC0415

        for q in range(1, 1000):
            cn = f"{demo_register.LOAD_REGION}-{demo_register.LOAD_DISTRICT}-{q:03d}-001"
            r = self.http("registrar").get(f"/v1/objects/{cn}/encumbrances")
            if r.status_code == 404:
                break
            if r.status_code != 200:
                raise StepFailed(f"looking for a free cadastral quarter: {_error_text(r)}")
        else:
            raise StepFailed("every quarter the demo loads households into is used; start a fresh consortium")
        owner = make_iin(datetime.date(1985, 1 + q % 12, 1 + q % 28), "F", 8000 + q)
        objects = demo_register.household_objects(owner, make_bin(datetime.date(2019, 1, 1), 60_000 + q), q)
        st = self.submit(B.register_load(objects, "demo household (systematic registration, Chapter 6)"), "registrar")
        self.expect_outcome(st, "registered", "the systematic registration of a demo household")
        self.say(f"The genesis register ({register_size:,} objects) holds no household the demo has not used yet: registrar "
                 f"{self.people['registrar'].name} enters {len(objects)} objects by systematic registration (Art 56, 57); {self.tx_line(st)}")
        self.fact(loaded_household=[o["cn"] for o in objects])
        return demo_register.Household(owner, objects[2], objects[3]), 10_000 + q

    def _untouched(self, cn: str, owner: str) -> bool:
        cert = self.certificate("registrar", cn)["certificate"]
        return (cert["status"] == "active" and not cert["encumbered"] and not cert["pending_applications"] and not cert["claims"]
                and cert["temporary_stop"] is None and [(h["id"], h["share"]) for h in cert["holders"]] == [(owner, [1, 1])])

    # --- 2. certificate of encumbrances ----------------------------------------------------------
    def step_encumbrance_check(self) -> None:
        flat = self.s["flat"]["cn"]
        pledgor = self.people["pledgor"]
        body = self.certificate("bank", flat, holder=pledgor.iin)
        cert = body["certificate"]
        self.fact(certificate=cert, as_of_height=body["as_of_height"], holder_check=body.get("holder_check"))
        self.say(f"{self.people['bank'].organisation} asks the register about {flat} (as of block {body['as_of_height']}):")
        self.say(f"  encumbrances: {'present' if cert['encumbered'] else 'none'}; arrests: {len(cert['arrests'])}; pledges: {len(cert['pledges'])}; "
                 f"legal claims: {len(cert['claims'])}; temporary stop: {'yes' if cert['temporary_stop'] else 'no'}; "
                 f"applications pending: {len(cert['pending_applications'])}")
        holds = (body.get("holder_check") or {}).get("holds_right")
        self.say(f"  {pledgor.name} (IIN {pledgor.iin}) holds a right in the object: {'confirmed' if holds else 'NOT confirmed'}")
        if cert["encumbered"] or cert["excluding"] or cert["pending_applications"]:
            raise StepFailed(f"{flat} should be free of encumbrances and pending applications before the pledge")
        if not holds:
            raise StepFailed(f"the register does not confirm that {pledgor.iin} holds {flat}")

    # --- 3. the bank's endpoint --------------------------------------------------------------------
    def step_bank_endpoint(self) -> None:
        self.receiver = WebhookReceiver(self.c.genesis).start()
        r = self.http("bank").post("/v1/webhooks", json={"url": self.receiver.url, "recipients": [self.people["bank"].bin]})
        if r.status_code != 201:
            raise StepFailed(f"registering the bank's webhook: {_error_text(r)}")
        hook = r.json()
        self.s["webhook"] = hook["id"]
        self.fact(webhook=hook)
        self.say(f"Webhook No. {hook['id']} registered on node {self.c.node.name}: notices addressed to {self.people['bank'].organisation} "
                 f"(BIN {', '.join(hook['recipients'])}) go to {self.receiver.url} (the bank's system, run by the demo on localhost)")

    # --- 4. the smart pledge contract ------------------------------------------------------------------
    def step_pledge_filed(self) -> None:
        flat = self.s["flat"]
        bank, pledgor = self.people["bank"], self.people["pledgor"]
        today = self.today()
        term_end = today.replace(year=today.year + 15).isoformat()
        agreement = f"FB-ZL-{today:%Y%m%d}-{self.s['run']:04d}"
        contract = (f"Smart pledge contract {agreement}: {pledgor.name} (IIN {pledgor.iin}) pledges {flat['cn']} to "
                    f"{bank.organisation} (BIN {bank.bin}) securing a loan of {tenge(PLEDGE_AMOUNT_TIYN)} until {term_end}").encode()
        docs = [B.doc("smart pledge contract", contract), B.doc("title document (scan)", flat["cn"].encode() + b" title"),
                B.doc("state duty payment receipt", agreement.encode() + b" duty")]
        h0 = self.get("bank", "/v1/status")["height"]
        self.s["events_from"] = h0
        st = self.submit(B.pledge_file(flat["cn"], bank.bin, PLEDGE_AMOUNT_TIYN, term_end, agreement, docs), "bank", "pledgor")
        self.say(f"Contract {agreement}: pledge of {flat['cn']} to {bank.organisation} for {tenge(PLEDGE_AMOUNT_TIYN)} until {term_end}; "
                 f"{len(docs)} documents attached by their SHA-256")
        self.say(f"Signed with EDS by the loan officer {bank.name} for {bank.organisation} and by the pledgor {pledgor.name}; "
                 f"submitted by the bank's system")
        self.fact(tx=st)
        if st["outcome"] == "registered":
            self.say(f"  {self.tx_line(st)}: registered at filing under the consortium's policy")
            self.s["pledge_status"] = st
            return
        self.expect_outcome(st, "filed", "the pledge application")
        app = st["application"]
        self.s["pledge_app"] = app["number"]
        self.say(f"  {self.tx_line(st)}: entered in the book of documents received as application No. {app['number']} "
                 f"(Art 13, 26); to be decided by {app['deadline']} (Art 23)")

    # --- 5. the registrar ----------------------------------------------------------------------------------
    def step_pledge_registered(self) -> None:
        flat = self.s["flat"]["cn"]
        bank = self.people["bank"]
        if "pledge_status" in self.s:
            st = self.s["pledge_status"]
        else:
            n = self.s["pledge_app"]
            app = self.get("registrar", f"/v1/applications/{n}")
            self.fact(application=app)
            self.say(f"Registrar {self.people['registrar'].name} ({self.people['registrar'].organisation}) opens application No. {n}: "
                     f"{app['type']} of {', '.join(app['objects'])}, "
                     f"status {app['status']}, applicants {', '.join(app['applicants'])}")
            if app["status"] != "filed" or app["type"] != "pledge" or app["objects"] != [flat]:
                raise StepFailed(f"application No. {n} should be a filed pledge of {flat}", application=app)
            self.say("  checks: the signatures of pledgee and pledgor (Art 22.2), the object's sheet, no excluding encumbrance (Art 31)")
            st = self.submit(B.application_decide(n, "register"), "registrar")
            self.expect_outcome(st, "registered", f"the decision on application No. {n}")
        reg = one_event(st, "application.registered")
        self.s["pledge_entry"] = reg["pledge"]
        self.s["pledge_height"] = st["height"]
        self.fact(tx=st, pledge_entry=reg["pledge"])
        self.say(f"  {self.tx_line(st)}: pledge registered as entry No. {reg['pledge']} in section 3 of the registration sheet "
                 f"(Art 14, 48); pledgee {reg['pledgee']}, {tenge(reg['amount_tiyn'])}")
        cert = self.certificate("bank", flat)["certificate"]
        pledges = [p for p in cert["pledges"] if p["entry"] == reg["pledge"]]
        if not pledges or pledges[0]["pledgee"] != bank.bin:
            raise StepFailed(f"the certificate of encumbrances of {flat} does not show pledge entry {reg['pledge']} to {bank.bin}", certificate=cert)
        self.say(f"  the certificate of encumbrances of {flat} now shows the pledge to {bank.organisation}")

    # --- 6. notices -----------------------------------------------------------------------------------------
    def step_notifications(self) -> None:
        assert self.receiver is not None
        n = self.s.get("pledge_app")

        def is_registration(d) -> bool:
            ev = (d.body or {}).get("event") or {}
            return ev.get("kind") == "application.registered" and (n is None or ev.get("data", {}).get("application") == n)

        d = self.receiver.wait_for(is_registration, self.timeout_s)
        if d is None:
            got = [((x.body or {}).get("event") or {}).get("kind") for x in self.receiver.deliveries]
            raise StepFailed(f"no 'application.registered' notice reached the bank's endpoint within {self.timeout_s:.0f} s (received: {got})")
        if not d.signature_ok or d.validator is None:
            raise StepFailed(f"the notice from {d.node!r} is not signed by a validator of the consortium", delivery=d.body)
        kinds = [((x.body or {}).get("event") or {}).get("kind") for x in self.receiver.deliveries]
        self.say(f"The bank's endpoint received {len(self.receiver.deliveries)} notices: {', '.join(k or '?' for k in kinds)}")
        self.say(f"  'application.registered' (delivery {d.delivery_id}, block {d.body['height']}) signed by node {d.node}: "
                 f"Ed25519 signature verified against validator {d.validator}'s key in genesis")
        self.fact(webhook_delivery={"node": d.node, "validator": d.validator, "signature_ok": d.signature_ok, "body": d.body},
                  webhook_kinds=kinds)
        # The Ministry of Justice's legal cadastre system follows the server-sent event stream.
        seen = self._sse("moj", after=f"{self.s['events_from']}-999999999", until_height=self.s["pledge_height"])
        mine = [e for e in seen if e["kind"] == "application.registered" and (n is None or e["data"].get("application") == n)]
        if not mine:
            raise StepFailed(f"the Ministry's event stream did not carry the registration (got {[e['kind'] for e in seen]})")
        self.say(f"The Ministry of Justice's legal cadastre system read the same notice from the event stream (event {mine[0]['id']}, "
                 f"recipients {', '.join(mine[0]['recipients'])})")
        self.fact(sse_events=[e["kind"] for e in seen])

    def _sse(self, who: str, *, after: str, until_height: int) -> list[dict]:
        out = []
        with self.http(who).stream("GET", "/v1/events/stream", params={"after": after, "until_height": until_height}) as r:
            if r.status_code != 200:
                r.read()
                raise StepFailed(f"the event stream refused {self.people[who].name}: {_error_text(r)}")
            data = None
            for line in r.iter_lines():
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and data is not None:
                    out.append(data)
                    data = None
        return out

    # --- 7. the extract ------------------------------------------------------------------------------------
    def step_extract(self) -> None:
        from cadastre.extract import ExtractInvalid, verify  # noqa: PLC0415

        flat = self.s["flat"]["cn"]
        r = self.http("pledgor").get(f"/v1/objects/{flat}/extract")
        if r.status_code != 200:
            raise StepFailed(f"downloading the extract of {flat}: {_error_text(r)}")
        data = r.content
        out_dir = os.path.join(self.c.directory, "demo")
        os.makedirs(out_dir, exist_ok=True)
        height = json.loads(data)["height"]
        path = os.path.join(out_dir, f"extract-{flat.replace(':', '_')}-{height}.json")
        with open(path, "wb") as f:
            f.write(data)
        self.say(f"{self.people['pledgor'].name} downloaded the extract of {flat} at block {height}: {path} ({len(data):,} bytes)")
        try:
            v = verify(data, self.c.ca_pem)
        except ExtractInvalid as exc:
            raise StepFailed(f"the extract does not verify: {exc.message}") from None
        pledges = [p for p in v.content["encumbrances"]["pledges"] if p["id"] == self.s["pledge_entry"]]
        if not pledges:
            raise StepFailed(f"the verified extract does not show pledge entry {self.s['pledge_entry']}")
        ca = os.path.join(self.c.directory, "ca", "ca.pem")
        self.say(f"Offline check (as `tamga extract verify {path} --ca {ca}`): VALID")
        self.say(f"  block {v.block_hash[:16]}… committed by {', '.join(v.signed_by)} (certified power {v.certified_power}, quorum {v.quorum}); "
                 f"issued by {v.issued_by}; {v.records} records proven against state root {v.state_root[:16]}…")
        self.say(f"  section 3 shows pledge entry No. {pledges[0]['id']} to {pledges[0]['pledgee']}")
        forged = data.replace(str(PLEDGE_AMOUNT_TIYN).encode(), str(PLEDGE_AMOUNT_TIYN // 10).encode(), 1)
        try:
            verify(forged, self.c.ca_pem)
            raise StepFailed("an extract with the pledge amount altered still verified")
        except ExtractInvalid as exc:
            self.say(f"  a copy with the pledge amount altered is rejected: {exc.message}")
            self.fact(forged_rejected=exc.message)
        self.fact(file=path, verified=v.to_dict() | {"content": None})

    # --- 8. the auditor ---------------------------------------------------------------------------------------
    def step_audit(self) -> None:
        from cli.client import ledger_stub  # noqa: PLC0415
        from cli.remote_verify import verify_over_ledger  # noqa: PLC0415
        from node.errors import TamgaError  # noqa: PLC0415
        from node.kv import StoreLocked, open_node_store  # noqa: PLC0415
        from node.verify import verify_store  # noqa: PLC0415

        target = self.c.configs.get("moj") or self.c.node
        data_dir = target.path(target.data_dir)
        self.say(f"$ tamga chain verify --data-dir {data_dir}")
        report, how = None, "store"
        try:
            kv = open_node_store(os.path.join(data_dir, "db"), create=False)
        except StoreLocked as exc:
            self.say(f"  refused: {exc.message}")
            self.say("  LevelDB admits one process per store and the node must keep running, so the auditor replays the chain")
            self.say(f"  the node serves over its Ledger service ({target.ledger_listen}) from the consortium's genesis.json, with the")
            self.say("  same checks (cli/remote_verify.py):")
            how = "ledger"
        except TamgaError as exc:
            raise StepFailed(f"the store of node {target.name} cannot be opened: {exc.message}") from None
        else:
            try:
                report = verify_store(kv)
            finally:
                kv.close()
        if report is None:
            report = verify_over_ledger(ledger_stub(target.ledger_listen), self.c.genesis)
        d = report.to_dict()
        self.fact(node=target.name, method=how, report=d)
        if not report.ok:
            raise StepFailed(f"the chain of node {target.name} fails verification at height {report.first_bad_height}: "
                             + "; ".join(f.what for f in report.findings), report=d)
        self.say(f"  OK: {report.blocks} blocks, {report.txs} transactions re-verified and re-executed in {report.seconds:.2f} s; "
                 f"every hash link, signature, certificate, commit certificate and state root checks out; head at height {report.head_height}")
        self._same_block_everywhere(report.blocks)

    def _same_block_everywhere(self, height: int) -> None:
        from cli.client import ledger_stub  # noqa: PLC0415

        hashes = {}
        for name, cfg in self.c.configs.items():
            got = ledger_stub(cfg.ledger_listen).GetBlock(pb.GetBlockRequest(height=height), timeout=self.timeout_s)
            hashes[name] = self.c.genesis.hash_fn(pb.Block.FromString(got.block).header).hex()
        self.fact(block_hashes=hashes)
        if len(set(hashes.values())) != 1:
            raise StepFailed(f"the nodes hold different blocks at height {height}: {hashes}")
        self.say(f"  every node ({', '.join(hashes)}) holds the same block {height}: {next(iter(hashes.values()))[:16]}…")

    # --- 9. tokens ---------------------------------------------------------------------------------------------
    def step_tokens_issued(self) -> None:
        buyer = self.people["buyer"]
        st = self.submit(B.token_issue(buyer.iin, SALE_PRICE_TIYN, f"tenge deposit {self.today():%Y%m%d}-{self.s['run']:04d}"), "issuer")
        self.expect_outcome(st, "issued", "issuing settlement tokens")
        ev = one_event(st, "token.issued")
        self.fact(tx=st)
        self.say(f"{self.people['issuer'].organisation} issued {tenge(ev['amount_tiyn'])} in settlement tokens to the buyer "
                 f"{buyer.name} (IIN {buyer.iin}) against tenge received; {self.tx_line(st)}; supply now {tenge(ev['supply_tiyn'])}")

    # --- 10-11. the sale ----------------------------------------------------------------------------------------
    def step_sale_filed(self) -> None:
        other = self.s["other"]
        seller, buyer = self.people["pledgor"], self.people["buyer"]
        contract = f"Sale of {other['cn']} by {seller.iin} to {buyer.iin} for {SALE_PRICE_TIYN} tiyn".encode()
        st = self.submit(B.sale_file(other["cn"], [B.seller(seller.iin, receive_tiyn=SALE_PRICE_TIYN)], [B.buyer(buyer.iin, pay_tiyn=SALE_PRICE_TIYN)],
                                     SALE_PRICE_TIYN, [B.doc("sale contract", contract)], settlement="token"), "pledgor", "buyer")
        self.expect_outcome(st, "filed", "the sale application")
        lock = one_event(st, "settlement.locked")
        if lock["payments"] != [[buyer.iin, SALE_PRICE_TIYN]]:
            raise StepFailed(f"the buyer's payment should be locked, the ledger locked {lock['payments']}")
        self.s["sale_app"] = st["application"]["number"]
        self.fact(tx=st, locked=lock["payments"])
        self.say(f"{seller.name} sells {other['cn']} ({other['ident']['address']}) to {buyer.name} for {tenge(SALE_PRICE_TIYN)}, "
                 f"settlement \"token\"; both sign with their EDS (Art 22.2)")
        self.say(f"  {self.tx_line(st)}: application No. {self.s['sale_app']} filed; the buyer's {tenge(SALE_PRICE_TIYN)} locked "
                 f"until the decision (delivery versus payment)")

    def step_sale_registered(self) -> None:
        other = self.s["other"]["cn"]
        seller, buyer = self.people["pledgor"], self.people["buyer"]
        n = self.s["sale_app"]
        st = self.submit(B.application_decide(n, "register"), "registrar")
        self.expect_outcome(st, "registered", f"the decision on sale application No. {n}")
        reg = one_event(st, "application.registered")
        settled = reg.get("settled") or {}
        if settled.get("payments") != [[buyer.iin, SALE_PRICE_TIYN]] or settled.get("receipts") != [[seller.iin, SALE_PRICE_TIYN]]:
            raise StepFailed(f"title and payment should move together; the registration settled {settled}")
        self.s["sale_entry"] = reg["right"]
        body = self.certificate("buyer", other, holder=buyer.iin)
        holders = [(h["id"], h["share"]) for h in body["certificate"]["holders"]]
        if holders != [(buyer.iin, [1, 1])]:
            raise StepFailed(f"after the sale {other} should belong to {buyer.iin} alone, the register shows {holders}")
        self.fact(tx=st, right_entry=reg["right"], settled=settled)
        self.say(f"Registrar {self.people['registrar'].name} checked and registered application No. {n}; {self.tx_line(st)}:")
        self.say(f"  ownership entry No. {reg['right']}: {buyer.name} (IIN {buyer.iin}), share 1/1")
        self.say(f"  in the same transaction {tenge(SALE_PRICE_TIYN)} moved from the buyer's locked tokens to the seller {seller.name}")

    # --- 12-13. the arrest -------------------------------------------------------------------------------------------
    def step_arrest(self) -> None:
        other = self.s["other"]["cn"]
        bailiff, buyer = self.people["bailiff"], self.people["buyer"]
        today = self.today()
        order = f"EP-{today:%Y}-{self.s['run']:05d}"
        st = self.submit(B.encumbrance_impose([other], "arrest", bailiff.iin, B.act(order, today.isoformat(), order.encode(), issuer=bailiff.name),
                                              f"enforcement proceedings {order} against {buyer.iin}: recovery of a debt"), "bailiff")
        self.expect_outcome(st, "registered", "the arrest")
        ev = one_event(st, "encumbrance.imposed")
        self.s["arrest_entry"] = ev["entry"]
        cert = self.certificate("buyer2", other)["certificate"]
        arrests = [a for a in cert["arrests"] if a["entry"] == ev["entry"]]
        if not arrests or not cert["excluding"]:
            raise StepFailed(f"the certificate of encumbrances of {other} should show arrest entry {ev['entry']} as excluding", certificate=cert)
        self.fact(tx=st, arrest_entry=ev["entry"], certificate=cert)
        self.say(f"Private bailiff {bailiff.name} arrests {other} by order {order} in enforcement proceedings against its owner; "
                 f"no registrar in between: registered at once (Art 23.2)")
        self.say(f"  {self.tx_line(st)}: arrest entry No. {ev['entry']} in section 3")
        self.say(f"  a prospective buyer, {self.people['buyer2'].name}, asks for the certificate of encumbrances: arrest entry {ev['entry']} "
                 f"on act {arrests[0]['act']['number']}; it {'excludes' if cert['excluding'] else 'does NOT exclude'} any disposal (Art 31.1.4)")

    def step_sale_refused(self) -> None:
        other = self.s["other"]["cn"]
        buyer, buyer2 = self.people["buyer"], self.people["buyer2"]
        price = SALE_PRICE_TIYN + 1_000_000 * 100
        st = self.submit(B.sale_file(other, [B.seller(buyer.iin)], [B.buyer(buyer2.iin)], price,
                                     [B.doc("sale contract", f"resale of {other} to {buyer2.iin}".encode())]), "buyer", "buyer2")
        self.expect_outcome(st, "refused", "a sale of the arrested object")
        rec = st["receipt"]
        if rec["code"] != "ENCUMBRANCE_EXCLUDES":
            raise StepFailed(f"the sale should be refused because the arrest excludes it, the ledger refused it with {rec['code']}", receipt=rec)
        holders = [(h["id"], h["share"]) for h in self.certificate("buyer", other)["certificate"]["holders"]]
        if holders != [(buyer.iin, [1, 1])]:
            raise StepFailed(f"a refused sale must change nothing; the register shows {holders}")
        self.fact(tx=st, receipt=rec)
        self.say(f"{buyer.name} tries to sell {other} to {buyer2.name} for {tenge(price)}; {self.tx_line(st)}:")
        self.say(f"  refused, {rec['code']} ({rec['article']}): {rec['message']}")
        self.say("  nothing changed: the documents are not accepted and the owner stays the same")

    # --- 14. the court ------------------------------------------------------------------------------------------------
    def step_court_reversal(self) -> None:
        other = self.s["other"]["cn"]
        seller, buyer, court = self.people["pledgor"], self.people["buyer"], self.people["court"]
        today = self.today()
        act_no = f"2-{self.s['run'] + 1000}/{today:%Y}"
        sale_entry = self.s["sale_entry"]
        st = self.submit(B.court_cancel_entry(sale_entry, B.act(act_no, today.isoformat(), act_no.encode(), issuer=court.organisation),
                                              "the sale is declared invalid: concluded under the influence of deception"), "court")
        self.expect_outcome(st, "registered", "the court's cancellation of the sale")
        ev = one_event(st, "entry.cancelled")
        refund = one_event(st, "settlement.refunded")
        if ev.get("cancelled") != sale_entry or not ev.get("restored"):
            raise StepFailed(f"the court act should cancel entry {sale_entry} and restore the prior owner; the ledger says {ev}")
        if refund.get("payments") != [[buyer.iin, SALE_PRICE_TIYN]] or refund.get("shortfalls"):
            raise StepFailed(f"the buyer's {tenge(SALE_PRICE_TIYN)} should be refunded in full; the ledger says {refund}")
        notices = [e for e in events_of(st, "encumbrance.notice") if e.get("entry") == self.s["arrest_entry"]]
        self.say(f"Judge {court.name} ({court.organisation}), act No. {act_no} in legal force: the sale is invalid; "
                 f"entry No. {sale_entry} cancelled; {self.tx_line(st)}")
        self.say(f"  prior holder restored as entry No. {ev['restored']}: {seller.name} (IIN {seller.iin}), share 1/1")
        self.say(f"  tokens refunded: {tenge(SALE_PRICE_TIYN)} back from the seller to {buyer.name}; shortfall: none")
        cert = self.certificate("pledgor", other, holder=seller.iin)["certificate"]
        holders = [(h["id"], h["share"]) for h in cert["holders"]]
        if holders != [(seller.iin, [1, 1])]:
            raise StepFailed(f"after the cancellation {other} should belong to {seller.iin} again, the register shows {holders}")
        if not any(a["entry"] == self.s["arrest_entry"] for a in cert["arrests"]):
            raise StepFailed("the arrest should stand after the cancellation (Art 33.1-1: encumbrances do not prevent it and stay)")
        self.say(f"  the arrest (entry {self.s['arrest_entry']}) stays on the object (Art 33.1-1); the bailiff is notified: "
                 f"{'yes, due by ' + notices[0]['notice_due'] if notices else 'no'}")
        if not notices:
            raise StepFailed("the bailiff who imposed the arrest should be notified of the cancellation (Art 33.1-1)")
        hist = self.get("pledgor", f"/v1/objects/{other}/history")
        entries = {e["id"]: e for e in hist["entries"]}
        sale = entries.get(sale_entry)
        if sale is None or sale["status"] != "cancelled":
            raise StepFailed(f"the history of {other} should keep entry {sale_entry} as cancelled", history=hist)
        self.say(f"  the history of {other}, as its owner reads it, keeps every entry (others' IINs withheld, Art 17.1):")
        for e in hist["entries"]:
            self.say(f"    No. {e['id']:<6} {e['type']:<13} {e['status']:<10} {self._entry_summary(e)}")
        self.fact(tx=st, cancelled=ev, refund=refund, history=[{"id": e["id"], "type": e["type"], "status": e["status"]} for e in hist["entries"]])

    def _entry_summary(self, e: dict) -> str:
        names = {p.id: p.name for p in self.people.values()} | {p.iin: p.name for p in self.people.values() if p.iin}
        if e.get("holders"):
            how = e.get("how") or (e.get("basis") or {}).get("load") and "systematic registration"
            holders = ", ".join(f"{names.get(h['id'], h['id'])} {h['share'][0]}/{h['share'][1]}" for h in e["holders"])
            return holders + (f" ({how.replace('_', ' ')})" if how else "")
        if e["type"] == "cancellation":
            return f"cancels No. {e.get('cancelled')}: {e.get('reason', '')}"
        if e.get("act"):
            return f"act {e['act'].get('number')}"
        return ""
