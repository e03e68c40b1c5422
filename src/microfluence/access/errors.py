"""Errors of access control; the faces map them to 401, 403 and 429."""

from __future__ import annotations

from microfluence.kernel.errors import MicrofluenceError


class AuthenticationError(MicrofluenceError):
    """No credentials, or credentials that match nobody (a wrong, unknown or revoked key)."""

    code = "unauthenticated"


class PermissionDeniedError(PermissionError, MicrofluenceError):
    """The caller is known but their role does not allow this."""

    code = "forbidden"


class RateLimitedError(MicrofluenceError):
    """Too many failed sign-ins: try again after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
