"""Read and check everything first, then write in one short transaction.

An import runs in two phases:

1. **read and check**: the input is read, parsed and validated batch by batch; the rows that
   pass are *staged* (:class:`Stage`: in memory up to :data:`SPILL_BYTES`, then spilled to
   compressed Arrow IPC files in a private temporary folder) and the rejected ones streamed to
   the rejects file. Nothing touches the store, so on SQLite no write lock is held however long
   this takes — decompressing, parsing, checking, a huge file of bad rows — and other
   workspaces write as usual. A bad row (without ``skip_invalid``), a limit or a cancel stops
   the import here, before anything was written.
2. **write**: the staged frames are written through the one write path
   (:func:`microfluence.ingest.write.writer.import_run`) in one transaction, so the import stays
   all or nothing; the transaction holds the store only for the writes themselves, whose number
   ``MICROFLUENCE_MAX_IMPORT_ROWS`` bounds. The import may still be cancelled between two
   staged batches; it then rolls back.

:class:`StagedImport` is that sequence for every importer: the rejects file (committed only on
success), the import guard (limits, cancel), and the import log entry of a failure in either
phase.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import polars as pl

from microfluence.ingest.guard import ImportGuard
from microfluence.ingest.rejects import RejectsFile
from microfluence.ingest.report import ImportReport
from microfluence.ingest.write.writer import StoreWriter, import_run, record_failure
from microfluence.kernel.store import Store
from microfluence.kernel.workspaces import check_name

# Staged frames stay in memory up to this size, then go to disk: small imports pay nothing,
# large ones keep memory flat.
SPILL_BYTES = 32 << 20

Apply = Callable[[StoreWriter, str, pl.DataFrame], None]


class Stage:
    """Checked frames waiting for the write phase, each with a tag saying what it holds."""

    def __init__(self, spill_bytes: int = SPILL_BYTES) -> None:
        self.spill_bytes = spill_bytes
        self._items: list[tuple[str, pl.DataFrame | Path]] = []
        self._held = 0
        self._folder: Path | None = None
        self.rows = 0

    def add(self, tag: str, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        self.rows += frame.height
        size = frame.estimated_size()
        if self._held + size <= self.spill_bytes:
            self._items.append((tag, frame))
            self._held += size
            return
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="microfluence-stage-"))
        path = self._folder / f"{len(self._items):07d}.arrow"
        frame.write_ipc(path, compression="lz4")
        self._items.append((tag, path))

    def __iter__(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """The staged frames in the order they were added (each read back, then forgotten)."""
        for index, (tag, item) in enumerate(self._items):
            self._items[index] = (tag, pl.DataFrame())  # nothing kept once handed out
            if isinstance(item, Path):
                frame = pl.read_ipc(item, memory_map=False)
                item.unlink(missing_ok=True)
            else:
                frame = item
            yield tag, frame

    def close(self) -> None:
        self._items.clear()
        self._held = 0
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class StagedImport:
    """One import's two phases (module docstring), as a context manager::

    with StagedImport(store, workspace, kind, source, report, guard=guard) as run:
        for batch in ...:          # phase 1: read and check
            run.stage("rows", frame)
        run.write(apply)           # phase 2: one transaction
    """

    def __init__(
        self,
        store: Store,
        workspace: str,
        kind: str,
        source: str,
        report: ImportReport,
        *,
        guard: ImportGuard,
        rejects_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.kind = kind
        self.source = source
        self.report = report
        self.guard = guard
        self.rejects_path = rejects_path
        self._stage = Stage()
        self._writing = False

    def __enter__(self) -> StagedImport:
        check_name(self.workspace)  # a bad workspace name fails before any reading
        if self.rejects_path is not None:
            self.report.rejects = RejectsFile(self.rejects_path)
            self.report.rejects_path = str(self.report.rejects.path)
        return self

    def stage(self, tag: str, frame: pl.DataFrame) -> None:
        """Keep checked rows for the write phase; a checkpoint for cancelling."""
        self._stage.add(tag, frame)
        self.guard.checkpoint()

    def write(self, apply: Apply, finish: Callable[[StoreWriter], object] | None = None) -> None:
        """Phase 2: every staged frame through ``apply``, then ``finish``, in one transaction."""
        self.guard.checkpoint()
        self._writing = True
        with import_run(self.store, self.workspace, self.kind, self.source, self.report) as writer:
            for tag, frame in self._stage:
                apply(writer, tag, frame)
                self.guard.checkpoint()
            if finish is not None:
                finish(writer)
            self.guard.checkpoint()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stage.close()
        rejects, self.report.rejects = self.report.rejects, None
        if exc is None:
            if rejects is not None:
                rejects.commit()
            return
        if rejects is not None:
            rejects.discard()
        if not self._writing:  # the write phase records its own failures
            record_failure(self.store, self.workspace, self.kind, self.source, exc)
