"""Settlement on the ledger: a token pegged 1:1 to the tenge, balances in integer tiyn.

The study's preferred option (section 5): a settlement token instead of a bank intermediary.
Only a holder of the token_issuer role issues (against tenge received off-ledger) and redeems
(paying tenge out); the total supply (reg/t/supply) changes by nothing else, and always
equals the sum of all wallets' available + locked balances.

A sale filed with token settlement locks each buyer's payment at filing (delivery versus
payment); registration moves title and payment together in one transaction; refusal or
withdrawal releases the lock; a court's cancellation of the sale sends the payment back
(as much as the seller still has available; the shortfall is recorded for enforcement).
"""

from __future__ import annotations

from contracts import keys
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

SUPPLY_MAX_TIYN = 2**62       # far beyond all tenge in existence; keeps every sum inside int64

ISSUE = {"to": P.person(), "amount_tiyn": P.amount(), "ref": P.text(P.NAME_MAX)}
REDEEM = {"holder": P.person(), "amount_tiyn": P.amount(), "ref": P.text(P.NAME_MAX)}
TRANSFER = {"from": P.person(), "to": P.person(), "amount_tiyn": P.amount(), "memo": P.opt(P.text(P.NAME_MAX))}


def wallet(env: Env, pid: str) -> dict:
    return dict(env.rec.get(keys.wallet(pid)) or {"available": 0, "locked": 0})


def put_wallet(env: Env, pid: str, w: dict) -> None:
    assert w["available"] >= 0 and w["locked"] >= 0, (pid, w)
    if w["available"] == 0 and w["locked"] == 0:
        env.rec.delete(keys.wallet(pid))
    else:
        env.rec.put(keys.wallet(pid), w)


def supply(env: Env) -> int:
    return env.rec.get(keys.TOKEN_SUPPLY) or 0


def _debit(env: Env, pid: str, amount: int, what: str) -> None:
    w = wallet(env, pid)
    if w["available"] < amount:
        refuse("INSUFFICIENT_FUNDS", f"{pid} has {w['available']} tiyn available, {what} needs {amount}; top up the wallet first")
    w["available"] -= amount
    put_wallet(env, pid, w)


def _credit(env: Env, pid: str, amount: int) -> None:
    w = wallet(env, pid)
    w["available"] += amount
    put_wallet(env, pid, w)


# --- issuer and holder transactions ----------------------------------------------------------
def issue(env: Env, p: dict) -> Outcome:
    total = supply(env) + p["amount_tiyn"]
    if total > SUPPLY_MAX_TIYN:
        refuse("SUPPLY_LIMIT", f"issuing {p['amount_tiyn']} tiyn would take the supply past {SUPPLY_MAX_TIYN}")
    env.rec.put(keys.TOKEN_SUPPLY, total)
    _credit(env, p["to"], p["amount_tiyn"])
    issuer = env.official("token_issuer")
    env.emit("token.issued", [], [p["to"], issuer["id"]], to=p["to"], amount_tiyn=p["amount_tiyn"], ref=p["ref"], supply_tiyn=total)
    return Outcome("ISSUED", f"{p['amount_tiyn']} tiyn issued to {p['to']}", "", tuple(env.events))


def redeem(env: Env, p: dict) -> Outcome:
    if not env.signed_by(p["holder"]):
        refuse("SIGNATURE_MISSING", f"the holder {p['holder']} must sign a redemption of their tokens", "Settlement rules")
    _debit(env, p["holder"], p["amount_tiyn"], "the redemption")
    total = supply(env) - p["amount_tiyn"]
    assert total >= 0
    env.rec.put(keys.TOKEN_SUPPLY, total)
    issuer = env.official("token_issuer")
    env.emit("token.redeemed", [], [p["holder"], issuer["id"]], holder=p["holder"], amount_tiyn=p["amount_tiyn"], ref=p["ref"], supply_tiyn=total)
    return Outcome("REDEEMED", f"{p['amount_tiyn']} tiyn redeemed by {p['holder']}", "", tuple(env.events))


def transfer(env: Env, p: dict) -> Outcome:
    if not env.signed_by(p["from"]):
        refuse("SIGNATURE_MISSING", f"the payer {p['from']} must sign the transfer", "Settlement rules")
    _debit(env, p["from"], p["amount_tiyn"], "the transfer")
    _credit(env, p["to"], p["amount_tiyn"])
    env.emit("token.transferred", [], [p["from"], p["to"]], **{"from": p["from"]}, to=p["to"], amount_tiyn=p["amount_tiyn"], memo=p.get("memo"))
    return Outcome("TRANSFERRED", f"{p['amount_tiyn']} tiyn from {p['from']} to {p['to']}", "", tuple(env.events))


# --- delivery versus payment -------------------------------------------------------------------
def lock(env: Env, payments: list[tuple[str, int]]) -> None:
    for pid, amount in payments:
        w = wallet(env, pid)
        if w["available"] < amount:
            refuse("INSUFFICIENT_FUNDS", f"buyer {pid} has {w['available']} tiyn available and must lock {amount} for the sale; top up first")
        w["available"] -= amount
        w["locked"] += amount
        put_wallet(env, pid, w)


def unlock(env: Env, payments: list[tuple[str, int]]) -> None:
    for pid, amount in payments:
        w = wallet(env, pid)
        assert w["locked"] >= amount, (pid, w, amount)
        w["locked"] -= amount
        w["available"] += amount
        put_wallet(env, pid, w)


def settle(env: Env, payments: list[tuple[str, int]], receipts: list[tuple[str, int]]) -> None:
    """Locked payments out, receipts in: one atomic move, in the same tx as the title."""
    assert sum(a for _, a in payments) == sum(a for _, a in receipts)
    for pid, amount in payments:
        w = wallet(env, pid)
        assert w["locked"] >= amount, (pid, w, amount)
        w["locked"] -= amount
        put_wallet(env, pid, w)
    for pid, amount in receipts:
        _credit(env, pid, amount)


def refund(env: Env, payments: list[tuple[str, int]], receipts: list[tuple[str, int]]) -> list[dict]:
    """Undo a settlement on a court's order: each payee returns what they received, as far as
    their available balance goes; the returned sum goes to the payers pro rata to what they
    paid (integer division, the remainder to the first payer). Returns the shortfalls."""
    returned = 0
    shortfalls = []
    for pid, amount in receipts:
        w = wallet(env, pid)
        take = min(amount, w["available"])
        w["available"] -= take
        put_wallet(env, pid, w)
        returned += take
        if take < amount:
            shortfalls.append({"id": pid, "owed_tiyn": amount - take})
    paid = sum(a for _, a in payments)
    if paid == 0 or returned == 0:
        return shortfalls
    shares = [(pid, returned * a // paid) for pid, a in payments]
    rest = returned - sum(s for _, s in shares)
    for i, (pid, s) in enumerate(shares):
        _credit(env, pid, s + (rest if i == 0 else 0))
    return shortfalls
