"""Roles in a workspace, ordered: a viewer reads; a member also writes data; an owner also
manages members and API keys."""

from __future__ import annotations

from enum import StrEnum

from microfluence.access.errors import PermissionDeniedError
from microfluence.kernel.errors import InputError


class Role(StrEnum):
    viewer = "viewer"
    member = "member"
    owner = "owner"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.viewer: 0, Role.member: 1, Role.owner: 2}

# What each kind of action needs.
READ = Role.viewer
WRITE = Role.member
MANAGE = Role.owner

_ACTION = {Role.viewer: "read", Role.member: "change data", Role.owner: "manage the workspace"}


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InputError(
            f"unknown role {value!r}: use one of viewer, member, owner", field="role", value=value
        ) from None


def require(role: Role | str, needed: Role) -> None:
    """Raise PermissionDeniedError unless ``role`` allows what ``needed`` stands for."""
    have = Role(role)
    if not have.allows(needed):
        raise PermissionDeniedError(
            f"a {have.value} may not {_ACTION[needed]}: this needs the {needed.value} role"
        )
