"""The demo register (cli/demo_register.py): deterministic from its seed, the size asked for,
valid for genesis (the contracts' own init_chain loads it), realistic in what it holds."""

from __future__ import annotations

import collections
import datetime
import json
import re

from cli import demo_register as D
from cli.cluster_cmd import _default_app_state
from contracts import queries
from node.identity import is_bin, make_bin, make_iin, validate_bin, validate_iin
from tests.contracts_support import Chain

CN = re.compile(r"(\d{2})-(\d{3})-(\d{3})-(\d{3})(:\d{1,4}){0,2}")


def test_same_seed_same_register_other_seed_other_register():
    assert D.generate(500, 7) == D.generate(500, 7)
    assert D.generate(500, 7) != D.generate(500, 8)
    for n in (0, 1, 2, 3, 37, 1000):
        assert len(D.generate(n, 3)) == n


def test_the_default_register_loads_at_genesis_as_the_contracts_check_it():
    reg = D.generate()
    assert len(reg) == D.DEFAULT_SIZE == 3000
    json.loads(json.dumps(reg))                        # JSON types only: genesis is a JSON document
    assert json.loads(json.dumps(reg)) == reg
    ch = Chain(reg)                                     # init_chain checks every object against LOADED_OBJECT
    seen_parents = set()
    for o in reg:
        if "parent" in o:
            assert o["parent"] in seen_parents, "a parent is loaded before its parts"
        seen_parents.add(o["cn"])
    sheet = queries.read_object(ch.state, reg[-1]["cn"])
    assert sheet is not None and sheet["status"] == "active"


def test_cadastral_numbers_regions_and_areas():
    reg = D.generate()
    codes = {r.code: r for r in D.REGIONS}
    cns = [o["cn"] for o in reg]
    assert len(set(cns)) == len(cns)
    for o in reg:
        m = CN.fullmatch(o["cn"])
        assert m, o["cn"]
        region = codes[m.group(1)]
        assert o["ident"]["region"] == region.name
        assert region.name.split(" region")[0] in o["ident"]["address"] or any(t in o["ident"]["address"] for t, _ in region.towns)
        if o["type"] == "land":
            assert m.group(5) is None
        if o["type"] == "building":
            assert o["cn"].count(":") == 1
        if o["type"] == "apartment":
            assert o["cn"].count(":") == 2 and o["ident"]["area_living_dm2"] < o["ident"]["area_total_dm2"]
        for k, v in o["ident"].items():
            if k.startswith("area_"):
                assert isinstance(v, int) and v > 0
    # the 17 regions and 3 cities of Order 7, every one present
    assert {o["cn"][:2] for o in reg} == set(codes) and len(codes) == 20
    flats = [o["ident"]["area_total_dm2"] for o in reg if o["type"] == "apartment"]
    assert 30 * 100 <= min(flats) and max(flats) <= 150 * 100          # 30..150 m2 in dm2


def test_owners_shares_companies_farm_land_and_earlier_encumbrances():
    reg = D.generate()
    kinds = collections.Counter(o["type"] for o in reg)
    assert kinds["apartment"] > 1000 and kinds["land"] > 500 and kinds["building"] > 200
    holders = [h for o in reg for r in o["rights"] for h in r["holders"]]
    iins = {h["id"] for h in holders if not is_bin(h["id"])}
    bins = {h["id"] for h in holders if is_bin(h["id"])}
    assert len(iins) > 1500 and len(bins) > 50
    for i in iins:
        validate_iin(i)
    for b in bins:
        validate_bin(b)
    common = [o for o in reg if len(o["rights"][0]["holders"]) > 1]
    assert len(common) > 300 and {o["rights"][0]["common"] for o in common} == {"joint", "shared"}
    farm = [o for o in reg if o["ident"].get("land_category") == "agricultural land"]
    assert len(farm) > 100
    assert all("soil: " in o["ident"]["purpose"] and o["ident"]["area_total_dm2"] % D.DM2_PER_HA == 0 for o in farm)
    encs = collections.Counter(e["type"] for o in reg for e in o.get("encumbrances") or [])
    assert encs["pledge"] > 20 and encs["arrest"] > 0 and encs["land_use_instruction"] > 0


def test_households_for_the_demo_are_sole_owners_of_clean_objects():
    reg = D.generate()
    by_cn = {o["cn"]: o for o in reg}
    hh = list(D.households(reg))
    assert len(hh) > 100
    for h in hh:
        for o in (h.apartment, h.other):
            assert o["rights"][0]["holders"] == [{"id": h.owner, "share": [1, 1]}] and not o.get("encumbrances")
            assert by_cn[o["cn"]] is o
        assert h.apartment["type"] == "apartment" and h.other["type"] in ("apartment", "land") and h.other is not h.apartment
        assert not any(x.get("parent") == h.other["cn"] for x in reg)
    assert D.person_name(hh[0].owner) == D.person_name(hh[0].owner)


def test_cluster_genesis_state_loads_it_by_default_and_size_zero_means_none():
    state = _default_app_state("tamga-registry/1")
    assert len(state["register"]) == 3000 and state["authorities"]["MOJ"]
    assert "register" not in _default_app_state("tamga-registry/1", 0)
    assert len(_default_app_state("tamga-registry/1", 10, 5)["register"]) == 10
    assert _default_app_state("tamga-generic/1") == {}


def test_a_household_for_systematic_registration_loads_after_genesis():
    reg = D.generate(50)
    owner, osi = make_iin(datetime.date(1985, 2, 2), "F", 8001), make_bin(datetime.date(2019, 1, 1), 60_001)
    objs = D.household_objects(owner, osi, 3)
    assert objs == D.household_objects(owner, osi, 3) and {o["cn"][:6] for o in objs} == {"21-399"}
    assert not {o["cn"] for o in objs} & {o["cn"] for o in reg}
    ch = Chain(reg + objs)                 # valid objects, parents first
    [h] = list(D.households(objs))
    assert (h.owner, h.apartment["cn"], h.other["cn"]) == (owner, "21-399-003-001:1:7", "21-399-003-002")
    assert queries.encumbrance_certificate(ch.state, h.apartment["cn"])["holders"][0]["id"] == owner


def test_households_selling_farm_land_come_last():
    hh = list(D.households(D.generate()))
    farm = [h.other["ident"].get("land_category") == "agricultural land" for h in hh]
    assert farm == sorted(farm) and not farm[0]
