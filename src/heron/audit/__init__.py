"""The hash-chained audit trail of analyst actions."""

from __future__ import annotations

from heron.audit.log import AuditError, AuditLog, AuditRecord, Verification

__all__ = ["ACTIONS", "AuditError", "AuditLog", "AuditRecord", "Verification"]

#: The actions the API and the UI record.
ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "query",
    "alert.update",
    "rule.enable",
    "rule.disable",
    "rule.upload",
    "search.save",
    "search.delete",
    "user.create",
    "user.delete",
    "user.update",
    "token.create",
    "token.revoke",
    "suppression.add",
    "suppression.remove",
    "export",
    "setup",
)
