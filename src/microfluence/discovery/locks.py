"""One lock per key, for the in-process indexes (keyword and vector): a workspace's first
search at a million accounts builds its index for minutes, and a single lock would hold every
other workspace's searches behind it; with a lock per (database, workspace) only the searches
of the workspace being built wait, and they wait for the one build instead of repeating it."""

from __future__ import annotations

import threading
from collections.abc import Hashable


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    def __call__(self, key: Hashable) -> threading.Lock:
        """The lock of ``key`` (made on first use and kept: one per workspace searched)."""
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock
