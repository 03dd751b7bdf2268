"""Write overlays over the state tree: one per block, one per transaction inside it.

Execution reads through the overlays to the tree at the committed root and collects the
writes; the block's writes are applied to the tree once, at the end of the block (the tree
is updated once per block, not once per write). A refused transaction's overlay is simply
dropped. May import: node.interfaces, node.state_tree.
"""

from __future__ import annotations

from typing import Callable

_DELETED = None


class ReadOnlyState:
    """The state at one root, read through the tree (every node read is hash-checked)."""

    def __init__(self, read: Callable[[bytes], bytes | None]):
        self._read = read

    def get(self, key: bytes) -> bytes | None:
        return self._read(key)

    def set(self, key: bytes, value: bytes) -> None:
        raise AssertionError("read-only state")

    def delete(self, key: bytes) -> None:
        raise AssertionError("read-only state")


class Overlay:
    """Buffered writes over a parent view; `writes` maps key -> value or None (deleted)."""

    def __init__(self, parent) -> None:
        self._parent = parent
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self._parent.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        assert isinstance(key, bytes) and isinstance(value, bytes), "state keys and values are bytes"
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = _DELETED

    def child(self) -> "Overlay":
        return Overlay(self)

    def merge_into_parent(self) -> None:
        """Apply this overlay's writes to its parent overlay (a transaction that succeeded)."""
        parent = self._parent
        assert isinstance(parent, Overlay)
        parent.writes.update(self.writes)
        self.writes = {}
