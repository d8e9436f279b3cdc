"""Linux authentication syslog (auth.log / secure) → ECS, after the Elastic system module.

``normalize_linux`` looks at ``process.name`` and ``message`` of an event from the
syslog parsers and, for the programs it knows, sets ``event.kind``,
``event.category``, ``event.type``, ``event.action``, ``event.outcome``,
``user.*``, ``source.*``, ``process.*`` of the command run, ``related.*`` and
``event.module: system`` / ``event.dataset: system.auth`` (``system.syslog`` for
systemd and cron). Events of other programs, and events a parser has classified
already (``event.kind`` or ``event.module`` set: CEF, LEEF, auditd), are left as
they are.

Names follow Elastic where it has one (``ssh_login``, ``authentication_failure``,
``logged-on``, ``password-changed``, ``service-start`` …). Where it has none, or where
Heron chooses to say more, the choice is deliberate:

- sudo sets ``event.action: sudo`` and an outcome (``failure`` for ``incorrect
  password attempts``, ``NOT in sudoers`` …), su sets ``su``, useradd ``user-created``;
- PAM ``session opened`` is ``event.outcome: success``; ``check pass; user unknown``
  and ``Connection closed/reset by authenticating user`` (a client giving up during
  authentication, typical of key-spraying) are authentication failures;
- invalid-user disconnects and ``maximum authentication attempts exceeded`` are
  ``ssh_login`` failures, as Wazuh rates them;
- Elastic's ``user.effective.name: root(uid=0)`` (the uid kept in the name) is
  ``root`` here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from heron.model.event import Event
from heron.normalize.linux_common import (
    AUTH,
    IAM,
    NETWORK,
    PROCESS,
    SESSION,
    finish,
    mark,
    set_source,
)
from heron.normalize.linux_system import PROGRAMS

__all__ = ["normalize_linux"]


def normalize_linux(event: Event) -> None:
    """Add ECS fields to a Linux syslog event in place; other events are left untouched."""
    name = event.get("process.name")
    message = event.get("message")
    if not isinstance(name, str) or not isinstance(message, str):
        return
    if "event.kind" in event or "event.module" in event:
        # Classified already (CEF, LEEF and auditd parsers set these; so does a first
        # pass of this function): a ``process.name`` there is not a syslog program tag.
        return
    if message.startswith("message repeated "):
        # rsyslog: ``message repeated 3 times: [ Failed password for root …]``
        start, end = message.find("[ "), message.rfind("]")
        if start > 0 and end > start:
            message = message[start + 2 : end]
    base, paren, module = name.partition("(")
    dataset: str | None = None
    if paren and module.startswith("pam_"):
        # Old PAM tag: ``sshd(pam_unix)[123]: authentication failure; …``
        dataset = _pam(event, module.rstrip(")"), base, "", message)
    elif message.startswith("pam_"):
        m = _PAM_PREFIX.match(message)
        if m is not None:
            dataset = _pam(event, m.group(1), m.group(2), m.group(3), message[m.end() :])
    if dataset is None:
        handler = _HANDLERS.get(base) or PROGRAMS.get(base)
        if handler is not None:
            dataset = handler(event, message)
    if dataset is not None:
        finish(event, dataset)


# --- PAM ---------------------------------------------------------------------------

_PAM_PREFIX = re.compile(r"(pam_[\w-]+)\(([^:()]*):(\w+)\): ")
_PAM_KV = re.compile(r"(\w+)=(\S*)")
_FOR_USER = re.compile(
    r"for user '?([^\s'(]+)'?(?:\(uid=([0-9]+)\))?(?: by '?([^\s'(]*)'?(?:\(uid=([0-9]+)\))?)?"
)


def _pam(event: Event, module: str, service: str, kind: str, text: str) -> str | None:
    dataset = _pam_message(event, module, kind, text)
    if dataset is not None:
        event["system.auth.pam.module"] = module
        if service:
            event["system.auth.pam.service"] = service
    return dataset


def _pam_message(event: Event, module: str, kind: str, text: str) -> str | None:
    if "authentication failure" in text:
        kv = dict(_PAM_KV.findall(text))
        mark(event, [AUTH], ["info"], "authentication_failure", "failure")
        user = kv.get("user") or kv.get("ruser") or kv.get("logname")
        if user:
            event["user.name"] = user
        if kv.get("rhost"):
            set_source(event, kv["rhost"])
        if kv.get("tty"):
            event["system.auth.pam.tty"] = kv["tty"]
        return "system.auth"
    if text.startswith("check pass; user unknown"):
        mark(event, [AUTH], ["info"], None, "failure")
        return "system.auth"
    if text.startswith(("session opened", "session closed")):
        opened = text.startswith("session opened")
        if opened:
            mark(event, [SESSION], ["start"], "logged-on", "success")
        else:
            mark(event, [SESSION], ["end"], "logged-off", None)
        m = _FOR_USER.search(text)
        if m is not None:
            target, target_uid, actor, actor_uid = m.groups()
            if actor:
                event["user.name"] = actor
                if actor_uid:
                    event["user.id"] = actor_uid
                if target != actor:
                    event["user.effective.name"] = target
            else:
                event["user.name"] = target
                if target_uid:
                    event["user.id"] = target_uid
        return "system.auth"
    if text.startswith("password changed for "):
        user = text[len("password changed for ") :].strip()
        mark(event, [IAM], ["user", "change"], "password-changed", "success")
        event["user.name"] = user
        event["user.target.name"] = user
        return "system.auth"
    if module == "pam_faillock" or "account temporarily locked" in text:
        mark(event, [AUTH], ["info"], "account-locked", "failure")
        m = _FOR_USER.search(text)
        if m is not None:
            event["user.name"] = m.group(1)
        return "system.auth"
    if kind == "chauthtok":
        mark(event, [IAM], ["user", "change"], "password-changed", "failure")
        return "system.auth"
    return None


# --- sshd --------------------------------------------------------------------------

_SSH_ATTEMPT = re.compile(
    r"(Accepted|Failed|Postponed|Partial) (\S+) for (invalid user |illegal user )?(.*?) "
    r"from (\S+) port ([0-9]+)(?: ssh[12])?(?:: (.*?))?(?: \[preauth\])?$"
)
_SSH_INVALID = re.compile(r"[Ii]nvalid user (.*?) from (\S+)(?: port ([0-9]+))?(?: \[preauth\])?$")
_SSH_DENIED = re.compile(r"User (\S+) from (\S+) not allowed because (.*)$")
_SSH_MAX_TRIES = re.compile(
    r"(?:error: )?maximum authentication attempts exceeded for (invalid user )?(.*?) "
    r"from (\S+) port ([0-9]+)"
)
_SSH_ABANDONED = re.compile(
    r"(Connection closed|Connection reset|Disconnected) (?:by|from) "
    r"(?:authenticating|invalid) user (.*?) (\S+) port ([0-9]+)(?: \[preauth\])?$"
)
_SSH_DISCONNECTING_INVALID = re.compile(r"Disconnecting invalid user (.*?) (\S+) port ([0-9]+)")
_SSH_LOGOUT = re.compile(r"Disconnected from user (.*?) (\S+) port ([0-9]+)$")
_SSH_CLOSED = re.compile(
    r"(?:Connection closed by|Connection reset by|Disconnected from|Received disconnect from) "
    r"(?:remote host )?([0-9A-Fa-f.:]+)(?: port ([0-9]+))?"
)
_SSH_PAM_ERROR = re.compile(
    r"error: PAM: (.*?) for (?:illegal user |invalid user )?(.*?) from (\S+)$"
)
_SSH_NO_ID = re.compile(r"Did not receive identification string from (\S+)(?: port ([0-9]+))?")
_SSH_REVERSE = re.compile(r"reverse mapping checking getaddrinfo for (\S+) \[(\S+)\]")
_SSH_MAPS_TO = re.compile(r"Address (\S+) maps to (\S+),")
_SSH_NEGOTIATE = re.compile(r"(?:fatal: )?Unable to negotiate with (\S+?):?(?: port ([0-9]+))?[: ]")
_SSH_BAD_VERSION = re.compile(r"Bad protocol version identification .* from (\S+) port ([0-9]+)")
_SSH_CONNECTION_FROM = re.compile(r"Connection from (\S+) port ([0-9]+)")
_SSH_PREAUTH_USER = re.compile(r"input_userauth_request: invalid user (\S+)")


def _ssh_login(event: Event, ok: bool, user: str, source: str, port: str | None) -> str:
    if ok:
        mark(event, [AUTH, SESSION], ["info"], "ssh_login", "success")
    else:
        mark(event, [AUTH], ["info"], "ssh_login", "failure")
    if user:
        event["user.name"] = user
    set_source(event, source, port)
    return "system.auth"


def _ssh_attempt(event: Event, m: re.Match[str]) -> str:
    verb, method, invalid, user, source, port, signature = m.groups()
    event["system.auth.ssh.event"] = verb
    event["system.auth.ssh.method"] = method
    if signature:
        event["system.auth.ssh.signature"] = signature
    if invalid:
        event["system.auth.ssh.invalid_user"] = True
    if verb in ("Accepted", "Failed") or invalid:
        # A postponed or partial attempt for a user that does not exist cannot succeed.
        return _ssh_login(event, verb == "Accepted", user, source, port)
    mark(event, [AUTH], ["info"], None, None)
    if user:
        event["user.name"] = user
    set_source(event, source, port)
    return "system.auth"


def _ssh_failed(label: str, user: int, source: int, port: int | None) -> SshStep:
    """A step for a failed login whose user, source and port are the given groups."""

    def step(event: Event, m: re.Match[str]) -> str:
        event["system.auth.ssh.event"] = label
        return _ssh_login(
            event,
            False,
            m.group(user),
            m.group(source),
            m.group(port) if port is not None else None,
        )

    return step


def _ssh_pam_error(event: Event, m: re.Match[str]) -> str:
    event["system.auth.ssh.event"] = "Failed"
    event["error.message"] = m.group(1)
    return _ssh_login(event, False, m.group(2), m.group(3), None)


def _ssh_logout(event: Event, m: re.Match[str]) -> str:
    mark(event, [SESSION], ["end"], "ssh_disconnect", None)
    event["user.name"] = m.group(1)
    set_source(event, m.group(2), m.group(3))
    return "system.auth"


def _ssh_closed(event: Event, m: re.Match[str]) -> str:
    mark(event, [NETWORK], ["end"], "ssh_disconnect", None)
    set_source(event, m.group(1), m.group(2))
    return "system.auth"


def _ssh_no_id(event: Event, m: re.Match[str]) -> str:
    event["system.auth.ssh.dropped_ip"] = m.group(1)
    mark(event, [NETWORK], ["info"], None, None)
    set_source(event, m.group(1), m.group(2))
    return "system.auth"


def _ssh_peer(address: int, port: int | None, domain: int | None) -> SshStep:
    """A step that only records the peer (``source.*``) of a connection-level message."""

    def step(event: Event, m: re.Match[str]) -> str:
        if domain is not None:
            event["source.domain"] = m.group(domain)
        set_source(event, m.group(address), m.group(port) if port is not None else None)
        return "system.auth"

    return step


def _ssh_connection_from(event: Event, m: re.Match[str]) -> str:
    mark(event, [NETWORK], ["start"], None, None)
    set_source(event, m.group(1), m.group(2))
    return "system.auth"


def _ssh_preauth_user(event: Event, m: re.Match[str]) -> str:
    # Repeats the ``Invalid user`` line before it: the user only, so failures count once.
    event["user.name"] = m.group(1)
    return "system.auth"


SshStep = Callable[[Event, re.Match[str]], str]


def _ssh_abandoned(event: Event, m: re.Match[str]) -> str:
    # The client gave up while authenticating: key-spraying tools leave only this line.
    event["system.auth.ssh.event"] = m.group(1)
    return _ssh_login(event, False, m.group(2), m.group(3), m.group(4))


_ABANDONED = (_SSH_ABANDONED, _ssh_abandoned)
_CLOSED = (_SSH_CLOSED, _ssh_closed)

# First word of the message → the patterns that may match, tried in order. A dict
# lookup first keeps a line from being tried against every sshd pattern.
_SSH_STEPS: dict[str, tuple[tuple[re.Pattern[str], SshStep], ...]] = {
    "Accepted": ((_SSH_ATTEMPT, _ssh_attempt),),
    "Failed": ((_SSH_ATTEMPT, _ssh_attempt),),
    "Postponed": ((_SSH_ATTEMPT, _ssh_attempt),),
    "Partial": ((_SSH_ATTEMPT, _ssh_attempt),),
    "Invalid": ((_SSH_INVALID, _ssh_failed("Invalid", 1, 2, 3)),),
    "invalid": ((_SSH_INVALID, _ssh_failed("Invalid", 1, 2, 3)),),
    "User": ((_SSH_DENIED, _ssh_failed("Denied", 1, 2, None)),),
    "error:": (
        (_SSH_MAX_TRIES, _ssh_failed("Failed", 2, 3, 4)),
        (_SSH_PAM_ERROR, _ssh_pam_error),
    ),
    "maximum": ((_SSH_MAX_TRIES, _ssh_failed("Failed", 2, 3, 4)),),
    "Connection": (
        _ABANDONED,
        (_SSH_CONNECTION_FROM, _ssh_connection_from),
        _CLOSED,
    ),
    "Disconnected": (_ABANDONED, (_SSH_LOGOUT, _ssh_logout), _CLOSED),
    "Disconnecting": ((_SSH_DISCONNECTING_INVALID, _ssh_failed("Invalid", 1, 2, 3)),),
    "Received": (_CLOSED,),
    "Did": ((_SSH_NO_ID, _ssh_no_id),),
    "reverse": ((_SSH_REVERSE, _ssh_peer(2, None, 1)),),
    "Address": ((_SSH_MAPS_TO, _ssh_peer(1, None, 2)),),
    "fatal:": ((_SSH_NEGOTIATE, _ssh_peer(1, 2, None)),),
    "Unable": ((_SSH_NEGOTIATE, _ssh_peer(1, 2, None)),),
    "Bad": ((_SSH_BAD_VERSION, _ssh_peer(1, 2, None)),),
    "input_userauth_request:": ((_SSH_PREAUTH_USER, _ssh_preauth_user),),
}


def _sshd(event: Event, text: str) -> str | None:
    space = text.find(" ")
    for pattern, step in _SSH_STEPS.get(text[:space] if space > 0 else text, ()):
        m = pattern.match(text)
        if m is not None:
            return step(event, m)
    return None


# --- sudo, su, login ---------------------------------------------------------------

_SUDO_KEYS = frozenset(("TTY", "PWD", "USER", "GROUP", "ENV", "TSID", "CHROOT", "CWD"))


def _sudo(event: Event, text: str) -> str | None:
    # ``alice : [error ; ]TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id``
    user, sep, rest = text.strip().partition(" : ")
    at = rest.find("COMMAND=")
    if not sep or at < 0 or " " in user:
        return None
    details: dict[str, str] = {}
    errors: list[str] = []
    for item in rest[:at].split(" ; "):
        key, eq, value = item.strip().partition("=")
        if eq and key in _SUDO_KEYS:
            details[key] = value
        elif item.strip():
            errors.append(item.strip())
    command = rest[at + len("COMMAND=") :]
    event["user.name"] = user
    event["system.auth.sudo.command"] = command
    for key, field in (("TTY", "tty"), ("PWD", "pwd"), ("USER", "user"), ("GROUP", "group")):
        if key in details:
            event[f"system.auth.sudo.{field}"] = details[key]
    if "USER" in details:
        event["user.effective.name"] = details["USER"]
    if "PWD" in details:
        event["process.working_directory"] = details["PWD"]
    if command:
        event["process.command_line"] = command
        event["process.executable"] = command.split(" ", 1)[0]
    if errors:
        error = " ; ".join(errors)
        event["system.auth.sudo.error"] = error
        categories = [PROCESS, AUTH] if "password" in error else [PROCESS]
        mark(event, categories, ["info"], "sudo", "failure")
    else:
        mark(event, [PROCESS], ["start"], "sudo", "success")
    return "system.auth"


_SU_DEBIAN = re.compile(r"(FAILED SU )?\(to (\S+)\) (\S+) on (\S+)$")
_SU_OLD = re.compile(r"(Successful|FAILED) su for (\S+) by (\S+)$")
_SU_SULOG = re.compile(r"([+-]) (\S+) ([^\s:]+)[:-](\S+)$")


def _su(event: Event, text: str) -> str | None:
    # Debian ``(to root) alice on pts/0`` / ``FAILED SU (to root) alice on pts/0``,
    # older ``Successful su for root by alice`` and sulog-style ``+ pts/0 alice:root``.
    m = _SU_DEBIAN.match(text)
    if m is not None:
        failed, target, actor, tty = m.group(1) is not None, m.group(2), m.group(3), m.group(4)
    elif (m := _SU_OLD.match(text)) is not None:
        failed, target, actor, tty = m.group(1) == "FAILED", m.group(2), m.group(3), None
    elif (m := _SU_SULOG.match(text)) is not None:
        failed, tty, actor, target = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
    elif text.startswith("pam_authenticate: Authentication failure"):
        mark(event, [AUTH], ["start"], "su", "failure")
        return "system.auth"
    else:
        return None
    event["user.name"] = actor
    event["user.effective.name"] = target
    if tty:
        event["system.auth.su.tty"] = tty
    if failed:
        mark(event, [AUTH], ["start"], "su", "failure")
    else:
        mark(event, [AUTH, SESSION], ["start"], "su", "success")
    return "system.auth"


_LOGIN_OK = re.compile(r"(?:ROOT LOGIN|LOGIN) ON (\S+)(?: BY (\S+))?(?: FROM (\S+))?$")
_LOGIN_FAILED = re.compile(
    r"FAILED LOGIN \(?([0-9]+)\)? (?:(?:ON|on) '?([^\s']+)'? )?(?:FROM '?([^\s']+)'? )?"
    r"FOR '?([^\s',]+)'?,? ?(.*)$"
)


def _login(event: Event, text: str) -> str | None:
    m = _LOGIN_OK.match(text)
    if m is not None:
        mark(event, [AUTH, SESSION], ["start"], "login", "success")
        event["user.name"] = m.group(2) or "root"
        if m.group(3):
            set_source(event, m.group(3))
        return "system.auth"
    m = _LOGIN_FAILED.match(text)
    if m is not None:
        mark(event, [AUTH], ["start"], "login", "failure")
        if m.group(4) and m.group(4) != "UNKNOWN":
            event["user.name"] = m.group(4)
        if m.group(3) and m.group(3) != "(null)":
            set_source(event, m.group(3))
        if m.group(5):
            event["event.reason"] = m.group(5)
        return "system.auth"
    return None


_CHKPWD = re.compile(r"password check failed for user \(?([^\s)]+)\)?")


def _unix_chkpwd(event: Event, text: str) -> str | None:
    m = _CHKPWD.match(text)
    if m is None:
        return None
    mark(event, [AUTH], ["info"], "authentication_failure", "failure")
    event["user.name"] = m.group(1)
    return "system.auth"


_HANDLERS = {
    "sshd": _sshd,
    "sshd-session": _sshd,
    "sshd-auth": _sshd,
    "sudo": _sudo,
    "su": _su,
    "su-l": _su,
    "login": _login,
    "unix_chkpwd": _unix_chkpwd,
}
