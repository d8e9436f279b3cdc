"""Microsoft 365 unified audit log records (Office 365 Management Activity API).

Every key is kept flattened under its own name (``Operation``, ``Workload``, ``UserId``,
``ResultStatus``, ``ObjectId`` …: the names SigmaHQ's ``product: m365`` rules use).
Records wrapped by Wazuh's office365 module (``{"integration": "office365",
"office365": {...}}``) are unwrapped. ``ClientIP`` is written as ``1.2.3.4``,
``1.2.3.4:5678``, ``[2001:db8::1]:443`` or a bare IPv6 address; all give ``source.ip``
(and ``source.port``). ``CreationTime`` has no zone and is UTC.
``event.module`` is ``m365``, ``event.dataset`` ``m365.audit``; ``event.action`` is the
Operation and ``event.provider`` the Workload.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import is_ip, put, split_host_port
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = ["Office365Parser"]

_SUCCESS = frozenset({"succeeded", "success", "true", "partiallysucceeded"})
_FAILURE = frozenset({"failed", "failure", "false"})
_LOGIN_FAILED = frozenset({"UserLoginFailed"})
_LOGINS = frozenset({"UserLoggedIn", "UserLoginFailed"})
_IAM = (
    "Add user", "Update user", "Delete user", "Add member to role", "Remove member from role",
    "Add group", "Add member to group", "Remove member from group", "Reset user password",
    "Change user password", "Add service principal", "Add service principal credentials",
    "Add-MailboxPermission", "Add-RecipientPermission", "Set-Mailbox",
)  # fmt: skip
_FILE_OPERATIONS = frozenset(
    {
        "FileAccessed",
        "FileDownloaded",
        "FileUploaded",
        "FileModified",
        "FileDeleted",
        "FileMalwareDetected",
    }
)


def _address(text: str) -> tuple[str, int | None] | None:
    host, port = split_host_port(text.strip())
    if is_ip(host):
        return host, port
    if is_ip(text.strip()):  # a bare IPv6 address, colons and all
        return text.strip(), None
    return None


def _extended(record: dict[str, Any], name: str) -> Any:
    for key in ("ExtendedProperties", "DeviceProperties"):
        items = record.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and item.get("Name") == name:
                    return item.get("Value")
    return None


class Office365Parser:
    """One unified audit log record."""

    name = "o365"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc}", parser=self.name) from None
        if not isinstance(doc, dict):
            raise ParseError("an audit record must be a JSON object", parser=self.name)
        record = doc
        if isinstance(doc.get("office365"), dict):
            record = doc["office365"]
        if not any(k in record for k in ("Operation", "Workload", "RecordType")):
            raise ParseError(
                "not a Microsoft 365 audit record: no Operation, Workload or RecordType",
                parser=self.name,
            )
        event = flatten_json(record, max_depth=ctx.max_json_depth, parser=self.name, flat_depth=5)
        if record is not doc:
            put(event, "o365.integration", doc.get("integration"))
        stamp = parse_time_value(record.get("CreationTime"))
        event["@timestamp"] = stamp if stamp is not None else ctx.received
        event["event.module"] = "m365"
        event["event.dataset"] = "m365.audit"
        event["event.kind"] = "event"
        operation = record.get("Operation")
        put(event, "event.action", operation)
        put(event, "event.provider", record.get("Workload"))
        if record.get("RecordType") is not None:
            event["event.code"] = str(record["RecordType"])
        status = str(record.get("ResultStatus", "")).lower()
        if status in _SUCCESS:
            event["event.outcome"] = "success"
        elif status in _FAILURE:
            event["event.outcome"] = "failure"
        if operation in _LOGINS:
            event["event.category"] = ["authentication"]
            event["event.outcome"] = "failure" if operation in _LOGIN_FAILED else "success"
        elif isinstance(operation, str) and operation.rstrip(".") in _IAM:
            event["event.category"] = ["iam"]
        elif operation in _FILE_OPERATIONS:
            event["event.category"] = ["file"]
        user = record.get("UserId")
        if isinstance(user, str) and user:
            event["user.name"] = user
            if "@" in user:
                event["user.email"] = user
                event["user.domain"] = user.rpartition("@")[2]
        put(event, "user.id", record.get("UserKey"))
        for key in ("ClientIP", "ClientIPAddress", "ActorIpAddress"):
            value = record.get(key)
            found = _address(value) if isinstance(value, str) else None
            if found is not None:
                event["source.ip"] = event["client.ip"] = found[0]
                if found[1] is not None:
                    event["source.port"] = found[1]
                break
        put(event, "organization.id", record.get("OrganizationId"))
        agent = record.get("UserAgent") or _extended(record, "UserAgent")
        put(event, "user_agent.original", agent)
        put(
            event,
            "user.target.name",
            record.get("ObjectId") if event.get("event.category") == ["iam"] else None,
        )
        coerce_core_fields(event)
        return event
