"""Linux audit records as auditd writes them (``/var/log/audit/audit.log``).

    [node=N ]type=USER_LOGIN msg=audit(1364481363.243:24287): pid=1 uid=0 … msg='op=login
        acct="root" exe="/usr/sbin/sshd" hostname=? addr=1.2.3.4 terminal=ssh res=failed'

Every key is kept as ``auditd.log.<key>`` (keys of the inner ``msg='…'`` too, as the
Elastic auditd integration does), with ``auditd.log.record_type``,
``auditd.log.sequence`` and ``auditd.log.node``. Values auditd hex-encodes (unquoted
all-hex ``proctitle``, ``cmd``, ``acct``, ``exe``, ``name`` …) are decoded; NULs in
``proctitle`` become spaces. Enriched logs (``log_format = ENRICHED``: ``UID="alice"``
after a GS character) are read too. Several records of one event on one line (as
Wazuh prints them) are merged: the first record's keys win, PATH records go to
``auditd.log.path.<n>.<key>``.

ECS follows Elastic's record-type table (go-libaudit): ``event.action``
(``logged-in``, ``ran-command``, ``executed``, ``deleted`` …), ``event.category`` /
``event.type``, ``event.outcome`` from ``res`` (and from ``success`` of SYSCALL
records, which Elastic leaves out), ``user.name`` (``acct``, or the enriched ``UID``
name), ``user.id``, ``user.audit.id``, ``source.ip`` (``addr``), ``process.*``,
``host.name`` (``node``). ``event.action`` is one string (Elastic writes a list).
"""

from __future__ import annotations

import ipaddress
import re

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.rfc3164 import Rfc3164Parser
from heron.parsers.syslog_time import NS_PER_S, fraction_ns

__all__ = ["AuditdParser"]

_RECORD = re.compile(
    r"(?:^|(?<=\s))(?:node=(\S+) )?type=([A-Za-z0-9_]+) "
    r"msg=audit\(([0-9]+)(?:\.([0-9]+))?:([0-9]+)\):"
)
_KV = re.compile(r"""([A-Za-z_][A-Za-z0-9_\-]*(?:\[[0-9]+\])?)=("[^"]*"?|'[^']*'?|\S*)""")
_AVC = re.compile(r"avc:\s+(\w+)\s+\{\s*([^}]*?)\s*\}")
# Keys whose values auditd may print hex-encoded (go-libaudit's list, plus ``key``).
_HEX_KEYS = frozenset(
    [
        *("acct", "apparmor", "cgroup", "cmd", "comm", "cwd", "data", "denied_mask"),
        *("device", "dir", "exe", "file", "grp", "info", "invalid_context", "key", "name"),
        *("new-chardev", "new-disk", "new-fs", "new-net", "new-rng", "new_group", "ocomm"),
        *("old-chardev", "old-disk", "old-fs", "old-net", "old-rng", "operation", "path"),
        *("proctitle", "profile", "requested_mask", "root_dir", "sw", "vm", "watch"),
    ]
)
_UNSET_IDS = frozenset(("4294967295", "-1", "?", "(none)", "unset"))

_AUTH, _IAM, _PROC, _SESSION, _FILE = "authentication", "iam", "process", "session", "file"
_NET, _CONF, _HOST, _DRIVER = "network", "configuration", "host", "driver"

