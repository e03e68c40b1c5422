"""What an import did: created, updated and rejected rows, with the reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from microfluence.ingest.rejects import RejectsFile

# Rejections kept in memory for summaries (the CLI shows 5, a job keeps 100); every one of them
# goes to the rejects file (microfluence.ingest.rejects) as it is found.
REJECTION_SAMPLE = 100


@dataclass(frozen=True)
class Rejection:
    """One input row left out, and why (file, line and field as an editor shows them)."""

    file: str
    line: int | None
    field: str | None
    reason: str
    value: str | None = None
    row: str | None = None  # the original record, so it can be fixed and imported again


@dataclass
class ImportReport:
    kind: str
    source: str
    workspace: str
    import_id: int | None = None
    rows_read: int = 0
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    rejected_count: int = 0
    seconds: float = 0.0
    columns: dict[str, str] = field(default_factory=dict)  # canonical field → input column
    ignored_columns: list[str] = field(default_factory=list)  # input columns nobody used
    rejects_path: str | None = None  # where the rejected rows were written
    # Accounts recognised by their platform id under a new handle: platform, from, to.
    renamed: list[dict[str, str]] = field(default_factory=list)
    # Where rejections are streamed as they happen (attached by the import's run).
    rejects: RejectsFile | None = field(default=None, repr=False, compare=False)

    @property
    def rejected(self) -> int:
        return self.rejected_count

    def reject(self, rejection: Rejection) -> None:
        """Count a rejected row, stream it to the rejects file, keep a small sample in memory."""
        self.rejected_count += 1
        if len(self.rejections) < REJECTION_SAMPLE:
            self.rejections.append(rejection)
        if self.rejects is not None:
            self.rejects.write(rejection)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "workspace": self.workspace,
            "import_id": self.import_id,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected_count,
            "seconds": round(self.seconds, 3),
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "rejects_path": self.rejects_path,
            "renamed": self.renamed[:REJECTION_SAMPLE],
            "reasons": [
                {"line": r.line, "field": r.field, "reason": r.reason} for r in self.rejections[:5]
            ],
        }
