"""Errors of authentication and account management."""

from __future__ import annotations

from heron.errors import HeronError

__all__ = ["AccountError", "AuthError", "LoginFailed", "TooManyAttempts"]


class AuthError(HeronError):
    """Base of the authentication errors."""


class LoginFailed(AuthError):
    """Unknown user or wrong password: one message for both, on purpose."""

    def __init__(self) -> None:
        super().__init__("invalid user name or password")


class TooManyAttempts(AuthError):
    """Too many failed logins for this user or client; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} s")


class AccountError(AuthError):
    """A user or token operation that cannot be done (bad name, exists, not found …)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        self.status = status
        super().__init__(message)
