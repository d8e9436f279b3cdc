"""Linux account management, logind sessions, systemd services and cron → ECS.

Account tools (shadow-utils ``useradd``, ``groupadd``, ``userdel``, ``groupdel``,
``usermod``, ``groupmod``, ``passwd``, ``gpasswd``) are ``event.category: iam`` with
``event.type`` ``user``/``group`` and ``creation``/``deletion``/``change``, outcome
``failure`` when the message says it failed, as Elastic's system module does. Each
known message also gets an action: ``user-created``, ``group-created``,
``user-deleted``, ``group-deleted``, ``user-modified``, ``group-modified``,
``group-member-added`` (usermod/useradd), ``group-user-added`` /
``group-user-removed`` (gpasswd), ``password-changed``. ``user.name`` is the account
acted on (as Elastic fills it) and ``user.target.name`` says so explicitly.

``systemd-logind`` ``New session``/``Removed session`` are session start/end;
``systemd`` ``Started``/``Stopped`` are ``service-start``/``service-stop``
(``system.syslog``, as Elastic); cron ``(user) CMD (command)`` is a process start.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from heron.model.event import Event
from heron.normalize.linux_common import IAM, PROCESS, SESSION, mark

__all__ = ["PROGRAMS"]

Handler = Callable[[Event, str], "str | None"]

_NEW_USER = re.compile(
    r"new user: name=(.*?), UID=([0-9]+), GID=([0-9]+), home=(.*?), shell=([^,]*)(?:, from=(.*))?$"
)
_NEW_GROUP = re.compile(r"(?:new group: name=|group added to /etc/(?:group|gshadow): name=)"
                        r"([^,\s]+)(?:, GID=([0-9]+))?")  # fmt: skip
_ADD_TO_GROUP = re.compile(r"add '([^']+)' to (?:shadow )?group '([^']+)'")
_DELETE_USER = re.compile(r"delete user '([^']+)'")
_REMOVED_GROUP = re.compile(
    r"(?:removed (?:shadow )?group '([^']+)'|group '([^']+)' removed)(?: owned by '([^']+)')?"
)
_USERMOD = re.compile(
    r"(change user|lock user|unlock user|change user name) '([^']+)'(?: (password|shell|home"
    r"|UID|GID|name|expiration|inactive|comment|login)?)?"
)
_GROUPMOD = re.compile(r"group changed in /etc/\S+ \(group ([^/\s]+)")
_PASSWD = re.compile(r"password for '([^']+)' changed by '([^']+)'")
_GPASSWD = re.compile(r"user (\S+) (added|removed) by (\S+) (?:to|from) group (\S+)")


def _outcome(text: str) -> str:
    return "failure" if "fail" in text.lower() else "success"


def _user(event: Event, name: str) -> None:
    event["user.name"] = name
    event["user.target.name"] = name


def _useradd(event: Event, text: str) -> str | None:
    if (m := _NEW_USER.match(text)) is not None:
        mark(event, [IAM], ["user", "creation"], "user-created", "success")
        _user(event, m.group(1))
        event["user.id"], event["group.id"] = m.group(2), m.group(3)
        event["system.auth.useradd.home"] = m.group(4)
        event["system.auth.useradd.shell"] = m.group(5)
        return "system.auth"
    if (m := _NEW_GROUP.match(text)) is not None:
        return _group_created(event, m, text)
    if (m := _ADD_TO_GROUP.match(text)) is not None:
        return _member_added(event, m)
    mark(event, [IAM], ["user", "creation"], None, _outcome(text))
    return "system.auth"


def _group_created(event: Event, m: re.Match[str], text: str) -> str:
    mark(event, [IAM], ["group", "creation"], "group-created", _outcome(text))
    event["group.name"] = m.group(1)
    if m.group(2):
        event["group.id"] = m.group(2)
    return "system.auth"


def _member_added(event: Event, m: re.Match[str]) -> str:
    mark(event, [IAM], ["group", "change"], "group-member-added", "success")
    _user(event, m.group(1))
    event["group.name"] = m.group(2)
    return "system.auth"


def _groupadd(event: Event, text: str) -> str | None:
    if (m := _NEW_GROUP.match(text)) is not None:
        return _group_created(event, m, text)
    mark(event, [IAM], ["group", "creation"], None, _outcome(text))
    return "system.auth"


def _userdel(event: Event, text: str) -> str | None:
    if (m := _DELETE_USER.match(text)) is not None:
        mark(event, [IAM], ["user", "deletion"], "user-deleted", "success")
        _user(event, m.group(1))
        return "system.auth"
    if (m := _REMOVED_GROUP.match(text)) is not None:
        mark(event, [IAM], ["group", "deletion"], "group-deleted", "success")
        event["group.name"] = m.group(1) or m.group(2)
        return "system.auth"
    mark(event, [IAM], ["user", "deletion"], None, _outcome(text))
    return "system.auth"


def _groupdel(event: Event, text: str) -> str | None:
    if (m := _REMOVED_GROUP.match(text)) is not None:
        mark(event, [IAM], ["group", "deletion"], "group-deleted", "success")
        event["group.name"] = m.group(1) or m.group(2)
        return "system.auth"
    mark(event, [IAM], ["group", "deletion"], None, _outcome(text))
    return "system.auth"


def _usermod(event: Event, text: str) -> str | None:
    if (m := _ADD_TO_GROUP.match(text)) is not None:
        return _member_added(event, m)
    if (m := _USERMOD.match(text)) is not None:
        what = m.group(3) or ""
        action = "password-changed" if what == "password" else "user-modified"
        mark(event, [IAM], ["user", "change"], action, _outcome(text))
        _user(event, m.group(2))
        return "system.auth"
    mark(event, [IAM], ["user", "change"], None, _outcome(text))
    return "system.auth"


def _groupmod(event: Event, text: str) -> str | None:
    mark(event, [IAM], ["group", "change"], "group-modified", _outcome(text))
    if (m := _GROUPMOD.match(text)) is not None:
        event["group.name"] = m.group(1)
    return "system.auth"


def _passwd(event: Event, text: str) -> str | None:
    if (m := _PASSWD.match(text)) is not None:
        mark(event, [IAM], ["user", "change"], "password-changed", "success")
        event["user.name"] = m.group(2)
        event["user.target.name"] = m.group(1)
        return "system.auth"
    return None


def _gpasswd(event: Event, text: str) -> str | None:
    if (m := _GPASSWD.match(text)) is None:
        return None
    target, verb, actor, group = m.groups()
    mark(event, [IAM], ["group", "change"], f"group-user-{verb}", "success")
    event["user.name"] = actor
    event["user.target.name"] = target
    event["group.name"] = group
    return "system.auth"


_NEW_SESSION = re.compile(r"New session (\S+) of user (\S+?)\.?$")
_REMOVED_SESSION = re.compile(r"Removed session (\S+?)\.?$")


def _logind(event: Event, text: str) -> str | None:
    if (m := _NEW_SESSION.match(text)) is not None:
        mark(event, [SESSION], ["start"], "new-session", "success")
        event["system.auth.session.id"] = m.group(1)
        event["user.name"] = m.group(2)
        return "system.auth"
    if (m := _REMOVED_SESSION.match(text)) is not None:
        mark(event, [SESSION], ["end"], "removed-session", None)
        event["system.auth.session.id"] = m.group(1)
        return "system.auth"
    return None


def _systemd(event: Event, text: str) -> str | None:
    # Elastic's syslog data stream: every line is an event, service lines get an action.
    if text.startswith("Started "):
        mark(event, [PROCESS], ["start"], "service-start", None)
    elif text.startswith("Stopped ") and not text.startswith("Stopped target "):
        mark(event, [PROCESS], ["end"], "service-stop", None)
    elif text.startswith("Failed to start "):
        mark(event, [PROCESS], ["start"], "service-start", "failure")
    return "system.syslog"


_CRON_CMD = re.compile(r"\((\S+)\) CMD \((.*)\)$")


def _cron(event: Event, text: str) -> str | None:
    if (m := _CRON_CMD.match(text)) is None:
        return None
    mark(event, [PROCESS], ["start"], "cron-command", None)
    event["user.name"] = m.group(1)
    event["process.command_line"] = m.group(2)
    return "system.syslog"


PROGRAMS: dict[str, Handler] = {
    "useradd": _useradd,
    "adduser": _useradd,
    "groupadd": _groupadd,
    "addgroup": _groupadd,
    "userdel": _userdel,
    "deluser": _userdel,
    "groupdel": _groupdel,
    "usermod": _usermod,
    "groupmod": _groupmod,
    "passwd": _passwd,
    "gpasswd": _gpasswd,
    "systemd-logind": _logind,
    "systemd": _systemd,
    "CRON": _cron,
    "cron": _cron,
    "crond": _cron,
}
