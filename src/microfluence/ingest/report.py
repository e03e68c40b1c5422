"""What an import did: created, updated and rejected rows, with the reasons."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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

    @property
    def rejected(self) -> int:
        return self.rejected_count

    def reject(self, rejection: Rejection, *, keep: int = 10_000) -> None:
        """Count a rejected row; keep the first ``keep`` reasons in memory."""
        self.rejected_count += 1
        if len(self.rejections) < keep:
            self.rejections.append(rejection)

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
            "reasons": [
                {"line": r.line, "field": r.field, "reason": r.reason} for r in self.rejections[:5]
            ],
        }


def write_rejections(rejections: list[Rejection], path: Path) -> None:
    """The rejected rows with their reasons, as CSV (file, line, field, reason, value, row)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "field", "reason", "value", "row"])
        for r in rejections:
            writer.writerow([r.file, r.line, r.field, r.reason, r.value, r.row])
