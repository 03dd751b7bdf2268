"""Sale and other transfers: any number of parties, optional notary, settlement, succession.

Sale (sale.file): sellers give shares of one right, buyers take them; the shares sold sum to
the shares bought, so every right's shares keep summing to one. Who must sign (the study's
open risks 2 and 4):
- without a notary (Art 22.2): every seller, every buyer and every co-holder of the right who
  does not sell (joint property needs all participants, a share sale needs the others'
  waiver of their right of first refusal: Art 22.4, 22.5);
- with a notary attesting the parties' will (Art 22.1): the notary and at least one party;
  the notary's attestation stands for the others' consents, which are attached as documents;
- a married seller's spouse consents (Art 22.6): by signing, or by a consent document the
  notary attests;
- buyers paying in settlement tokens always sign, because their tokens are locked.
The consortium policy can require a notary for every sale ("require_notary_for_sale").

Encumbrances: see contracts/bars.py (a pledge bars a sale unless its pledgee co-signs; a share
of common property passes a pledge, Art 31.1-1.5; arrests and prohibitions bar it).

Inheritance (Art 45) and reorganisation (Art 46) pass to the successor the deceased's or the
reorganised entity's share, with the encumbrances kept and their holders notified.
"""

from __future__ import annotations

from fractions import Fraction

from contracts import bars, book, settlement, sheet
from contracts import payloads as P
from contracts.book import Applied, AppType
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

SELLER = P.record({"id": P.person(), "share": P.share(), "spouse": P.opt(P.person()), "receive_tiyn": P.opt(P.integer(0, P.AMOUNT_TIYN_MAX))})
BUYER = P.record({"id": P.person(), "share": P.share(), "spouse": P.opt(P.person()), "pay_tiyn": P.opt(P.integer(0, P.AMOUNT_TIYN_MAX))})
CONSENT = P.record({"id": P.person(), "doc": P.DOC})

FILE = {
    "object": P.cadastral(),
    "right": P.opt(P.ENTRY_ID),
    "sellers": P.listof(SELLER, P.PARTIES_MAX),
    "buyers": P.listof(BUYER, P.PARTIES_MAX),
    "price_tiyn": P.amount(),
    "settlement": P.enum("token", "off_ledger"),
    "notarised": P.opt(P.boolean()),
    "common": P.opt(P.enum(*P.COMMON_TYPES)),
    "consents": P.opt(P.listof(CONSENT, P.PARTIES_MAX, min_len=0)),
    "docs": P.listof(P.DOC, P.DOCS_MAX),
}
INHERIT = {
    "object": P.cadastral(),
    "right": P.opt(P.ENTRY_ID),
    "deceased": P.person(),
    "heirs": P.HOLDERS,
    "certificate": P.DOC,
    "certificate_number": P.text(P.NAME_MAX),
}
REORGANISE = {
    "from": P.person(),
    "to": P.person(),
    "form": P.enum("merger", "accession", "division", "separation", "transformation"),
    "objects": P.listof(P.cadastral(), 1000, min_len=0, unique=True),
    "pledges": P.opt(P.listof(P.ENTRY_ID, 1000, min_len=0, unique=True)),
    "act": P.DOC,
}


def _frac(s: list[int]) -> Fraction:
    return Fraction(s[0], s[1])


# --- sale ------------------------------------------------------------------------------------
def _payments(p: dict) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    return ([(b["id"], b.get("pay_tiyn") or 0) for b in p["buyers"] if b.get("pay_tiyn")],
            [(s["id"], s.get("receive_tiyn") or 0) for s in p["sellers"] if s.get("receive_tiyn")])