# record type → (event.action, event.category, event.type), after go-libaudit's table.
_TYPES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "ACCT_LOCK": ("locked-account", (_IAM,), ("user", "info")),
    "ACCT_UNLOCK": ("unlocked-account", (_IAM,), ("user", "info")),
    "ADD_GROUP": ("added-group-account-to", (_IAM,), ("group", "creation")),
    "ADD_USER": ("added-user-account", (_IAM,), ("user", "creation")),
    "ANOM_ABEND": ("crashed-program", (_PROC,), ("end",)),
    "ANOM_EXEC": ("attempted-execution-of-forbidden-program", (_PROC,), ("start",)),
    "ANOM_LOGIN_FAILURES": ("failed-log-in-too-many-times-to", (_AUTH,), ("info",)),
    "ANOM_LOGIN_LOCATION": ("attempted-log-in-from-unusual-place-to", (_AUTH,), ("info",)),
    "ANOM_LOGIN_SESSIONS": ("opened-too-many-sessions-to", (_SESSION,), ("info",)),
    "ANOM_LOGIN_TIME": ("attempted-log-in-during-unusual-hour-to", (_AUTH,), ("info",)),
    "ANOM_PROMISCUOUS": ("changed-promiscuous-mode-on-device", (), ()),
    "AVC": ("violated-selinux-policy", (), ()),
    "CHGRP_ID": ("changed-group", (_PROC,), ("change",)),
    "CHUSER_ID": ("changed-user-id", (_PROC,), ("change",)),
    "CONFIG_CHANGE": ("changed-audit-configuration", (_PROC, _CONF), ("change",)),
    "CRED_ACQ": ("acquired-credentials", (_AUTH,), ("info",)),
    "CRED_DISP": ("disposed-credentials", (_AUTH,), ("info",)),
    "CRED_REFR": ("refreshed-credentials", (_AUTH,), ("info",)),
    "DAEMON_ABORT": ("aborted-auditd-startup", (_PROC,), ("end",)),
    "DAEMON_CONFIG": ("changed-auditd-configuration", (_PROC, _CONF), ("change",)),
    "DAEMON_END": ("shutdown-audit", (_PROC,), ("end",)),
    "DAEMON_RESUME": ("resumed-audit-logging", (_PROC,), ("change",)),
    "DAEMON_ROTATE": ("rotated-audit-logs", (_PROC,), ("change",)),
    "DAEMON_START": ("started-audit", (_PROC,), ("start",)),
    "DEL_GROUP": ("deleted-group-account-from", (_IAM,), ("group", "deletion")),
    "DEL_USER": ("deleted-user-account", (_IAM,), ("user", "deletion")),
    "EXECVE": ("execve", (_PROC,), ("start",)),
    "GRP_CHAUTHTOK": ("changed-group-password", (_IAM,), ("group", "change")),
    "GRP_MGMT": ("modified-group-account", (_IAM,), ("group", "change")),
    "KERN_MODULE": ("loaded-kernel-module", (_DRIVER,), ("start",)),
    "LOGIN": ("changed-login-id-to", (_AUTH,), ("start",)),
    "MAC_STATUS": ("changed-selinux-enforcement", (_CONF,), ("change",)),
    "NETFILTER_CFG": ("loaded-firewall-rule-to", (_CONF,), ("change",)),
    "SELINUX_ERR": ("caused-mac-policy-error", (), ()),
    "SERVICE_START": ("started-service", (_PROC,), ("start",)),
    "SERVICE_STOP": ("stopped-service", (_PROC,), ("end",)),
    "SOFTWARE_UPDATE": ("package-updated", ("package",), ("info",)),
    "SYSTEM_BOOT": ("booted-system", (_HOST,), ("start",)),
    "SYSTEM_SHUTDOWN": ("shutdown-system", (_HOST,), ("end",)),
    "USER_ACCT": ("was-authorized", (_AUTH,), ("info",)),
    "USER_AUTH": ("authenticated", (_AUTH,), ("info",)),
    "USER_CHAUTHTOK": ("changed-password", (_IAM,), ("user", "change")),
    "USER_CMD": ("ran-command", (_PROC,), ("start",)),
    "USER_END": ("ended-session", (_SESSION,), ("end",)),
    "USER_ERR": ("error", (_AUTH,), ("info",)),
    "USER_LOGIN": ("logged-in", (_AUTH,), ("start",)),
    "USER_LOGOUT": ("logged-out", (_AUTH,), ("end",)),
    "USER_MGMT": ("modified-user-account", (_IAM,), ("user", "change")),
    "USER_START": ("started-session", (_SESSION,), ("start",)),
    "USER_TTY": ("typed", (), ()),
    "TTY": ("typed", (), ()),
}

