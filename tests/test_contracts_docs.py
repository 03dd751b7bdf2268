"""The documentation and the client builders stay in step with the executor's table."""

from __future__ import annotations

from pathlib import Path

from contracts import builders
from contracts.kinds import TABLE
from contracts.refusals import CODES
from node.pki import ROLES

README = (Path(__file__).resolve().parent.parent / "contracts" / "README.md").read_text()


def test_readme_lists_every_kind_and_refusal_code():
    for kind in TABLE:
        assert f"`{kind}`" in README, kind
    for code in CODES:
        assert f"`{code}`" in README, code


def test_every_kind_has_a_builder_and_known_roles():
    assert [k["kind"] for k in builders.KINDS] == list(TABLE)
    for kind, spec in TABLE.items():
        assert callable(getattr(builders, kind.replace(".", "_"))), kind
        for group in spec.roles:
            assert group and all(r in ROLES for r in group), (kind, group)