def file(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    right = sheet.current_right(env, o, p.get("right"))
    parties = [s["id"] for s in p["sellers"]] + [b["id"] for b in p["buyers"]] + [h["id"] for h in right["holders"]]
    return book.file(env, "sale", p, [o["cn"]], parties, notarised=bool(p.get("notarised")))


def _new_holders(p: dict, right: dict) -> dict[str, Fraction]:
    held = sheet.holders_map(right)
    sold: dict[str, Fraction] = {}
    for s in p["sellers"]:
        if s["id"] in sold:
            refuse("SHARES_INVALID", f"seller {s['id']} is listed twice")
        sold[s["id"]] = _frac(s["share"])
        if held.get(s["id"], Fraction(0)) < sold[s["id"]]:
            refuse("NOT_RIGHT_HOLDER", f"seller {s['id']} holds {held.get(s['id'], 0)} of right {right['id']}, not the {sold[s['id']]} offered")
    bought: dict[str, Fraction] = {}
    for b in p["buyers"]:
        if b["id"] in bought:
            refuse("SHARES_INVALID", f"buyer {b['id']} is listed twice")
        bought[b["id"]] = _frac(b["share"])
    if sum(sold.values(), Fraction(0)) != sum(bought.values(), Fraction(0)):
        refuse("SHARES_INVALID", f"the shares sold ({sum(sold.values(), Fraction(0))}) differ from the shares bought ({sum(bought.values(), Fraction(0))})")
    new = dict(held)
    for pid, f in sold.items():
        new[pid] -= f
    for pid, f in bought.items():
        new[pid] = new.get(pid, Fraction(0)) + f
    return {k: v for k, v in new.items() if v}


def _check(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    sheet.holders_unchanged(env, app, o, at_filing)      # co-holders' waivers were given at filing
    right = sheet.current_right(env, o, p.get("right"))
    new = _new_holders(p, right)
    seller_ids = [s["id"] for s in p["sellers"]]
    buyer_ids = [b["id"] for b in p["buyers"]]
    if at_filing:
        pays, gets = _payments(p)
        if p["settlement"] == "token":
            if len(pays) != len(p["buyers"]) or sum(a for _, a in pays) != p["price_tiyn"] or sum(a for _, a in gets) != p["price_tiyn"]:
                refuse("SETTLEMENT_MISMATCH", f"with token settlement every buyer's pay_tiyn and the sellers' receive_tiyn must each sum to the price {p['price_tiyn']}")
        elif pays or gets:
            refuse("SETTLEMENT_MISMATCH", "pay_tiyn and receive_tiyn are for token settlement only")
        notarised = bool(p.get("notarised"))
        if book.policy(env).get("require_notary_for_sale") and not notarised:
            refuse("NOTARY_REQUIRED", "the consortium policy requires a notary to attest the parties' will in every sale")
        consents = [c["id"] for c in p.get("consents") or []]
        if notarised:
            if not any(env.signed_by(x) for x in seller_ids + buyer_ids):
                refuse("SIGNATURE_MISSING", "a notarised sale is filed by at least one party (Art 22.1) besides the notary")
            others = [h["id"] for h in right["holders"] if h["id"] not in seller_ids]
            missing = [x for x in seller_ids + others if not env.signed_by(x) and x not in consents]
            if missing:
                refuse("SIGNATURE_MISSING", f"{', '.join(missing)} neither signed nor gave a consent attested by the notary", "Art 22.4, 22.5")
        else:
            must = seller_ids + buyer_ids + [h["id"] for h in right["holders"] if h["id"] not in seller_ids]
            missing = [x for x in must if not env.signed_by(x)]
            if missing:
                refuse("SIGNATURE_MISSING", f"without a notary every participant signs (Art 22.2) and co-holders waive first refusal (Art 22.5); missing: {', '.join(missing)}")
        for s in p["sellers"]:
            sp = s.get("spouse")
            if sp and not env.signed_by(sp) and not (notarised and sp in consents):
                refuse("SPOUSE_CONSENT_MISSING", f"the spouse {sp} of seller {s['id']} must consent: by signing, or by a consent the notary attests")
        for pid, _ in pays:
            if not env.signed_by(pid):
                refuse("SIGNATURE_MISSING", f"buyer {pid} pays in settlement tokens and must sign to lock them", "Settlement rules")
    whole = all(pid in seller_ids for pid in sheet.holders_map(right)) and all(
        _frac(s["share"]) == sheet.holders_map(right)[s["id"]] for s in p["sellers"])
    notify = bars.check_encumbrances(env, o, "transfer" if whole else "share", at_filing=at_filing,
                                     acquirers=buyer_ids, consenting=app["applicants"])
    bars.check_stop(env, o, filed_number=None if at_filing else app["number"], acquirers=buyer_ids, at_filing=at_filing)
    return new, notify


def _on_file(env: Env, app: dict) -> None:
    p = app["request"]
    if p["settlement"] == "token":
        pays, _ = _payments(p)
        settlement.lock(env, pays)
        app["lock"] = [[pid, a] for pid, a in pays]
        env.emit("settlement.locked", [p["object"]], [pid for pid, _ in pays], application=app["number"],
                 payments=app["lock"], price_tiyn=p["price_tiyn"])


def _on_close(env: Env, app: dict) -> dict | None:
    if app.get("lock"):
        settlement.unlock(env, [(pid, a) for pid, a in app["lock"]])
        env.emit("settlement.unlocked", app["objects"], [pid for pid, _ in app["lock"]], application=app["number"], payments=app["lock"])
        released = app["lock"]
        app["lock"] = []
        return {"released": released}
    return None


def _apply(env: Env, app: dict, info) -> Applied:
    new, notify = info
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    right = sheet.current_right(env, o, p.get("right"))
    spouses = {b["id"]: b["spouse"] for b in p["buyers"] if b.get("spouse")}
    entry = sheet.replace_right(env, o, right, new, {"application": app["number"]}, how="sale",
                                common=p.get("common") or ("shared" if len(new) > 1 else None),
                                spouses=spouses or None, price_tiyn=p["price_tiyn"])
    data = {"right": entry["id"], "price_tiyn": p["price_tiyn"], "settlement": p["settlement"]}
    if app.get("lock"):
        pays = [(pid, a) for pid, a in app["lock"]]
        _, gets = _payments(p)
        settlement.settle(env, pays, gets)
        app["settled"] = {"payments": app["lock"], "receipts": [[pid, a] for pid, a in gets]}
        app["lock"] = []
        data["settled"] = app["settled"]
    bars.notify_holders(env, notify, application=app["number"], what="the object (or a share) changed hands while the encumbrance stands",
                        article="Art 31.1-1")
    return Applied([entry["id"]], data)


book.register_type(AppType("sale", _check, _apply, lambda app: 1 if app["notarised"] else 3,
                           on_file=_on_file, on_close=_on_close))


# --- inheritance (Art 45) --------------------------------------------------------------------
def inherit(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    heirs = [h["id"] for h in p["heirs"]]
    return book.file(env, "inheritance", p, [o["cn"]], heirs + [p["deceased"]], notarised=True)


def _check_inherit(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    right = sheet.current_right(env, o, p.get("right"))
    held = sheet.holders_map(right)
    if p["deceased"] not in held:
        refuse("NOT_RIGHT_HOLDER", f"{p['deceased']} holds no share of right {right['id']} on {o['cn']}")
    heirs: dict[str, Fraction] = {}
    for h in p["heirs"]:
        if h["id"] in heirs or h["id"] == p["deceased"]:
            refuse("SHARES_INVALID", f"heir {h['id']} is listed twice or is the deceased")
        heirs[h["id"]] = _frac(h["share"])
    if sum(heirs.values(), Fraction(0)) != held[p["deceased"]]:
        refuse("SHARES_INVALID", f"the heirs' shares sum to {sum(heirs.values(), Fraction(0))}, but the deceased held {held[p['deceased']]}", "Art 45.1")
    if at_filing and not any(env.signed_by(h) for h in heirs):
        refuse("SIGNATURE_MISSING", "an heir files the certificate of inheritance (Art 22.1, 45.1) together with the notary")
    new = dict(held)
    del new[p["deceased"]]
    for pid, f in heirs.items():
        new[pid] = new.get(pid, Fraction(0)) + f
    # Art 31.1-1.2: inheritance passes every encumbrance, which stays on the object.
    notify = bars.check_encumbrances(env, o, "inheritance", at_filing=at_filing)
    return new, notify


def _apply_inherit(env: Env, app: dict, info) -> Applied:
    new, notify = info
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    right = sheet.current_right(env, o, p.get("right"))
    entry = sheet.replace_right(env, o, right, new, {"application": app["number"]}, how="inheritance",
                                certificate=p["certificate_number"])
    bars.notify_holders(env, notify, application=app["number"], what="the object passed by inheritance", article="Art 31.1-1.2")
    return Applied([entry["id"]], {"right": entry["id"], "deceased": p["deceased"]})


book.register_type(AppType("inheritance", _check_inherit, _apply_inherit, lambda app: 1, voluntary=False))


# --- reorganisation (Art 46) -----------------------------------------------------------------
def reorganise(env: Env, p: dict) -> Outcome:
    if not p["objects"] and not p.get("pledges"):
        refuse("NOTHING_TO_CHANGE", "a reorganisation names the objects and/or pledges passing to the successor", "Art 46.1")
    objs = list(p["objects"])
    parties = [p["from"], p["to"]]
    for pid in p.get("pledges") or []:
        e = sheet.get_entry(env, pid)
        if e is None or e["type"] != "pledge" or e["status"] != "active":
            refuse("PLEDGE_NOT_FOUND", f"entry {pid} is not an active pledge")
        objs += [cn for cn in e["objects"] if cn not in objs]
        parties += e["pledgors"]
    return book.file(env, "reorganisation", p, objs, parties)


def _check_reorganise(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    if at_filing and not env.signed_by(p["to"]):
        refuse("SIGNATURE_MISSING", f"the legal successor {p['to']} files the transfer act (Art 46.1)")
    notify = []
    for cn in p["objects"]:
        o = sheet.get_object(env, cn)
        if not any(h["id"] == p["from"] for e in sheet.section_entries(env, o, sheet.RIGHT_SECTION) for h in e["holders"]):
            refuse("NOT_RIGHT_HOLDER", f"{p['from']} holds no right on {cn}")
        notify += bars.check_encumbrances(env, o, "succession", at_filing=at_filing)
    for pid in p.get("pledges") or []:
        e = sheet.get_entry(env, pid)
        if e is None or e["type"] != "pledge" or e["status"] != "active" or e["pledgee"] != p["from"]:
            refuse("PLEDGE_NOT_FOUND", f"entry {pid} is not an active pledge held by {p['from']}")
    return notify


def _apply_reorganise(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    entries: list[int] = []
    basis = {"application": app["number"]}
    for cn in p["objects"]:
        o = sheet.get_object(env, cn)
        for right in sheet.section_entries(env, o, sheet.RIGHT_SECTION):
            held = sheet.holders_map(right)
            if p["from"] in held:
                share = held.pop(p["from"])
                held[p["to"]] = held.get(p["to"], Fraction(0)) + share
                entries.append(sheet.replace_right(env, o, right, held, basis, how="reorganisation")["id"])
    for pid in p.get("pledges") or []:
        # Art 46.1, second part: the successor-creditor's pledge registers without the pledgor's consent.
        e = sheet.existing_entry(env, pid)
        objs = [sheet.get_object(env, cn) for cn in e["objects"]]
        note = sheet.add_history_entry(env, objs, "pledge_change", basis, pledge=pid,
                                       before={"pledgee": e["pledgee"]}, after={"pledgee": p["to"]})
        e["pledgee"] = p["to"]
        e["changes"] = e["changes"] + [note["id"]]
        sheet.put_entry(env, e)
        entries.append(note["id"])
    bars.notify_holders(env, notify, application=app["number"], what="the holder was reorganised; the successor holds the object",
                        article="Art 46", exclude=[p["from"], p["to"]])
    return Applied(entries, {"from": p["from"], "to": p["to"]})


book.register_type(AppType("reorganisation", _check_reorganise, _apply_reorganise, lambda app: 3, voluntary=False))