# x86_64 syscall numbers auditd rules commonly watch, for logs without enriched names.
_X86_64 = {
    "2": "open", "42": "connect", "43": "accept", "49": "bind", "50": "listen",
    "59": "execve", "62": "kill", "82": "rename", "83": "mkdir", "84": "rmdir",
    "85": "creat", "87": "unlink", "88": "symlink", "90": "chmod", "91": "fchmod",
    "92": "chown", "93": "fchown", "94": "lchown", "101": "ptrace", "105": "setuid",
    "106": "setgid", "165": "mount", "166": "umount2", "175": "init_module",
    "176": "delete_module", "257": "openat", "258": "mkdirat", "260": "fchownat",
    "263": "unlinkat", "264": "renameat", "266": "symlinkat", "268": "fchmodat",
    "288": "accept4", "313": "finit_module", "316": "renameat2", "322": "execveat",
}  # fmt: skip

# syscall name → (event.action, event.category, event.type), after go-libaudit's table.
_SYSCALLS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "accept": ("accepted-connection-from", (_NET,), ("connection", "start")),
    "accept4": ("accepted-connection-from", (_NET,), ("connection", "start")),
    "bind": ("bound-socket", (_NET,), ("start",)),
    "connect": ("connected-to", (_NET,), ("connection", "start")),
    "listen": ("listen-for-connections", (_NET,), ("start",)),
    "execve": ("executed", (_PROC,), ("start",)),
    "execveat": ("executed", (_PROC,), ("start",)),
    "kill": ("killed-pid", (_PROC,), ("end",)),
    "ptrace": ("traced", (_PROC,), ("access",)),
    "open": ("opened-file", (_FILE,), ("info",)),
    "openat": ("opened-file", (_FILE,), ("info",)),
    "creat": ("opened-file", (_FILE,), ("creation",)),
    "rename": ("renamed", (_FILE,), ("change",)),
    "renameat": ("renamed", (_FILE,), ("change",)),
    "renameat2": ("renamed", (_FILE,), ("change",)),
    "mkdir": ("created-directory", (_FILE,), ("creation",)),
    "mkdirat": ("created-directory", (_FILE,), ("creation",)),
    "rmdir": ("deleted", (_FILE,), ("deletion",)),
    "unlink": ("deleted", (_FILE,), ("deletion",)),
    "unlinkat": ("deleted", (_FILE,), ("deletion",)),
    "symlink": ("symlinked", (_FILE,), ("creation",)),
    "symlinkat": ("symlinked", (_FILE,), ("creation",)),
    "chmod": ("changed-file-permissions-of", (_FILE,), ("change",)),
    "fchmod": ("changed-file-permissions-of", (_FILE,), ("change",)),
    "fchmodat": ("changed-file-permissions-of", (_FILE,), ("change",)),
    "chown": ("changed-file-ownership-of", (_FILE,), ("change",)),
    "fchown": ("changed-file-ownership-of", (_FILE,), ("change",)),
    "fchownat": ("changed-file-ownership-of", (_FILE,), ("change",)),
    "lchown": ("changed-file-ownership-of", (_FILE,), ("change",)),
    "setuid": ("changed-identity-of", (_PROC,), ("change",)),
    "setgid": ("changed-identity-of", (_PROC,), ("change",)),
    "mount": ("mounted", (_FILE,), ("creation",)),
    "umount2": ("unmounted", (_FILE,), ("deletion",)),
    "init_module": ("loaded-kernel-module", (_DRIVER,), ("start",)),
    "finit_module": ("loaded-kernel-module", (_DRIVER,), ("start",)),
    "delete_module": ("unloaded-kernel-module", (_DRIVER,), ("end",)),
}


def _decode_hex(value: str) -> str | None:
    """The text of an auditd hex-encoded value, or None when ``value`` is not hex."""
    if len(value) < 2 or len(value) % 2 or not all(c in "0123456789ABCDEFabcdef" for c in value):
        return None
    text = bytes.fromhex(value).decode("utf-8", errors="backslashreplace")
    return text.replace("\x00", " ").replace("\x01", ",").rstrip(" ")


