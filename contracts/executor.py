"""RegistryExecutor: the registration contracts as the node's Executor ("tamga-registry/1").

A pure function of (state, tx, block context): it reads and writes only the StateView it is
given, takes time only from the block context, and keeps no state of its own between calls,
so replaying the blocks from genesis reproduces every state root.

genesis app_state (all keys optional):
    {"calendar": [{"year", "holidays": [YYYY-MM-DD], "working_days": [...]}, ...],
     "policy": {"auto_register": [...], "auto_pledge_amount_max_tiyn": int|None,
                "require_notary_for_sale": bool},
     "register": [object, ...],          # systematic registration, see contracts/objects.py
     "register_source": "name of the register transferred"}
"""

from __future__ import annotations

from typing import Any, Mapping

from contracts import deadlines, governance, keys, objects
from contracts import payloads as P
from contracts.env import Env
from contracts.kinds import TABLE
from node.errors import Refusal, TamgaError, UnknownKind, WrongRole
from node.interfaces import BlockContext, Event, Executor, Outcome, StateView, VerifiedTx

APP_STATE = {
    "calendar": P.opt(P.listof(P.record(governance.CALENDAR), 200, min_len=0)),
    "policy": P.opt(P.record(governance.POLICY)),
    "register": P.opt(P.listof(P.LOADED_OBJECT, 10**8, min_len=0)),
    "register_source": P.opt(P.text(P.NAME_MAX)),
    # Which organisation (BIN) receives the events addressed to an authority's name, e.g.
    # {"MOJ": "<BIN of the Ministry of Justice>"}; read by the node's notification services.
    "authorities": P.opt(P.mapping(P.person(), 20)),
}


class RegistryExecutor(Executor):
    name = "tamga-registry/1"

    def init_chain(self, app_state: Mapping[str, Any], state: StateView, ctx: BlockContext) -> None:
        P.check(APP_STATE, dict(app_state), "app_state")
        env = Env(ctx, state)
        assert env.rec.get(keys.GENESIS) is None, "init_chain on a state that already has a genesis"
        for cal in app_state.get("calendar") or []:
            env.rec.put(keys.calendar_year(cal["year"]), governance.calendar_record(cal))
        if app_state.get("policy") is not None:
            env.rec.put(keys.POLICY, governance.policy_record(app_state["policy"]))
        loaded = objects.load_objects(env, list(app_state.get("register") or []), app_state.get("register_source") or "genesis")
        env.rec.put(keys.DUE_CURSOR, env.today - 1)
        env.rec.put(keys.GENESIS, {"executor": self.name, "objects": len(loaded), **env.stamp()})
        env.rec.flush()

    def check_tx(self, tx: VerifiedTx) -> None:
        kind = TABLE.get(tx.kind)
        if kind is None:
            raise UnknownKind(f"unknown transaction kind {tx.kind!r}; known: {', '.join(sorted(TABLE))}")
        P.check(kind.schema, tx.payload)
        for group in kind.roles:
            if not any(s.has_role(*group) for s in tx.signers):
                raise WrongRole(f"{tx.kind} needs a signer with role {' or '.join(group)}; signed by "
                                + (", ".join(f"{s.name} ({', '.join(s.roles) or 'no role'})" for s in tx.signers) or "nobody"))
        if kind.extra is not None:
            kind.extra(tx)

    def begin_block(self, ctx: BlockContext, state: StateView) -> list[Event]:
        env = Env(ctx, state)
        deadlines.run_due(env)
        env.rec.flush()
        return env.events

    def deliver_tx(self, ctx: BlockContext, tx: VerifiedTx, state: StateView) -> Outcome:
        # A proposer may include a tx this node never admitted: run the stateless checks for
        # it, refusing with the kind's articles. (Revoked and expired certificates are refused
        # by the node before execution, against the state as of this point of the block.)
        if not tx.admitted:
            try:
                self.check_tx(tx)
            except TamgaError as exc:
                kind = TABLE.get(tx.kind)
                raise Refusal(exc.code, exc.message, kind.articles if kind is not None else "") from None
        env = Env(ctx, state, tx)
        try:
            outcome = TABLE[tx.kind].handler(env, tx.payload)
        except Refusal:
            raise
        except TamgaError as exc:       # e.g. InvalidPayload found only with the state at hand
            raise Refusal(exc.code, exc.message, TABLE[tx.kind].articles) from None
        env.rec.flush()
        return outcome

