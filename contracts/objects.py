"""Objects of the register: systematic loading (Chapter 6), division and merger (Art 49),
termination on destruction or demolition (Art 54).

Loading: previously accrued rights enter the cadastre by systematic registration, a record
registration by transfer of data from other information systems (Art 56, 57.2, 57.4). Each
object brings its identification characteristics (Art 1.12), its rights with holders and
shares (section 2) and any previously accrued encumbrances (Art 37.4). Two paths:
- genesis (init_chain, app_state["register"]): any number of objects, the bulk path for an
  existing register of hundreds of thousands of objects; holdings are gathered per person and
  written once;
- register.load transactions signed by a registrar, at most LOAD_BATCH_MAX objects each.

Division and merger carry the encumbrances (and the claims that keep their value) to the new
objects (Art 49.3); rights must be homogeneous to merge (49.2.1). Termination ends the rights
and the encumbrances with the object; a pledge ends with its subject (Art 48.3).
"""

from __future__ import annotations

from contracts import bars, book, keys, sheet
from contracts import payloads as P
from contracts.book import Applied, AppType
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

LOAD_BATCH_MAX = 1000
PARTS_MAX = 100

LOAD = {"objects": P.listof(P.LOADED_OBJECT, LOAD_BATCH_MAX), "source": P.text(P.NAME_MAX)}
NEW_OBJECT = P.record({"cn": P.cadastral(), "type": P.enum(*P.OBJECT_TYPES), "ident": P.IDENT})
DIVIDE = {"object": P.cadastral(), "into": P.listof(NEW_OBJECT, PARTS_MAX, min_len=2), "docs": P.listof(P.DOC, P.DOCS_MAX)}
MERGE = {"objects": P.listof(P.cadastral(), PARTS_MAX, min_len=2, unique=True), "into": NEW_OBJECT, "docs": P.listof(P.DOC, P.DOCS_MAX)}
TERMINATE = {"object": P.cadastral(), "ground": P.enum("destroyed", "demolished"), "act": P.ACT}


# --- systematic registration -------------------------------------------------------------------
def load_objects(env: Env, objects: list[dict], source: str) -> list[str]:
    """Enter previously accrued rights (Chapter 6). Validates everything before writing."""
    holdings: dict[str, list[str]] = {}
    loaded: list[str] = []
    basis = {"load": source}
    for spec in objects:
        cn = spec["cn"]
        if env.rec.get(keys.obj(cn)) is not None:
            refuse("OBJECT_EXISTS", f"cadastral number {cn} is already registered")
        parent = spec.get("parent")
        if parent is not None:
            po = env.rec.get(keys.obj(parent))
            if po is None:
                refuse("OBJECT_NOT_FOUND", f"object {cn} names parent {parent}, which is not registered; load the parent first")
        o = sheet.new_object(cn, spec["type"], spec["ident"], parent)
        env.rec.put(keys.obj(cn), o)
        if parent is not None:
            po["children"].append(cn)
            env.rec.put(keys.obj(parent), po)
        for r in spec["rights"]:
            m = sheet.check_shares(r["holders"], f"{cn} right holders")
            sheet.add_entry(env, [o], sheet.RIGHT_SECTION, r["type"], {**basis, "accrued": r["accrued"]} if r.get("accrued") else basis,
                            holders=sheet.holders_list(m), common=r.get("common") if len(m) > 1 else None,
                            docs=r.get("docs"), how="systematic_registration")
            for pid in m:
                lst = holdings.setdefault(pid, [])
                if not lst or lst[-1] != cn:
                    lst.append(cn)
        holder_ids = sheet.object_holders(env, o)
        for enc in spec.get("encumbrances") or []:
            t = enc["type"]
            fields = {"amount_tiyn": enc.get("amount_tiyn"), "until": enc.get("until"), "note": enc.get("note"),
                      "accrued": enc.get("accrued")}
            if t == "pledge":
                fields.update(pledgee=enc["beneficiary"], pledgors=holder_ids, default_notices=[], changes=[])
            elif t in sheet.STATE_ENCUMBRANCES:
                fields.update(authority=enc["beneficiary"], imposed_role="state_body")
            else:
                fields.update(beneficiary=enc["beneficiary"])
            sheet.add_entry(env, [o], sheet.ENC_SECTION, t, basis, **fields)
        loaded.append(cn)
    for pid in sorted(holdings):
        cur = list(env.rec.get(keys.holdings(pid)) or [])
        for cn in holdings[pid]:
            if cn not in cur:
                cur.append(cn)
        cur.sort()
        env.rec.put(keys.holdings(pid), cur)
    return loaded


