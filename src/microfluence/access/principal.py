"""Who is calling, in which workspace, with which role: what every scoped query receives."""

from __future__ import annotations

from dataclasses import dataclass

from microfluence.access.roles import Role, require


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user signed in to the pages, or an API key."""

    workspace_id: int
    workspace_name: str
    role: Role
    user_id: int | None = None
    api_key_id: int | None = None

    def require(self, needed: Role) -> Principal:
        require(self.role, needed)
        return self
