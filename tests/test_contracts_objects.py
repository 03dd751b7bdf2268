"""Objects and identities: systematic loading (Chapter 6), division and merger (Art 49),
termination (Art 54), lost keys (the study's open risk 3), consortium policy."""

from __future__ import annotations

import pytest

from contracts import RegistryExecutor, builders as B, queries
from node.errors import InvalidPayload, Refusal
from tests.contracts_support import (Chain, DictState, act, apartment, app_number, citizen, cred, doc, ident, land, org,
                                     person_cred, tx)

PLOT = "01-001-001-001"
BUILDING = "01-001-001-001:1"
A, S, C1 = citizen(1, "Owner"), citizen(2, "Co-owner"), citizen(3, "Buyer")
BANK = org(10, "bank", "Halyk Bank")
REGISTRAR = org(20, "registrar", "Government for Citizens")
BAILIFF = org(40, "bailiff", "Bailiffs")
OFFICER = org(80, "identity_officer", "PSC identity desk")
GOV = org(90, "governance", "Consortium")


def decide(ch, r):
    assert r.ok, r.refusal
    return ch.ok(B.application_decide(app_number(r), "register"), REGISTRAR)


# --- loading ---------------------------------------------------------------------------------
def test_register_load_by_transaction_art_57():
    ch = Chain([])
    building = B.loaded_object(BUILDING, "building", ident("Almaty, Abay 1", 40_000_000, floors=9), [B.ownership(B.holder(A.iin))], parent=PLOT)
    flats = [apartment(f"{BUILDING}:{i}", B.holder(A.iin, 1, 2), B.holder(S.iin, 1, 2), parent=BUILDING, common="joint") for i in range(1, 4)]
    ch.refused(B.register_load([land(PLOT, B.holder(A.iin))], "land cadastre"), BANK, code="WRONG_ROLE")
    r = ch.ok(B.register_load([land(PLOT, B.holder(A.iin)), building] + flats, "Almaty BTI archive"), REGISTRAR)
    ev = r.event("register.loaded")
    assert len(ev.data["objects"]) == 5 and ev.data["count"] == 5
    assert ch.sheet(BUILDING)["children"] == [f"{BUILDING}:{i}" for i in range(1, 4)]
    assert len(queries.holdings(ch.state, S.iin)) == 3
    assert ch.sheet(f"{BUILDING}:2")["rights"][0]["common"] == "joint"


LOAD_CASES = [
    ("Art 1.14", "cadastral number already registered", lambda: [land(PLOT, B.holder(A.iin))], "OBJECT_EXISTS"),
    ("Art 38", "parent not registered", lambda: [apartment("09-009-009-009:1:1", B.holder(A.iin), parent="09-009-009-009:1")], "OBJECT_NOT_FOUND"),
    ("Art 14.2.2", "shares do not sum to one", lambda: [land("09-009-009-009", B.holder(A.iin, 1, 2), B.holder(S.iin, 1, 3))], "SHARES_INVALID"),
    ("Art 14.2.2", "one holder listed twice", lambda: [land("09-009-009-009", B.holder(A.iin, 1, 2), B.holder(A.iin, 1, 2))], "SHARES_INVALID"),
    ("Art 1.14", "malformed cadastral number", lambda: [land("9-9-9", B.holder(A.iin))], "INVALID_PAYLOAD"),
]


@pytest.mark.parametrize("article,what,objects,code", LOAD_CASES, ids=[c[1] for c in LOAD_CASES])
def test_load_table(article, what, objects, code):
    ch = Chain([land(PLOT, B.holder(A.iin))])
    before = dict(ch.state.data)
    assert ch.run(B.register_load(objects(), "archive"), REGISTRAR).code == code
    assert {k: v for k, v in ch.state.data.items() if not k.startswith(b"reg/m/due")} == \
        {k: v for k, v in before.items() if not k.startswith(b"reg/m/due")}


def test_genesis_app_state_is_checked():
    ex = RegistryExecutor()
    with pytest.raises(InvalidPayload):
        ex.init_chain({"registry": []}, DictState(), Chain([]).ctx())
    with pytest.raises(Refusal):
        ex.init_chain({"register": [land(PLOT, B.holder(A.iin)), land(PLOT, B.holder(S.iin))]}, DictState(), Chain([]).ctx())


# --- division and merger (Art 49) ---------------------------------------------------------------
def two_plots():
    return [B.new_object("01-001-001-002", "land", ident("plot 2a", 3_000_000)),
            B.new_object("01-001-001-003", "land", ident("plot 2b", 3_000_000))]


