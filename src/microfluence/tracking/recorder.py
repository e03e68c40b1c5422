"""The click recorder of one app process: its journal, and the background step that moves
logged clicks into the store and recovers the journals of processes that died.

``start()`` first moves what dead processes left (the replay after a crash), then every
``click_move_seconds`` rotates its own journal, moves the closed segments and looks for dead
journals again (a sibling of ``serve --workers N`` that was killed); ``stop()`` moves the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.tracking.clicks import move_segments
from microfluence.tracking.journal import Journal, orphan, owners
from microfluence.tracking.visitors import DailySalt

log = logging.getLogger(__name__)


def recover(store: Store, folder: Path, *, besides: str = "") -> int:
    """Move the segments of every dead journal in ``folder``; returns the clicks offered."""
    moved = 0
    if not folder.exists():
        return 0
    for owner in owners(folder, besides=besides):
        with orphan(folder, owner) as segments:
            if segments:
                moved += move_segments(store, segments)
    return moved


class ClickRecorder:
    def __init__(
        self, store: Store, folder: Path, move_seconds: float = 1.0, *, sync: bool = True
    ) -> None:
        self.store = store
        self.folder = folder
        self.sync = sync
        self.move_seconds = move_seconds
        self.salt = DailySalt(store)
        self.journal: Journal | None = None
        self._stop = threading.Event()
        self._mover: threading.Thread | None = None
        self._move_lock = threading.Lock()
        self._pruned_on: dt.date | None = None

    def start(self) -> None:
        self.journal = Journal(self.folder, sync=self.sync)
        recover(self.store, self.folder, besides=self.journal.owner)
        self._mover = threading.Thread(target=self._move_loop, name="click-mover", daemon=True)
        self._mover.start()

    async def record(self, record: dict[str, object]) -> None:
        """Log ``record``; returns once it is on disk (raises if it could not be written)."""
        if self.journal is None:
            raise RuntimeError("the click recorder is not started")
        if self.sync:
            await self.journal.append(record)
        else:
            self.journal.write_now(record)

    def move_now(self) -> int:
        """Move every click logged so far into the store (the background step, run now)."""
        if self.journal is None:
            return 0
        with self._move_lock:
            moved = move_segments(self.store, self.journal.rotate())
            moved += recover(self.store, self.folder, besides=self.journal.owner)
            today = utcnow().date()
            if self._pruned_on != today:
                self.salt.prune(today)
                self._pruned_on = today
            return moved

    def _move_loop(self) -> None:
        while not self._stop.wait(self.move_seconds):
            try:
                self.move_now()
            except Exception:  # the store is down, say: the clicks wait on disk, retried
                log.exception("moving clicks into the store failed; retrying")

    def stop(self) -> None:
        self._stop.set()
        if self._mover is not None:
            self._mover.join(timeout=60)
        if self.journal is None:
            return
        with self._move_lock:
            left = self.journal.close()
            try:
                move_segments(self.store, left)
            except Exception:  # left on disk: the next start moves them
                log.exception("moving the last clicks failed; they are moved at the next start")
            self.journal.release()
        self.journal = None