def _kv(text: str, out: dict[str, str], sink: Event, *, execve: bool = False) -> None:
    """Key/value pairs of ``text`` into ``out`` (first wins); an inner ``msg='…'`` is recursed.

    In EXECVE records an unquoted argument (``a1=2D6C``) is always hex; elsewhere ``aN``
    are raw syscall arguments and stay as written.
    """
    for m in _KV.finditer(text):
        key, value = m.group(1), m.group(2)
        quote = value[:1]
        if quote in ("'", '"'):
            inner = value[1:-1] if len(value) > 1 and value.endswith(quote) else value[1:]
            if quote == "'" and key == "msg":
                if "=" in inner:
                    _kv(inner, out, sink)
                else:
                    sink["message"] = inner
                continue
            value = inner
        else:
            if value.endswith((",", ")")) and "(" not in value:
                value = value.rstrip(",)")  # ``(hostname=?, addr=?, terminal=pts/0 res=failed)``
            if key in _HEX_KEYS or (execve and key[:1] == "a" and key[1:2].isdigit()):
                decoded = _decode_hex(value)
                if decoded is not None:
                    value = decoded
        out.setdefault(key, value)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    v = value[1:] if value.startswith("-") else value
    if v.isascii() and v.isdigit() and 0 < len(v) < 19:
        return int(value)
    return None


class AuditdParser:
    """auditd log lines → flat events (see the module docstring)."""

    name = "auditd"

    def __init__(self) -> None:
        self._syslog = Rfc3164Parser()

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        records = list(_RECORD.finditer(line))
        if not records:
            if "type=" in line and "msg=audit(" not in line:
                raise ParseError("auditd line without msg=audit(...) header", parser=self.name)
            raise ParseError("not an auditd record (no 'type=… msg=audit(…):')", parser=self.name)
        event: Event = {}
        first = records[0]
        if first.start() > 0:
            self._prefix(line[: first.start()], event, ctx)
        node, record_type, seconds, millis, sequence = first.groups()
        event["@timestamp"] = int(seconds) * NS_PER_S + fraction_ns(millis or "")
        event["auditd.log.record_type"] = record_type
        event["auditd.log.sequence"] = int(sequence)
        if node:
            event["auditd.log.node"] = node
        fields: dict[str, str] = {}
        body_end = records[1].start() if len(records) > 1 else len(line)
        body = line[first.end() : body_end]
        avc = _AVC.search(body) if record_type in ("AVC", "USER_AVC") else None
        if avc is not None:
            fields["avc.action"], fields["avc.request"] = avc.group(1), avc.group(2)
        _kv(body, fields, event, execve=record_type == "EXECVE")
        for key, value in fields.items():
            event[f"auditd.log.{key}"] = value
        if len(records) > 1:
            self._more_records(line, records, fields, event)
        _map(record_type, fields, event)
        return event

    def _prefix(self, prefix: str, event: Event, ctx: ParseContext) -> None:
        # ``Jan  1 00:00:00 host audispd: node=… type=…``: take the host from the syslog header.
        try:
            header = self._syslog.parse(prefix.rstrip(), ctx)
        except ParseError:
            return
        host = header.get("host.name")
        if isinstance(host, str):
            event["host.name"] = host

    def _more_records(
        self, line: str, records: list[re.Match[str]], fields: dict[str, str], event: Event
    ) -> None:
        types = [records[0].group(2)]
        path_index = 0
        for i, record in enumerate(records[1:], start=1):
            end = records[i + 1].start() if i + 1 < len(records) else len(line)
            record_type = record.group(2)
            types.append(record_type)
            extra: dict[str, str] = {}
            _kv(line[record.end() : end], extra, event, execve=record_type == "EXECVE")
            if record_type == "PATH":
                item = extra.get("item", str(path_index))
                path_index += 1
                for key, value in extra.items():
                    event[f"auditd.log.path.{item}.{key}"] = value
                if extra.get("nametype") in ("CREATE", "DELETE", "NORMAL") and "name" in extra:
                    fields["_path"] = extra["name"]
                continue
            for key, value in extra.items():
                if key not in fields:
                    fields[key] = value
                    event[f"auditd.log.{key}"] = value
        event["auditd.log.records"] = types


