"""The demo register: a few thousand objects across Kazakhstan, generated deterministically from
a seed, for genesis `app_state["register"]` (systematic registration, Chapter 6 of the Law).

`generate(size, seed)` returns `size` objects (JSON types only, the shape of
contracts/payloads.py LOADED_OBJECT) in loading order (a land plot before the building on it,
a building before its apartments):
- cadastral numbers `RR-DDD-QQQ-PPP` with the region codes of the land cadastre (the
  alphabetical numbering of the oblasts of the 1990s: 01 Akmola ... 15 North Kazakhstan,
  19 Turkestan, 20 Almaty city, 21 Astana; 22 Shymkent; the regions formed in 2022 -- Abai,
  Zhetisu, Ulytau -- on the codes 16, 17, 07 of the former Semipalatinsk, Taldykorgan and
  Zhezkazgan oblasts whose territory they cover: our choice, not an official table);
  buildings add `:1` and apartments `:1:n` (21-320-030-406:1:25), as the contracts accept;
- the 17 regions and 3 cities of republican status of Order 7 (seeds/order-7-...txt), with
  towns, streets and, for farm land, the region's soil types from the order's Annex 3;
- apartment blocks (the land in permanent use and the building held by the owners'
  association, a legal entity), private houses on their plots, garden plots, commercial
  buildings of companies, agricultural plots with land category and designated use;
- areas in integer square decimetres (1 m2 = 100 dm2, 1 ha = 1,000,000 dm2);
- owners: citizens with valid IINs (node.identity.make_iin), a fifth of them in common
  ownership (spouses' joint property, shares of 1/2, 1/3 and 2/3), companies with valid BINs;
  some citizens own a second object (a garden plot or another apartment);
- previously accrued encumbrances (Art 37.4) on a few objects: bank pledges, an arrest of the
  tax authority, instructions to use farm land for its purpose (Order 7).

Names of people are not part of the register (rights belong to the IIN); `person_name(iin)`
gives the demo a name for an IIN, the same every time.
`households(register)` lists citizens who alone own an unencumbered apartment and another
unencumbered object without buildings on it (a flat or a garden plot before farm land): the
demo's pledgor and seller. `household_objects(...)` makes one such household for a consortium
whose genesis register has none left (the demo enters it with a register.load transaction).

May import: node.identity (and the standard library). Uses `random.Random(seed)`: this is
client-side test data, never contract code.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import random
from typing import Iterator

from node.identity import is_bin, make_bin, make_iin

DEFAULT_SIZE = 3000
DEFAULT_SEED = 2024
SOURCE = "demo register (systematic registration, Chapter 6)"

DM2_PER_M2 = 100
DM2_PER_HA = 1_000_000


@dataclasses.dataclass(frozen=True)
class Region:
    code: str                      # two digits of the cadastral number
    name: str                      # as the address writes it
    towns: tuple[tuple[str, str], ...]           # (town, district code)
    rural: tuple[str, ...]                       # rural districts, coded 001, 002, ... (farm land)
    soils: tuple[str, ...]                       # Order 7, Annex 3
    weight: int                    # share of the objects, roughly by population


REGIONS: tuple[Region, ...] = (
    Region("16", "Abai region", (("Semey", "103"), ("Kurchatov", "108"), ("Ayagoz", "112")), ("Beskaragai", "Zharma", "Urzhar"),
           ("Mountain black soils", "Dark-chestnut", "Chestnut", "Light brown"), 3),
    Region("01", "Akmola region", (("Kokshetau", "174"), ("Stepnogorsk", "178"), ("Shchuchinsk", "165")), ("Tselinograd", "Burabay", "Atbasar"),
           ("Common black soil", "Southern black soil", "Dark-chestnut", "Chestnut"), 4),
    Region("02", "Aktobe region", (("Aktobe", "036"), ("Khromtau", "045"), ("Kandyagash", "041")), ("Kargaly", "Martuk", "Mugalzhar"),
           ("Southern black soil", "Chestnut", "Dark-chestnut", "Common grey soil"), 4),
    Region("03", "Almaty region", (("Konaev", "050"), ("Kaskelen", "047"), ("Talgar", "053"), ("Esik", "049")), ("Karasai", "Ili", "Enbekshikazakh"),
           ("Foothill dark chestnut", "Chestnut", "Light grey soil", "Foothill black soils"), 7),
    Region("04", "Atyrau region", (("Atyrau", "066"), ("Kulsary", "070")), ("Makhambet", "Isatai"),
           ("Light brown", "Floodplain meadow", "Brown"), 3),
    Region("05", "East Kazakhstan region", (("Oskemen", "085"), ("Ridder", "090"), ("Altai", "079")), ("Glubokoe", "Shemonaikha", "Ulan"),
           ("Mountain black soils", "Dark-chestnut", "Chestnut", "Foothill black soils"), 4),
    Region("06", "Zhambyl region", (("Taraz", "097"), ("Shu", "104"), ("Karatau", "100")), ("Baizak", "Zhambyl", "Merke"),
           ("Foothill dark chestnut", "Foothill light chestnut", "Meadow and grey soil"), 6),
    Region("17", "Zhetisu region", (("Taldykorgan", "257"), ("Tekeli", "260"), ("Zharkent", "264")), ("Karatal", "Koksu", "Eskeldi"),
           ("Common grey soil", "Meadow and sierozemic", "Foothill dark chestnut"), 3),
    Region("08", "West Kazakhstan region", (("Oral", "115"), ("Aksai", "119")), ("Terekti", "Zelenov", "Burli"),
           ("Southern black soil", "Dark-chestnut", "Chestnut"), 3),
    Region("09", "Karaganda region", (("Karaganda", "142"), ("Temirtau", "146"), ("Balkhash", "138"), ("Shakhtinsk", "149")), ("Bukhar-Zhyrau", "Abai", "Osakarov"),
           ("Common black soil", "Southern black soil", "Dark-chestnut", "Chestnut", "Light brown"), 6),
    Region("12", "Kostanay region", (("Kostanay", "193"), ("Rudny", "197"), ("Lisakovsk", "189"), ("Arkalyk", "186")), ("Kostanay", "Zatobolsk", "Karabalyk"),
           ("Common black soil", "Southern black soil", "Dark-chestnut", "Chestnut"), 4),
    Region("10", "Kyzylorda region", (("Kyzylorda", "156"), ("Aral", "152")), ("Syrdarya", "Shieli", "Zhalagash"),
           ("Meadow and marsh", "Gray-brown", "Floodplain meadow", "Light grey soil"), 4),
    Region("13", "Mangystau region", (("Aktau", "200"), ("Zhanaozen", "203")), ("Munaily", "Karakiya"),
           ("Brown", "Gray-brown", "Meadow and marsh"), 4),
    Region("14", "Pavlodar region", (("Pavlodar", "218"), ("Ekibastuz", "222"), ("Aksu", "210")), ("Pavlodar", "Ertis", "Shcherbakty"),
           ("Southern black soil", "Chestnut", "Dark-chestnut", "Light brown"), 4),
    Region("15", "North Kazakhstan region", (("Petropavl", "234"), ("Bulaevo", "228")), ("Kyzylzhar", "Esil", "Timiryazev"),
           ("Common black soil", "Southern black soil", "Dark-chestnut"), 3),
    Region("19", "Turkestan region", (("Turkestan", "291"), ("Kentau", "283"), ("Saryagash", "287")), ("Sairam", "Tolebi", "Ordabasy"),
           ("Common grey soil", "Light grey soil", "Foothill dark chestnut", "Meadow and grey soil"), 9),
    Region("07", "Ulytau region", (("Zhezkazgan", "126"), ("Satpayev", "131")), ("Ulytau", "Zhanaarka"),
           ("Chestnut", "Brown"), 1),
    Region("21", "Astana", (("Astana", "320"), ("Astana", "318"), ("Astana", "319"), ("Astana", "321")), (),
           ("Dark-chestnut",), 8),
    Region("20", "Almaty", (("Almaty", "311"), ("Almaty", "312"), ("Almaty", "314"), ("Almaty", "316")), (),
           ("Mountain black soils", "Light brown", "Meadow and grey soil"), 11),
    Region("22", "Shymkent", (("Shymkent", "330"), ("Shymkent", "331"), ("Shymkent", "333")), (),
           ("Common grey soil",), 6),
)
assert len(REGIONS) == 20 and len({r.code for r in REGIONS}) == 20

STREETS = (
    "Abai avenue", "Dostyk street", "Tauelsizdik avenue", "Kabanbay batyr avenue", "Satpayev street", "Seifullin street",
    "Tole bi street", "Zhambyl street", "Auezov street", "Bukhar zhyrau boulevard", "Respublika avenue", "Mangilik El avenue",
    "Turan avenue", "Kenesary street", "Baitursynov street", "Zheltoksan street", "Raiymbek avenue", "Al-Farabi avenue",
    "Ablai khan avenue", "Gagarin street", "Kunaev street", "Makhambet street", "Amangeldy street", "Abylkhair khan avenue",
    "Beibitshilik street", "Kazybek bi street", "Nauryzbai batyr street", "Shokan Ualikhanov street", "Saryarka avenue",
    "Momyshuly avenue", "Magzhan Zhumabayev street", "Koktem microdistrict", "Samal microdistrict", "Aksai microdistrict",
)
FIRST_M = ("Nurlan", "Daulet", "Yerlan", "Askar", "Bauyrzhan", "Serik", "Timur", "Arman", "Azamat", "Yerzhan", "Marat", "Kairat",
           "Dias", "Alikhan", "Nursultan", "Almas", "Ruslan", "Zhandos", "Olzhas", "Sanzhar", "Yerbol", "Dmitry", "Sergei", "Aleksandr")
FIRST_F = ("Aigerim", "Dana", "Aliya", "Gulnara", "Saule", "Madina", "Aizhan", "Zhanna", "Asel", "Dinara", "Kamila", "Ainur",
           "Togzhan", "Akbota", "Zarina", "Moldir", "Gulmira", "Aruzhan", "Balzhan", "Symbat", "Yelena", "Olga", "Natalya", "Irina")
SURNAMES = ("Akhmetov", "Omarov", "Suleimenov", "Abenov", "Nurpeisov", "Zhaksylykov", "Bekov", "Iskakov", "Kassymov", "Tokayev",
            "Sadykov", "Mukhamedzhanov", "Baimukhanov", "Dzhaksybekov", "Seitkali", "Utegenov", "Karimov", "Yessenov", "Zhumabayev",
            "Tulegenov", "Ospanov", "Kuanyshev", "Amanzholov", "Ivanov", "Petrov", "Kim", "Li", "Shevchenko", "Müller")
COMPANY_WORDS = ("Dala", "Kazakh", "Astana", "Altyn", "Saryarka", "Zhetisu", "Kaspi", "Aksu", "Bereke", "Samruk", "Nur", "Tau",
                 "Kuat", "Orda", "Atameken", "Ertis", "Baiterek", "Kokshe", "Shyghys", "Batys")
COMPANY_TRADES = ("Stroy", "Agro", "Trade", "Logistics", "Invest", "Energy", "Development", "Group", "Service", "Holding", "Food", "Pharm")
AGRI_PURPOSES = ("arable farming", "pasture", "hayfield", "running a peasant or farm enterprise", "agricultural production")

# Banks and state bodies that appear as pledgees and imposing authorities of earlier entries.
BANKS = (
    ("ForteBank JSC", make_bin(datetime.date(1999, 12, 1), 3003)),      # the consortium's bank node (node/cluster.py)
    ("Halyk Bank of Kazakhstan JSC", make_bin(datetime.date(1995, 1, 1), 3101)),
    ("Kaspi Bank JSC", make_bin(datetime.date(1995, 2, 1), 3102)),
    ("Bank CenterCredit JSC", make_bin(datetime.date(1998, 3, 1), 3103)),
    ("Otbasy Bank JSC", make_bin(datetime.date(2003, 1, 1), 3104)),
)
TAX_AUTHORITY = ("State Revenue Department", make_bin(datetime.date(2008, 7, 1), 8101))


def person_name(iin: str) -> str:
    """A name for an IIN (female when the 7th digit is even), the same on every call."""
    h = hashlib.sha256(b"tamga-demo-name|" + iin.encode()).digest()
    female = int(iin[6]) % 2 == 0
    first = (FIRST_F if female else FIRST_M)[h[0] % len(FIRST_F if female else FIRST_M)]
    surname = SURNAMES[h[1] % len(SURNAMES)]
    if female and surname.endswith(("ov", "ev", "in")):
        surname += "a"
    return f"{first} {surname}"


class _Ids:
    """Distinct IINs and BINs, in the order they are asked for."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.serial = 0

    def iin(self, birth_from: int = 1950, birth_to: int = 2003) -> str:
        while True:
            self.serial += 1
            birth = datetime.date(self.rng.randint(birth_from, birth_to), self.rng.randint(1, 12), self.rng.randint(1, 28))
            v = make_iin(birth, self.rng.choice("MF"), self.serial % 9000 + 1)
            if v not in self.used:
                self.used.add(v)
                return v

    def bin(self) -> str:
        while True:
            self.serial += 1
            reg = datetime.date(self.rng.randint(1995, 2023), self.rng.randint(1, 12), 1)
            v = make_bin(reg, 10_000 + self.serial)
            if v not in self.used:
                self.used.add(v)
                return v


