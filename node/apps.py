"""The applications a node can run, by the name genesis gives (runtime layer).

May import: node.generic_executor, contracts.
"""

from __future__ import annotations

from node.errors import MalformedInput
from node.interfaces import Executor


def executor_for(app: str) -> Executor:
    if app == "tamga-generic/1":
        from node.generic_executor import GenericExecutor

        return GenericExecutor()
    if app == "tamga-registry/1":
        from contracts import RegistryExecutor

        return RegistryExecutor()
    raise MalformedInput(f"genesis names application {app!r}, which this node does not have")