def _map(record_type: str, fields: dict[str, str], event: Event) -> None:
    """The ECS fields of one audit event from its raw fields."""
    event["event.kind"] = "event"
    event["event.module"] = "auditd"
    event["event.dataset"] = "auditd.log"
    spec = _TYPES.get(record_type)
    if spec is None and record_type == "SYSCALL":
        name = fields.get("SYSCALL") or fields.get("syscall", "")
        if fields.get("arch") == "c000003e" or fields.get("ARCH") == "x86_64":
            name = _X86_64.get(name, name)
        spec = _SYSCALLS.get(name, ("", (_PROC,), ("info",)))
        if name and not name.isdigit():
            event["auditd.log.syscall_name"] = name
    if spec is not None:
        action, categories, types = spec
        if action:
            event["event.action"] = action
        if categories:
            event["event.category"] = list(categories)
            event["event.type"] = list(types)
    if "event.action" not in event:
        event["event.action"] = record_type.lower()
    res = fields.get("res") or fields.get("result")
    if res is not None:
        event["event.outcome"] = {"success": "success", "1": "success", "yes": "success"}.get(
            res, "failure" if res in ("failed", "0", "no", "failure") else "unknown"
        )
    elif "success" in fields:
        event["event.outcome"] = "success" if fields["success"] == "yes" else "failure"
    _identity(fields, event)
    _process(fields, event)
    if fields.get("arch") == "c000003e" or fields.get("ARCH") == "x86_64":
        event["host.architecture"] = "x86_64"
    node = fields.get("node") or event.get("auditd.log.node")
    if isinstance(node, str) and node:
        event["host.name"] = node
    addr = fields.get("addr") or fields.get("saddr_ip")
    if addr and _is_ip(addr):
        event["source.ip"] = addr
        event["related.ip"] = [addr]
    terminal = fields.get("terminal")
    if terminal and terminal != "?":
        event["user.terminal"] = terminal
    if "_path" in fields:
        event["file.path"] = fields["_path"]


def _identity(fields: dict[str, str], event: Event) -> None:
    acct = fields.get("acct")
    name = acct if acct and acct not in ("?", "(unknown)") else fields.get("UID")
    if name:
        event["user.name"] = name
    for key, target in (
        ("uid", "user.id"),
        ("auid", "user.audit.id"),
        ("euid", "user.effective.id"),
        ("gid", "user.group.id"),
    ):
        value = fields.get(key)
        if value is not None and value not in _UNSET_IDS:
            event[target] = value
    for key, target in (("AUID", "user.audit.name"), ("EUID", "user.effective.name")):
        value = fields.get(key)
        if value and value not in ("unset", "?"):
            event[target] = value
    if event.get("event.category") == [_IAM]:
        # Account management: ``acct``/``id`` name the account acted on.
        record_id = fields.get("id")
        if record_id and record_id.isdigit():
            event["user.target.id"] = record_id
        if acct and acct not in ("?", "(unknown)"):
            event["user.target.name"] = acct
    users = [
        event[k] for k in ("user.name", "user.effective.name", "user.audit.name") if k in event
    ]
    if users:
        event["related.user"] = list(dict.fromkeys(users))


def _process(fields: dict[str, str], event: Event) -> None:
    pid, ppid, exit_code = (
        _int(fields.get("pid")),
        _int(fields.get("ppid")),
        _int(fields.get("exit")),
    )
    if pid is not None:
        event["process.pid"] = pid
    if ppid is not None:
        event["process.parent.pid"] = ppid
    if exit_code is not None:
        event["process.exit_code"] = exit_code
    exe = fields.get("exe")
    if exe and exe not in ("?", "(null)"):
        event["process.executable"] = exe
    comm = fields.get("comm")
    if comm and comm not in ("?", "(null)"):
        event["process.name"] = comm
    cwd = fields.get("cwd")
    if cwd:
        event["process.working_directory"] = cwd
    args = _execve_args(fields)
    if args:
        event["process.args"] = args
        event["process.command_line"] = " ".join(args)
    elif fields.get("cmd"):
        event["process.command_line"] = fields["cmd"]
    elif fields.get("proctitle"):
        event["process.command_line"] = fields["proctitle"]
    if fields.get("proctitle"):
        event["process.title"] = fields["proctitle"]


def _execve_args(fields: dict[str, str]) -> list[str]:
    argc = _int(fields.get("argc"))
    if argc is None or "a0" not in fields:
        return []
    args: list[str] = []
    for i in range(min(argc, 1024)):
        value = fields.get(f"a{i}")
        if value is None:
            break
        args.append(value)
    return args