def test_division_carries_the_pledge_to_the_new_objects_art_49_3():
    ch = Chain([land(PLOT, B.holder(A.iin))])
    decide(ch, ch.ok(B.pledge_file(PLOT, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, A))
    pledge_entry = ch.cert(PLOT)["pledges"][0]["entry"]
    ch.refused(B.object_divide(PLOT, two_plots(), [doc("survey.pdf")]), A, code="ENCUMBRANCE_EXCLUDES")
    r = decide(ch, ch.ok(B.object_divide(PLOT, two_plots(), [doc("survey.pdf")]), A, BANK))
    ev = r.event("application.registered")
    assert ev.data["objects"] == [PLOT, "01-001-001-002", "01-001-001-003"]
    parent = ch.sheet(PLOT)
    assert parent["status"] == "divided" and parent["children"] == ["01-001-001-002", "01-001-001-003"]
    assert parent["rights"] == [] and parent["encumbrances"]["pledges"] == []
    for cn in parent["children"]:
        assert ch.owners(cn) == {A.iin: (1, 1)}
        assert ch.cert(cn)["pledges"][0]["entry"] == pledge_entry
    assert queries.entry(ch.state, pledge_entry)["objects"] == parent["children"]
    assert [h["cadastral_number"] for h in queries.holdings(ch.state, A.iin)] == parent["children"]
    ch.refused(B.pledge_file(PLOT, BANK.bin, 1, "2035-01-01", "loan", [doc()]), BANK, A, code="OBJECT_INACTIVE")


def test_arrest_bars_a_division():
    ch = Chain([land(PLOT, B.holder(A.iin))])
    ch.ok(B.encumbrance_impose([PLOT], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF)
    ch.refused(B.object_divide(PLOT, two_plots(), [doc()]), A, code="ENCUMBRANCE_EXCLUDES")


def test_merger_needs_homogeneous_rights_art_49_2_1():
    ch = Chain([land("01-001-001-002", B.holder(A.iin)), land("01-001-001-003", B.holder(A.iin)),
                land("01-001-001-004", B.holder(S.iin))])
    into = B.new_object(PLOT, "land", ident("merged plot", 6_000_000))
    ch.refused(B.object_merge(["01-001-001-002", "01-001-001-004"], into, [doc()]), A, S, code="NOT_HOMOGENEOUS")
    ch.ok(B.claim_register("01-001-001-003", S.iin, "lawsuit", "boundary", [doc()]), S)
    r = decide(ch, ch.ok(B.object_merge(["01-001-001-002", "01-001-001-003"], into, [doc()]), A))
    assert PLOT in r.event("application.registered").data["objects"]
    assert ch.owners(PLOT) == {A.iin: (1, 1)} and ch.cert(PLOT)["claims"]
    assert ch.sheet("01-001-001-002")["status"] == "merged"
    assert [h["cadastral_number"] for h in queries.holdings(ch.state, A.iin)] == [PLOT]


# --- termination (Art 54) ----------------------------------------------------------------------
def test_termination_ends_rights_and_pledges_art_54_48_3():
    ch = Chain([land(PLOT, B.holder(A.iin))])
    decide(ch, ch.ok(B.pledge_file(PLOT, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, A))
    r = decide(ch, ch.ok(B.object_terminate(PLOT, "demolished", act("demolition act 5")), A))
    assert BANK.bin in r.event("encumbrance.notice").recipients
    sheet = ch.sheet(PLOT)
    assert sheet["status"] == "terminated" and sheet["rights"] == [] and sheet["encumbrances"]["pledges"] == []
    assert {e["status"] for e in sheet["history"]} == {"terminated"}
    assert queries.holdings(ch.state, A.iin) == []


def test_termination_barred_by_an_arrest():
    ch = Chain([land(PLOT, B.holder(A.iin))])
    ch.ok(B.encumbrance_impose([PLOT], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF)
    ch.refused(B.object_terminate(PLOT, "destroyed", act()), A, code="ENCUMBRANCE_EXCLUDES")


# --- lost keys (the study's open risk 3) -------------------------------------------------------
def test_lost_key_replaced_nothing_lost_old_key_refused():
    old_key = person_cred(A.iin, "Owner", key_tag="old")
    new_key = person_cred(A.iin, "Owner", key_tag="new")
    ch = Chain([land(PLOT, B.holder(A.iin))])
    r = ch.ok(B.identity_replace_key(A.iin, old_key.fingerprint, new_key.fingerprint, "in_person", doc("id-card.pdf")), OFFICER)
    assert r.event("identity.key_replaced").data["revoked"] == old_key.fingerprint
    sale = B.sale_file(PLOT, [B.seller(A.iin)], [B.buyer(C1.iin)], 100, [doc()])
    assert ch.run(sale, old_key, C1).code == "CERTIFICATE_REVOKED"
    assert ch.owners(PLOT) == {A.iin: (1, 1)}                       # nothing the person holds is lost
    decide(ch, ch.ok(sale, new_key, C1))
    assert ch.owners(PLOT) == {C1.iin: (1, 1)}
    keys = queries.person_keys(ch.state, A.iin)["keys"]
    assert [(k["fingerprint"], k["status"]) for k in keys] == [(old_key.fingerprint, "revoked"), (new_key.fingerprint, "active")]


def test_old_key_refused_by_the_contracts_within_the_same_block():
    """The node checks revocation before a block; a replacement earlier in the same block is
    caught by deliver_tx itself."""
    old_key = person_cred(A.iin, "Owner", key_tag="old2")
    new_key = person_cred(A.iin, "Owner", key_tag="new2")
    ch = Chain([land(PLOT, B.holder(A.iin))])
    res = ch.block(tx(B.identity_replace_key(A.iin, old_key.fingerprint, new_key.fingerprint, "in_person", doc()), OFFICER),
                   tx(B.stop_request(PLOT, "loss_risk", "thief has my key"), old_key))
    assert res.receipts[0].ok and res.receipts[1].code == "CERTIFICATE_REVOKED"


KEY_CASES = [
    ("risk 3", "officer replaces own key", "self", "SELF_SERVICE"),
    ("risk 3", "old key already revoked", "twice", "KEY_ALREADY_REVOKED"),
    ("risk 3", "old key belongs to someone else", "other", "KEY_NOT_PERSONS"),
    ("risk 3", "a registrar is not an identity officer", "registrar", "WRONG_ROLE"),
]


@pytest.mark.parametrize("article,what,case,code", KEY_CASES, ids=[c[1] for c in KEY_CASES])
def test_key_replacement_table(article, what, case, code):
    ch = Chain([])
    k1, k2, k3 = (person_cred(A.iin, "Owner", key_tag=t) for t in ("k1", "k2", "k3"))
    replace = B.identity_replace_key(A.iin, k1.fingerprint, k2.fingerprint, "in_person", doc())
    if case == "self":
        r = ch.run(B.identity_replace_key(OFFICER.bin, k1.fingerprint, k2.fingerprint, "in_person", doc()), OFFICER)
    elif case == "twice":
        ch.ok(replace, OFFICER)
        r = ch.run(B.identity_replace_key(A.iin, k1.fingerprint, k3.fingerprint, "in_person", doc()), OFFICER)
    elif case == "other":
        ch.ok(replace, OFFICER)
        r = ch.run(B.identity_replace_key(S.iin, k2.fingerprint, k3.fingerprint, "in_person", doc()), OFFICER)
    else:
        r = ch.run(replace, REGISTRAR)
    assert r.code == code


# --- policy -------------------------------------------------------------------------------------
def test_policy_set_by_governance_only_with_known_types():
    ch = Chain([land(PLOT, B.holder(A.iin))])
    ch.refused(B.policy_set(["pledge"]), REGISTRAR, code="WRONG_ROLE")
    ch.refused(B.policy_set(["pledges"]), GOV, code="POLICY_INVALID")
    ch.ok(B.policy_set(["pledge", "pledge.discharge"], auto_pledge_amount_max_tiyn=1000), GOV)
    assert queries.policy(ch.state)["auto_register"] == ["pledge", "pledge.discharge"]
    assert ch.ok(B.pledge_file(PLOT, BANK.bin, 1000, "2035-01-01", "loan", [doc()]), BANK, A).code == "REGISTERED"


def test_unknown_kind_and_unsigned_tx():
    ch = Chain([])
    assert ch.run(("pledge.steal", {}), BANK).code == "UNKNOWN_KIND"
    assert ch.run(B.token_issue(A.iin, 1, "x")).code == "WRONG_ROLE"
    assert ch.run(B.token_issue(A.iin, 1, "x"), cred("nobody", ())).code == "WRONG_ROLE"


def test_terminating_one_part_keeps_the_pledge_on_the_other_art_54():
    ch = Chain([land(PLOT, B.holder(A.iin))])
    decide(ch, ch.ok(B.pledge_file(PLOT, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, A))
    decide(ch, ch.ok(B.object_divide(PLOT, two_plots(), [doc()]), A, BANK))
    pid = ch.cert("01-001-001-002")["pledges"][0]["entry"]
    decide(ch, ch.ok(B.object_terminate("01-001-001-002", "destroyed", act("fire report")), A))
    assert ch.cert("01-001-001-003")["pledges"][0]["entry"] == pid
    assert queries.entry(ch.state, pid)["objects"] == ["01-001-001-003"]
    assert ch.sheet("01-001-001-002")["encumbrances"]["pledges"] == []
