"""The first admin, created with the one-time setup token (API ``/api/setup`` and the UI)."""

from __future__ import annotations

from typing import Any

from heron.auth.errors import AccountError

__all__ = ["SetupError", "complete_setup"]


class SetupError(AccountError):
    """The setup token is wrong or spent, or the name or password is not acceptable."""


def complete_setup(
    app: Any, token: str, name: str, password: str, client: str | None = None
) -> None:
    """Create the first admin on ``app`` (its ``state.auth``) and record it in the audit log."""
    auth = app.state.auth
    try:
        auth.complete_setup(token, name, password)
    except AccountError as exc:
        raise SetupError(str(exc), status=exc.status) from None
    audit = getattr(app.state, "audit", None)
    if audit is not None:
        audit.append(name, "setup", name, {"role": "admin"}, client)
