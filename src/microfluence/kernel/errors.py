"""One exception root for the whole product.

Each error is also a built-in exception (``ValueError``, ``LookupError`` …) so callers can catch
either, as Ibis does.  Faces (CLI, API, pages) translate these into exit codes and HTTP statuses.
"""

from __future__ import annotations


class MicrofluenceError(Exception):
    """Root of every error microfluence raises on purpose."""

    code = "error"


class InputError(ValueError, MicrofluenceError):
    """Bad input: names the file, the line (1-based, as an editor shows it) and the field."""

    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class NotFoundError(LookupError, MicrofluenceError):
    """A named thing (workspace, account, creator …) does not exist."""

    code = "not_found"


class ConflictError(MicrofluenceError):
    """The request clashes with what is stored (a duplicate name, say)."""

    code = "conflict"


class StoreError(RuntimeError, MicrofluenceError):
    """The store cannot be opened or migrated."""

    code = "store_error"
