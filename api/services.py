"""What the HTTP API needs from its node, gathered in one object the routes share: the
runtime (chain, mempool, hub, submit), the cadastre projection (the node's one SQLite
writer), authentication, metrics, the webhook sender and the validator certificates that
extracts carry.

`answer()` is how every request for cadastre information is served: authenticate, decide
access, produce the answer, and write the request -- given or refused -- into the book of
requests (Art 16) in all cases.
May import: api, cadastre, node.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
from typing import Any, Callable

from fastapi import Request

from api.auth import Authenticator, certificate_errors
from api.client_auth import CONSENT_HEADER, GROUND_HEADER
from api.metrics import Metrics
from api.webhooks import WebhookSender
from cadastre import access, consent, requests_book
from cadastre.projection import Projection
from node.errors import TamgaError
from node.hub import CommitHub
from node.interfaces import Credential

log = logging.getLogger("tamga.api")

BODY_BYTES_MAX = 1024 * 1024


@dataclasses.dataclass
class Answer:
    """What an information request produced: the body, and for the book what was given."""

    body: Any
    given: str
    basis: str
    article: str
    ground: str | None = None


def load_validator_certificates(config) -> list[str]:
    """This node's TLS certificate and its peers' that this node can find: `peers/*.pem` next
    to its config, or (the local cluster layout of `tamga cluster init`) each peer's
    nodes/<name>/tls.pem. Extracts carry them so the CA vouches for the validator keys."""
    paths = [config.path(config.tls_cert_file)] if config.tls_cert_file else []
    paths += sorted(glob.glob(config.path(os.path.join("peers", "*.pem"))))
    for peer in config.peers:
        paths.append(config.path(os.path.join("..", peer.name, "tls.pem")))
    out = []
    for p in paths:
        try:
            with open(p) as f:
                out.append(f.read())
        except OSError:
            continue
    return out


class Services:
    def __init__(self, runtime, *, projection_path: str | None = None):
        self.rt = runtime
        self.chain = runtime.chain
        self.chain_id = runtime.genesis.chain_id
        self.now_ms: Callable[[], int] = runtime.now_ms
        self.metrics = Metrics()
        path = projection_path or os.path.join(runtime.config.path(runtime.config.data_dir), "cadastre.sqlite")
        self.projection = Projection(path, now_ms=self.now_ms, background_checkpoints=True)
        self.projection.bind(self.chain)
        self.db = self.projection.db
        self.auth = Authenticator(self.chain_id, runtime.certificates, self.chain.is_revoked, self.now_ms)
        self.validator_certificates = load_validator_certificates(runtime.config)
        self.sender = WebhookSender(
            self.db, signer=runtime.signer, chain_id=self.chain_id, node_name=runtime.config.name, now_ms=self.now_ms,
            on_result=lambda r: self.metrics.webhook_deliveries.labels(r).inc(),
        )
        self.projection.on_applied.append(self.sender.wake)
        # Followers of the cadastre (the event stream) wait on the blocks it has applied: the
        # chain's own hub runs ahead of it, since the projection runs after the commit step.
        self.projected = CommitHub(max(self.projection.height, 0))
        self.projection.on_applied.append(lambda height, queued: self.projected.committed(height, ()))
        self.metrics.bind(
            chain_height=lambda: self.chain.head.height,
            cadastre_height=lambda: self.projection.height,
            mempool=lambda: len(self.rt.mempool),
            webhook_pending=lambda: _pending(self.db),
        )
        self.metrics.bind_store(runtime.kv.compaction_stats, lambda: self.chain.tree.store_reads)
        self.metrics.bind_cpu(runtime.cpu.snapshot)
        runtime.commit_listeners.append(self.on_commit)
        self.projection_error: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.catch_up()
        self.sender.start()

    async def stop(self) -> None:
        await self.sender.stop()
        if self.on_commit in self.rt.commit_listeners:
            self.rt.commit_listeners.remove(self.on_commit)
        self.projection.close()

    def on_commit(self, prepared) -> None:
        self.catch_up(prepared)

    def catch_up(self, latest=None) -> None:
        """Bring the projection to the head (`latest`: the block just committed, whose verified
        txs spare it a parse). A failure is logged and counted, never raised into the commit
        path: consensus goes on, the projection lags (see /health) and retries at the next
        commit."""
        try:
            self.projection.catch_up(latest=latest)
            self.projection_error = None
        except Exception as exc:  # noqa: BLE001 - the commit path must not die with the projection
            self.projection_error = f"{type(exc).__name__}: {exc}"
            self.metrics.projection_errors.inc()
            log.exception("cadastre projection failed; it will retry at the next commit")

    # --- callers -----------------------------------------------------------------------------
    async def credential(self, request: Request) -> Credential:
        body = await request.body()
        path = request.scope.get("raw_path") or request.url.path.encode()
        qs = request.scope.get("query_string") or b""
        path_qs = path.decode("latin-1") + ("?" + qs.decode("latin-1") if qs else "")
        return self.auth.authenticate(request.method, path_qs, request.headers, body)

    def caller(self, request: Request, cred: Credential, *, subject: str | None, scope: str, heir_of: str | None = None) -> access.Caller:
        ground = access.check_ground(request.headers.get(GROUND_HEADER))
        consent_from = consent_subject = None
        header = request.headers.get(CONSENT_HEADER)
        if header:
            with certificate_errors():
                c = consent.verify(header, self.chain_id, self.rt.certificates, self.now_ms(), self.chain.is_revoked)
            ids = {i for i in (cred.iin, cred.bin) if i}
            if c.grantee not in ids:
                raise consent.InvalidConsent(f"the consent is granted to {c.grantee}, not to the caller")
            if c.scope != scope or c.subject != subject:
                raise consent.InvalidConsent(f"the consent covers {c.scope} {c.subject}, not {scope} {subject}")
            consent_from, consent_subject = c.holder, c.subject
        return access.Caller(cred, ground=ground, heir_of=heir_of, consent_from=consent_from, consent_subject=consent_subject)

    def caller_ids(self, cred: Credential) -> set[str]:
        """Whom events for this caller are addressed to: the IIN and BIN its certificate
        binds, and "MOJ" for the Ministry of Justice's systems."""
        ids = {i for i in (cred.iin, cred.bin) if i}
        if cred.bin and cred.bin == self.rt.moj_bin:
            ids.add("MOJ")
        return ids

    # --- the book of requests (Art 16) -----------------------------------------------------------
    async def answer(self, request: Request, action: str, subject: str | None, produce: Callable[[Credential], Answer]) -> Any:
        cred: Credential | None = None
        try:
            cred = await self.credential(request)
            ans = produce(cred)
        except TamgaError as err:
            self._record(cred, action, subject, requests_book.REFUSED, err.http_status, ground=_ground_header(request), code=err.code,
                         article=str(err.details.get("article") or "") or None)
            raise
        self._record(cred, action, subject, requests_book.GIVEN, 200, ground=ans.ground, basis=ans.basis, given=ans.given, article=ans.article)
        return ans.body

    def record_refusal(self, request: Request, action: str, subject: str | None, err_code: str, status: int) -> None:
        """A request refused before it reached its handler (malformed parameters)."""
        self._record(None, action, subject, requests_book.REFUSED, status, ground=_ground_header(request), code=err_code)

    def _record(self, cred: Credential | None, action: str, subject: str | None, outcome: str, status: int, **kw) -> None:
        requester = requests_book.ANONYMOUS if cred is None else requests_book.Requester(cred.subject_id, cred.name, cred.roles, cred.fingerprint.hex())
        requests_book.record(self.db, time_ms=self.now_ms(), head_height=self.chain.head.height, requester=requester, action=action,
                             subject=subject, outcome=outcome, http_status=status, **kw)
        self.metrics.info_requests.labels(action, outcome).inc()


def _ground_header(request: Request) -> str | None:
    g = request.headers.get(GROUND_HEADER)
    return g[: access.GROUND_CHARS_MAX] if g else None


def _pending(db) -> int:
    from cadastre import webhooks  # noqa: PLC0415

    return webhooks.pending_count(db)