def load(env: Env, p: dict) -> Outcome:
    loaded = load_objects(env, p["objects"], p["source"])
    registrar = env.official(*book.REGISTRAR_ROLES)
    env.emit("register.loaded", loaded, [registrar["id"]], source=p["source"], count=len(loaded),
             status="registered", article="Art 57")
    return Outcome("REGISTERED", f"{len(loaded)} objects entered by systematic registration", "Art 56, 57", tuple(env.events))


# --- division (Art 49) -----------------------------------------------------------------------
def _holders_sign(env: Env, o: dict) -> None:
    missing = [h for h in sheet.object_holders(env, o) if not env.signed_by(h)]
    if missing:
        refuse("SIGNATURE_MISSING", f"every holder of {o['cn']} applies; missing: {', '.join(missing)}", "Art 22.2, 22.5")


def _new_cns_free(env: Env, cns: list[str]) -> None:
    seen: list[str] = []
    for cn in cns:
        if cn in seen or env.rec.get(keys.obj(cn)) is not None:
            refuse("OBJECT_EXISTS", f"cadastral number {cn} is already registered or listed twice")
        seen.append(cn)


def divide(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    return book.file(env, "division", p, [o["cn"]], sheet.object_holders(env, o))


def _check_divide(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    sheet.holders_unchanged(env, app, o, at_filing)
    if at_filing:
        _holders_sign(env, o)
    _new_cns_free(env, [x["cn"] for x in p["into"]])
    notify = bars.check_encumbrances(env, o, "reshape", at_filing=at_filing, consenting=app["applicants"])
    bars.check_stop(env, o, filed_number=None if at_filing else app["number"], acquirers=[], at_filing=at_filing)
    return notify


def _carry(env: Env, old: list[dict], new: list[dict], basis: dict, how: str) -> None:
    """Move what stays valid from the old objects' sheets to the new ones (Art 49.3)."""
    old_cns = [o["cn"] for o in old]
    for section in (sheet.ENC_SECTION, sheet.CLAIM_SECTION, sheet.NOTE_SECTION):
        ids: list[int] = []
        for o in old:
            ids += [i for i in o[section] if i not in ids]
        for eid in ids:
            e = sheet.existing_entry(env, eid)
            e["objects"] = [cn for cn in e["objects"] if cn not in old_cns] + [n["cn"] for n in new]
            sheet.put_entry(env, e)
            for n in new:
                n[section].append(eid)
                n["history"].append(eid)
        for o in old:
            o[section] = []
    stops = [o["stop"] for o in old if o["stop"] is not None]
    for n in new:
        n["stop"] = stops[0] if stops else None
        sheet.put_object(env, n)
    before: list[str] = []
    for o in old:
        before_o = sheet.object_holders(env, o)
        before += before_o
        for r in sheet.section_entries(env, o, sheet.RIGHT_SECTION):
            sheet.end_entry(env, r, "terminated", {"how": how, **basis})
        o["status"] = how
        o["children"] = [n["cn"] for n in new]
        sheet.put_object(env, o)
        sheet.update_holdings(env, o["cn"], before_o, [])


def _apply_divide(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    basis = {"application": app["number"]}
    rights = sheet.section_entries(env, o, sheet.RIGHT_SECTION)
    new = [sheet.new_object(x["cn"], x["type"], x["ident"], o["parent"]) for x in p["into"]]
    for n in new:
        sheet.put_object(env, n)
    _carry(env, [o], new, basis, "divided")
    entries = []
    for n in new:
        for r in rights:
            e = sheet.add_entry(env, [n], sheet.RIGHT_SECTION, r["type"], basis, holders=r["holders"],
                                common=r.get("common"), how="division", divided_from=r["id"])
            entries.append(e["id"])
        sheet.update_holdings(env, n["cn"], [], sheet.object_holders(env, n))
    bars.notify_holders(env, notify, application=app["number"], what="the object was divided; the encumbrance carries to the new objects",
                        article="Art 49.3")
    return Applied(entries, {"divided": o["cn"], "into": [n["cn"] for n in new], "objects_new": [n["cn"] for n in new]})


book.register_type(AppType("division", _check_divide, _apply_divide, lambda app: 3))


# --- merger (Art 49) ---------------------------------------------------------------------------
def merge(env: Env, p: dict) -> Outcome:
    objs = [sheet.get_object(env, cn) for cn in p["objects"]]
    holders: list[str] = []
    for o in objs:
        holders += sheet.object_holders(env, o)
    return book.file(env, "merger", p, list(p["objects"]), holders)


def _check_merge(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    objs = [sheet.get_object(env, cn) for cn in p["objects"]]
    _new_cns_free(env, [p["into"]["cn"]])
    first = None
    notify = []
    for o in objs:
        rights = sheet.section_entries(env, o, sheet.RIGHT_SECTION)
        sig = (o["type"], [(r["type"], r["holders"], r.get("common")) for r in rights])
        if first is None:
            first = sig
        elif sig != first:
            refuse("NOT_HOMOGENEOUS", f"{o['cn']} differs from {objs[0]['cn']} in type, right or holders; only objects with homogeneous rights merge")
        sheet.holders_unchanged(env, app, o, at_filing)
        if at_filing:
            _holders_sign(env, o)
        notify += bars.check_encumbrances(env, o, "reshape", at_filing=at_filing, consenting=app["applicants"])
        bars.check_stop(env, o, filed_number=None if at_filing else app["number"], acquirers=[], at_filing=at_filing)
    return notify


def _apply_merge(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    objs = [sheet.get_object(env, cn) for cn in p["objects"]]
    basis = {"application": app["number"]}
    rights = sheet.section_entries(env, objs[0], sheet.RIGHT_SECTION)
    n = sheet.new_object(p["into"]["cn"], p["into"]["type"], p["into"]["ident"], objs[0]["parent"])
    sheet.put_object(env, n)
    _carry(env, objs, [n], basis, "merged")
    entries = []
    for r in rights:
        entries.append(sheet.add_entry(env, [n], sheet.RIGHT_SECTION, r["type"], basis, holders=r["holders"],
                                       common=r.get("common"), how="merger")["id"])
    sheet.update_holdings(env, n["cn"], [], sheet.object_holders(env, n))
    bars.notify_holders(env, notify, application=app["number"], what="the objects were merged; the encumbrance carries to the new object",
                        article="Art 49.3")
    return Applied(entries, {"merged": list(p["objects"]), "into": n["cn"], "objects_new": [n["cn"]]})


book.register_type(AppType("merger", _check_merge, _apply_merge, lambda app: 3))


# --- termination (Art 54) --------------------------------------------------------------------
def terminate(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    return book.file(env, "termination", p, [o["cn"]], sheet.object_holders(env, o))


def _check_terminate(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    sheet.holders_unchanged(env, app, o, at_filing)
    if at_filing:
        _holders_sign(env, o)
    if o["children"] and any(env.rec.get(keys.obj(c))["status"] == "active" for c in o["children"]):
        refuse("OBJECT_INACTIVE", f"{o['cn']} still has registered parts ({', '.join(o['children'])}); terminate them first", "Art 54.1")
    return bars.check_encumbrances(env, o, "terminate", at_filing=at_filing)


def _apply_terminate(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    basis = {"application": app["number"], "act": p["act"]}
    before = sheet.object_holders(env, o)
    ended = []
    for section in (sheet.RIGHT_SECTION, sheet.ENC_SECTION, sheet.CLAIM_SECTION, sheet.NOTE_SECTION):
        for e in sheet.section_entries(env, o, section):
            sheet.detach_entry(env, e, o, "terminated", basis, f"the object was {p['ground']} (Art 54; a pledge ends with its subject, Art 48.3)")
            ended.append(e["id"])
    o = sheet.get_object(env, p["object"])
    o["status"] = "terminated"
    o["stop"] = None
    sheet.put_object(env, o)
    sheet.update_holdings(env, o["cn"], before, [])
    bars.notify_holders(env, notify, application=app["number"], what=f"the object was {p['ground']} and its registration terminated",
                        article="Art 54, 48.3")
    return Applied(ended, {"ground": p["ground"]}, sheet.beneficiaries(notify))


book.register_type(AppType("termination", _check_terminate, _apply_terminate, lambda app: 3))