class _Generator:
    def __init__(self, size: int, seed: int):
        self.size = size
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.ids.used.update(b for _, b in BANKS)
        self.ids.used.add(TAX_AUTHORITY[1])
        self.objects: list[dict] = []
        self.plots: dict[tuple[str, str, int], int] = {}     # (region, district, quarter) -> last plot number
        self.citizens: list[str] = []
        self.citizen_set: set[str] = set()
        self.companies: list[str] = []
        self.akimats: dict[str, str] = {}

    # --- helpers ---------------------------------------------------------------------------
    def room(self) -> int:
        return self.size - len(self.objects)

    def cn(self, region: Region, district: str) -> str:
        while True:
            quarter = self.rng.randint(1, 199)
            n = self.plots.get((region.code, district, quarter), 0) + self.rng.randint(1, 4)
            if n <= 999:
                self.plots[(region.code, district, quarter)] = n
                return f"{region.code}-{district}-{quarter:03d}-{n:03d}"

    def date(self, first_year: int = 1998, last_year: int = 2023) -> str:
        return datetime.date(self.rng.randint(first_year, last_year), self.rng.randint(1, 12), self.rng.randint(1, 28)).isoformat()

    def citizen(self, reuse: float = 0.0) -> str:
        if self.citizens and self.rng.random() < reuse:
            return self.rng.choice(self.citizens)
        iin = self.ids.iin()
        self.citizens.append(iin)
        self.citizen_set.add(iin)
        return iin

    def company(self, reuse: float = 0.6) -> str:
        if self.companies and self.rng.random() < reuse:
            return self.rng.choice(self.companies)
        b = self.ids.bin()
        self.companies.append(b)
        return b

    def akimat(self, region: Region) -> str:
        """The local executive body of the region, for state land."""
        if region.code not in self.akimats:
            self.akimats[region.code] = self.ids.bin()
        return self.akimats[region.code]

    def individual_holders(self, reuse: float = 0.15) -> tuple[list[dict], str | None]:
        """One owner, or (a fifth of the time) co-owners: spouses' joint property or shares."""
        r = self.rng.random()
        if r < 0.10:
            a, b = self.citizen(reuse), self.citizen()
            return [_h(a, 1, 2), _h(b, 1, 2)], "joint"
        if r < 0.16:
            a, b = self.citizen(reuse), self.citizen()
            return [_h(a, 1, 2), _h(b, 1, 2)], "shared"
        if r < 0.20:
            a, b = self.citizen(reuse), self.citizen()
            return [_h(a, 1, 3), _h(b, 2, 3)], "shared"
        return [_h(self.citizen(reuse), 1, 1)], None

    def right(self, type_: str, holders: list[dict], common: str | None) -> dict:
        r = {"type": type_, "holders": holders, "accrued": self.date()}
        if common:
            r["common"] = common
        return r

    def encumbrances(self, type_: str) -> list[dict] | None:
        """Earlier encumbrances (Art 37.4): about 1 object in 25 pledged, 1 in 200 arrested."""
        r = self.rng.random()
        if r < 0.04 and type_ in ("apartment", "building", "land"):
            bank = self.rng.choice(BANKS)[1]
            accrued = self.date(2016, 2023)
            until = datetime.date.fromisoformat(accrued).replace(year=int(accrued[:4]) + self.rng.choice((5, 10, 15, 20))).isoformat()
            return [{"type": "pledge", "beneficiary": bank, "amount_tiyn": self.rng.randint(50, 600) * 100_000 * 100,
                     "accrued": accrued, "until": until, "note": "mortgage loan agreement"}]
        if r < 0.045:
            return [{"type": "arrest", "beneficiary": TAX_AUTHORITY[1], "accrued": self.date(2020, 2023),
                     "note": "tax arrears: arrest of property (Tax Code)"}]
        return None

    def add(self, cn: str, type_: str, ident: dict, rights: list[dict], parent: str | None = None, encs: list[dict] | None = None) -> None:
        o = {"cn": cn, "type": type_, "ident": ident, "rights": rights}
        if parent:
            o["parent"] = parent
        if encs:
            o["encumbrances"] = encs
        self.objects.append(o)

    # --- sites -------------------------------------------------------------------------------
    def town(self, region: Region) -> tuple[str, str, str]:
        town, district = self.rng.choice(region.towns)
        street = self.rng.choice(STREETS)
        number = self.rng.randint(1, 240)
        prefix = town if region.name == town else f"{region.name}, {town}"
        return prefix + f", {street} {number}", district, town

    def apartment_block(self, region: Region) -> None:
        address, district, _ = self.town(region)
        land = self.cn(region, district)
        floors = self.rng.choice((5, 9, 9, 12, 16, 22))
        flats = min(self.rng.randint(8, 40), self.room() - 2)
        osi = self.company(reuse=0.0)          # the owners' association of this house
        areas = [self.rng.randint(30, 150) * DM2_PER_M2 for _ in range(flats)]
        self.add(land, "land", {"address": address, "region": region.name, "land_category": "settlements",
                                "purpose": "operation of a multi-apartment residential building", "form_of_property": "state",
                                "area_total_dm2": self.rng.randint(30, 150) * 100 * DM2_PER_M2},
                 [self.right("land_use", [_h(osi)], None)])
        building = land + ":1"
        self.add(building, "building", {"address": address, "region": region.name, "purpose": "multi-apartment residential building",
                                        "form_of_property": "private", "floors": floors, "components": flats,
                                        "area_total_dm2": sum(areas) * 5 // 4, "area_useful_dm2": sum(areas)},
                 [self.right("ownership", [_h(osi)], None)], parent=land)
        for n, area in enumerate(areas, start=1):
            if self.rng.random() < 0.08:
                holders, common = [_h(self.company())], None
            else:
                holders, common = self.individual_holders()
            living = area * self.rng.randint(55, 70) // 100
            self.add(f"{building}:{n}", "apartment",
                     {"address": f"{address}, apt {n}", "region": region.name, "purpose": "dwelling", "form_of_property": "private",
                      "floors": floors, "components": self.rng.randint(1, 5), "area_total_dm2": area, "area_living_dm2": living,
                      "area_useful_dm2": area},
                     [self.right("ownership", holders, common)], parent=building, encs=self.encumbrances("apartment"))
            # Some owners of a flat also have a garden plot: a household the demo can use.
            if len(holders) == 1 and holders[0]["id"] in self.citizen_set and self.rng.random() < 0.12 and self.room() > len(areas) - n:
                self.garden_plot(region, holders[0]["id"])

    def private_house(self, region: Region) -> None:
        address, district, _ = self.town(region)
        land = self.cn(region, district)
        holders, common = self.individual_holders(reuse=0.1)
        area = self.rng.randint(60, 300) * DM2_PER_M2
        self.add(land, "land", {"address": address, "region": region.name, "land_category": "settlements",
                                "purpose": "individual housing construction", "form_of_property": "private",
                                "area_total_dm2": self.rng.randint(4, 15) * 100 * DM2_PER_M2},
                 [self.right("ownership", holders, common)], encs=self.encumbrances("land"))
        if self.room() > 0:
            self.add(land + ":1", "building", {"address": address, "region": region.name, "purpose": "individual residential house",
                                               "form_of_property": "private", "floors": self.rng.choice((1, 1, 2, 2, 3)), "components": 1,
                                               "area_total_dm2": area, "area_living_dm2": area * 3 // 5},
                     [self.right("ownership", holders, common)], parent=land)

    def garden_plot(self, region: Region, owner: str | None = None) -> None:
        town, district = self.rng.choice(region.towns)
        land = self.cn(region, district)
        holders, common = ([_h(owner)], None) if owner else self.individual_holders(reuse=0.2)
        where = town if region.name == town else f"{region.name}, {town}"
        self.add(land, "land", {"address": f"{where}, gardening partnership \"{self.rng.choice(COMPANY_WORDS)}\", plot {self.rng.randint(1, 400)}",
                                "region": region.name, "land_category": "settlements", "purpose": "gardening",
                                "form_of_property": "private", "area_total_dm2": self.rng.randint(4, 12) * 100 * DM2_PER_M2},
                 [self.right("ownership", holders, common)])

    def commercial(self, region: Region) -> None:
        address, district, _ = self.town(region)
        land = self.cn(region, district)
        owner = self.company()
        kind = self.rng.choice(("office building", "shopping centre", "warehouse", "hotel", "production building"))
        self.add(land, "land", {"address": address, "region": region.name, "land_category": "settlements",
                                "purpose": f"operation of a {kind}", "form_of_property": "private",
                                "area_total_dm2": self.rng.randint(10, 200) * 100 * DM2_PER_M2},
                 [self.right("ownership", [_h(owner)], None)])
        if self.room() > 0:
            area = self.rng.randint(300, 20_000) * DM2_PER_M2
            self.add(land + ":1", "building", {"address": address, "region": region.name, "purpose": kind, "form_of_property": "private",
                                               "floors": self.rng.randint(1, 12), "components": 1, "area_total_dm2": area,
                                               "area_useful_dm2": area * 9 // 10},
                     [self.right("ownership", [_h(owner)], None)], parent=land, encs=self.encumbrances("building"))

    def farm_plot(self, region: Region) -> None:
        if not region.rural:
            return self.garden_plot(region)
        rural = self.rng.choice(region.rural)
        district = f"{region.rural.index(rural) + 1:03d}"      # town districts are coded 036 and up
        land = self.cn(region, district)
        soil = self.rng.choice(region.soils)
        purpose = self.rng.choice(AGRI_PURPOSES)
        if self.rng.random() < 0.35:
            holders, common, right = [_h(self.company())], None, "land_use"       # temporary land use (lease) of an agricultural company
        else:
            holders, common = self.individual_holders(reuse=0.05)
            right = self.rng.choice(("ownership", "land_use"))
        encs = None
        if self.rng.random() < 0.04:   # an instruction to use the plot for its purpose (Order 7; Art 31.1-1 4-1)
            encs = [{"type": "land_use_instruction", "beneficiary": self.akimat(region), "accrued": self.date(2021, 2023),
                     "note": "non-use for the intended purpose: instruction to cultivate within one year"}]
        self.add(land, "land", {"address": f"{region.name}, {rural} district, agricultural plot {self.rng.randint(1, 900)}",
                                "region": region.name, "land_category": "agricultural land", "purpose": f"{purpose}; soil: {soil}",
                                "form_of_property": "private" if right == "ownership" else "state",
                                "area_total_dm2": self.rng.randint(5, 3000) * DM2_PER_HA},
                 [self.right(right, holders, common)], encs=encs)

    def run(self) -> list[dict]:
        regions = [r for r in REGIONS for _ in range(r.weight)]
        # Weights per site; a block brings ~26 objects, so about half the objects are apartments.
        sites = ((self.apartment_block, 5), (self.private_house, 20), (self.garden_plot, 8), (self.commercial, 10), (self.farm_plot, 30))
        kinds = [f for f, w in sites for _ in range(w)]
        while self.room() > 0:
            site = self.rng.choice(kinds)
            if site == self.apartment_block and self.room() < 3:
                site = self.garden_plot
            site(self.rng.choice(regions))
        assert len(self.objects) == self.size, (len(self.objects), self.size)
        return self.objects


def _h(pid: str, num: int = 1, den: int = 1) -> dict:
    return {"id": pid, "share": [num, den]}


def generate(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> list[dict]:
    """`size` objects for genesis app_state["register"], the same for the same seed."""
    assert size >= 0
    if size == 0:
        return []
    return _Generator(size, seed).run()


@dataclasses.dataclass(frozen=True)
class Household:
    """A citizen who alone owns an apartment (to pledge) and another object (to sell)."""

    owner: str
    apartment: dict
    other: dict


def households(register: list[dict]) -> Iterator[Household]:
    """Citizens who are sole owners of an unencumbered apartment and of another unencumbered
    object with nothing built on it, in register order."""
    parents = {o.get("parent") for o in register}
    sole: dict[str, list[dict]] = {}
    for o in register:
        rights = o["rights"]
        if o.get("encumbrances") or len(rights) != 1 or rights[0]["type"] != "ownership" or len(rights[0]["holders"]) != 1:
            continue
        h = rights[0]["holders"][0]
        if h["share"] != [1, 1] or is_bin(h["id"]) or o["cn"] in parents:
            continue
        sole.setdefault(h["id"], []).append(o)
    found: list[Household] = []
    for owner, objs in sole.items():
        flats = [o for o in objs if o["type"] == "apartment"]
        # A house is sold with its plot, so buildings are left out.
        others = sorted((o for o in objs if flats and o is not flats[0] and o["type"] != "building"), key=_farm_land)
        if flats and others:
            found.append(Household(owner, flats[0], others[0]))
    # What a family sells is another flat or a garden plot; farm land (whose owners the Land
    # Code restricts) only after every such household.
    yield from sorted(found, key=lambda h: _farm_land(h.other))


def _farm_land(o: dict) -> bool:
    return o["ident"].get("land_category") == "agricultural land"


LOAD_REGION = "21"        # Astana
LOAD_DISTRICT = "399"     # a district code the generator never uses: objects entered later by register.load


def household_objects(owner: str, osi: str, quarter: int, seed: int = DEFAULT_SEED) -> list[dict]:
    """A household to enter by systematic registration (register.load) when the genesis
    register has none left: in quarter `quarter` of Astana's district 399, a block's land in
    the permanent use of its owners' association `osi` (a BIN), the building, `owner`'s
    apartment in it, and `owner`'s garden plot."""
    assert 1 <= quarter <= 999
    rng = random.Random(seed * 1000 + quarter)
    street = rng.choice(STREETS)
    address = f"Astana, {street} {rng.randint(1, 240)}"
    base = f"{LOAD_REGION}-{LOAD_DISTRICT}-{quarter:03d}"
    area = rng.randint(40, 120) * DM2_PER_M2
    return [
        {"cn": f"{base}-001", "type": "land", "rights": [{"type": "land_use", "holders": [_h(osi)]}],
         "ident": {"address": address, "region": "Astana", "land_category": "settlements", "form_of_property": "state",
                   "purpose": "operation of a multi-apartment residential building", "area_total_dm2": 80 * 100 * DM2_PER_M2}},
        {"cn": f"{base}-001:1", "type": "building", "parent": f"{base}-001", "rights": [{"type": "ownership", "holders": [_h(osi)]}],
         "ident": {"address": address, "region": "Astana", "purpose": "multi-apartment residential building", "form_of_property": "private",
                   "floors": 9, "components": 36, "area_total_dm2": 36 * area * 5 // 4}},
        {"cn": f"{base}-001:1:7", "type": "apartment", "parent": f"{base}-001:1", "rights": [{"type": "ownership", "holders": [_h(owner)]}],
         "ident": {"address": f"{address}, apt 7", "region": "Astana", "purpose": "dwelling", "form_of_property": "private", "floors": 9,
                   "components": 3, "area_total_dm2": area, "area_living_dm2": area * 3 // 5, "area_useful_dm2": area}},
        {"cn": f"{base}-002", "type": "land", "rights": [{"type": "ownership", "holders": [_h(owner)]}],
         "ident": {"address": f"Astana, gardening partnership \"{rng.choice(COMPANY_WORDS)}\", plot {rng.randint(1, 400)}", "region": "Astana",
                   "land_category": "settlements", "purpose": "gardening", "form_of_property": "private",
                   "area_total_dm2": rng.randint(4, 12) * 100 * DM2_PER_M2}},
    ]
