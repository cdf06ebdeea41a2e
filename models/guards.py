"""Registries through which a higher domain takes part in a lower one's writes without the lower importing it.

Imports run one way: territory < departments < people < accounts < enterprises < hazards < patrols < duty <
statistics. When a write of a lower domain needs the word of a higher one (may this cell be retired? an officer
left: what of their account?), the lower domain declares a `Guards` registry and calls it inside its write; each
higher domain registers its function there when it is imported (`models/__init__` imports every domain, so a
registry is full before any write runs). A function vetoes by raising a `DomainError`; the locks it needs are
declared with it and taken by the lower domain's write, in the global order of `models.locks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.locks import LockKey


class Guards:
    """What higher domains have to say about one kind of write of a lower domain."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[Callable[..., None], tuple[Callable[[int], LockKey], ...]]] = []

    def register(
        self, *lock_builders: Callable[[int], LockKey]
    ) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorator: call the function on every such write. The write first takes the locks that `lock_builders`
        make from the id of what it writes (a cell's, an officer's)."""

        def decorator(func: Callable[..., None]) -> Callable[..., None]:
            self._entries.append((func, lock_builders))
            return func

        return decorator

    def locks(self, subject_id: int) -> list[LockKey]:
        """The locks the registered functions need for a write of `subject_id` (take them with the write's own, in
        one `write_transaction`)."""
        return [build(subject_id) for _func, builders in self._entries for build in builders]

    def run(self, session: Any, **kwargs: Any) -> None:
        """Call every registered function as fn(session, caller=..., ...) inside the write."""
        for func, _builders in self._entries:
            func(session, **kwargs)

    def __repr__(self) -> str:
        return f"Guards({self.name!r}, {[func.__qualname__ for func, _ in self._entries]})"
