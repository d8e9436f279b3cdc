"""Cisco ASA / FTD syslog messages (``%ASA-6-302013: Built outbound TCP connection …``).

The ``%ASA-<severity>-<id>`` tag gives ``cisco.asa.message_id`` (= ``event.code``) and
the severity digit (``log.level``, ``event.severity``). Messages security work relies on
are read field by field (connections built and torn down, ACL denies, AAA and login
results, VPN sessions, NAT, threat detection); any other message keeps its text and,
when it names them, the first source and destination endpoints.

Endpoint tokens are ``interface:address/port`` (IPv6 included: the interface never
holds a colon), ``address/port``, or ``interface/address(port)`` in ACL messages. For
``Built outbound`` connections ASA writes the responder first ("for outside:X to
inside:Y"), so source and destination are swapped to name the initiator as source.
"""

from __future__ import annotations

from collections.abc import Callable

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.envelope import unwrap
from heron.parsers.fields import as_int, is_ip, put, transport
from heron.parsers.json import coerce_core_fields
from heron.parsers.syslog_time import MONTHS, TimeFieldError, civil_to_ns

__all__ = ["CiscoAsaParser", "parse_endpoint"]

_TAGS = ("%ASA-", "%FTD-", "%FWSM-", "%PIX-")
Handler = Callable[[list[str], str, Event], None]


def parse_endpoint(token: str) -> tuple[str | None, str, int | None]:
    """``outside:10.1.1.1/80`` → (interface, address, port); also ``if/addr(port)``."""
    token = token.strip().rstrip(",;")
    if token.endswith(")") and "(" in token:  # ACL form: outside/10.1.1.1(443)
        body, _, port_text = token[:-1].rpartition("(")
        iface, slash, address = body.partition("/")
        if slash:
            return iface or None, address, as_int(port_text)
    body, slash, port_text = token.rpartition("/")
    if not slash:
        body, port_text = token, ""
    port = as_int(port_text)
    if port is None and port_text:
        # ``/ssh``, ``/https``: a service name, or a netmask-less token without a port.
        body = body if port_text.isalpha() else token
    if is_ip(body):
        return None, body, port
    iface, colon, address = body.partition(":")
    if colon:
        return iface, address, port
    return None, body, port


def _endpoint(event: Event, side: str, token: str) -> None:
    iface, address, port = parse_endpoint(token)
    if is_ip(address):
        event[f"{side}.ip"] = address
    elif address:
        event[f"{side}.address"] = address
    if port is not None:
        event[f"{side}.port"] = port
    if iface:
        name = "ingress" if side == "source" else "egress"
        event[f"observer.{name}.interface.name"] = iface


def _after(words: list[str], key: str) -> str | None:
    try:
        return words[words.index(key) + 1]
    except (ValueError, IndexError):
        return None


def _value_after(text: str, label: str) -> str | None:
    """``label = value`` or ``label: value`` in ``text`` (case-insensitive), up to , or :."""
    low = text.lower()
    at = low.find(label.lower())
    if at < 0:
        return None
    rest = text[at + len(label) :].lstrip(" =:")
    end = len(rest)
    for stop in (",", " :", ": ", ";"):
        pos = rest.find(stop)
        if 0 <= pos < end:
            end = pos
    value = rest[:end].strip().strip("'\"")
    return value or None


def _built_or_teardown(words: list[str], text: str, event: Event) -> None:
    # Built {inbound|outbound} TCP connection N for A to B … / Teardown TCP connection N for A to B
    proto = words[2] if words[0] == "Built" else words[1]
    event["network.transport"] = proto.lower()
    first, second = _after(words, "for"), _after(words, "to")
    if first is None or second is None:
        return
    direction = words[1] if words[0] == "Built" else None
    if direction == "outbound":
        first, second = second, first
    if direction in ("inbound", "outbound"):
        event["network.direction"] = direction
    _endpoint(event, "source", first)
    _endpoint(event, "destination", second)
    _mapped(event, words, first, "source")
    _mapped(event, words, second, "destination")
    connection = _after(words, "connection")
    put(event, "cisco.asa.connection_id", connection)
    if words[0] == "Built":
        event["event.action"] = "connection-built"
        event["event.type"] = ["connection", "start"]
    else:
        event["event.action"] = "connection-teardown"
        event["event.type"] = ["connection", "end"]
        duration = _after(words, "duration")
        if duration is not None and duration.count(":") == 2:
            h, m, s = (as_int(x) for x in duration.split(":"))
            if h is not None and m is not None and s is not None:
                event["event.duration"] = (h * 3600 + m * 60 + s) * 1_000_000_000
        byte_count = as_int(_after(words, "bytes"))
        if byte_count is not None:
            event["network.bytes"] = byte_count
        reason = text.partition(" bytes ")[2].partition(" ")[2]
        put(event, "event.reason", reason.strip() or None)
    event["event.outcome"] = "success"
    event["event.category"] = ["network"]


def _mapped(event: Event, words: list[str], token: str, side: str) -> None:
    """The ``(mapped-address/port)`` after an endpoint, as ``*.nat.*`` when it differs."""
    following = _after(words, token)
    if following is None or not (following.startswith("(") and following.endswith(")")):
        return
    _, address, port = parse_endpoint(following[1:-1])
    if is_ip(address) and address != event.get(f"{side}.ip"):
        event[f"{side}.nat.ip"] = address
        if port is not None:
            event[f"{side}.nat.port"] = port


def _deny(words: list[str], text: str, event: Event) -> None:
    # 106023: Deny tcp src IF:A/P dst IF:B/P by access-group "ACL" [..]  (106010/106014 alike)
    # 106006/106015/106001: Deny inbound UDP from A/P to B/P ... / Inbound TCP connection denied
    src, dst = _after(words, "src"), _after(words, "dst")
    if src is None:
        src, dst = _after(words, "from"), _after(words, "to")
    proto = words[1]  # Deny <proto> … / Inbound <proto> connection denied …
    if proto in ("inbound", "outbound"):
        event["network.direction"] = proto
        proto = words[2]
    if proto.lower() == "protocol":  # Deny inbound protocol 47 src ...
        proto = _after(words, proto) or ""
    put(event, "network.transport", transport(proto))
    if src is not None:
        _endpoint(event, "source", src)
    if dst is not None:
        _endpoint(event, "destination", dst)
    group = text.partition('access-group "')[2].partition('"')[0]
    put(event, "rule.name", group or None)
    event["event.action"] = "deny"
    event["event.outcome"] = "failure"
    event["event.type"] = ["connection", "denied"]
    event["event.category"] = ["network"]


def _acl(words: list[str], text: str, event: Event) -> None:
    # access-list ACL {permitted|denied|est-allowed} tcp IF/A(P) -> IF/B(P) hit-cnt N ...
    if len(words) < 6 or words[0] != "access-list":
        return
    event["rule.name"] = words[1]
    verdict = words[2]
    event["network.transport"] = words[3].lower()
    _endpoint(event, "source", words[4])
    if words[5] == "->" and len(words) > 6:
        _endpoint(event, "destination", words[6])
    allowed = verdict in ("permitted", "est-allowed")
    event["event.action"] = "permit" if allowed else "deny"
    event["event.outcome"] = "success" if allowed else "failure"
    event["event.type"] = ["connection", "allowed" if allowed else "denied"]
    event["event.category"] = ["network"]
    put(event, "cisco.asa.hit_count", as_int(_after(words, "hit-cnt")))


def _aaa(words: list[str], text: str, event: Event, success: bool) -> None:
    event["event.action"] = "aaa-authentication"
    event["event.outcome"] = "success" if success else "failure"
    event["event.category"] = ["authentication"]
    event["event.type"] = ["start" if success else "info"]
    put(event, "user.name", _value_after(text, "user ="))
    put(event, "cisco.asa.aaa_server", _value_after(text, "server ="))
    put(event, "event.reason", _value_after(text, "reason ="))
    client = _value_after(text, "user IP =")
    if client and is_ip(client):
        event["source.ip"] = client


def _login(words: list[str], text: str, event: Event, success: bool) -> None:
    # Login {permitted|denied} from A/P to IF:B/service for user "name"
    if (src := _after(words, "from")) is not None:
        _endpoint(event, "source", src)
    if (dst := _after(words, "to")) is not None:
        _endpoint(event, "destination", dst)
        service = dst.rpartition("/")[2]
        if service.isalpha():
            event["network.protocol"] = service.lower()
    user = text.partition('for user "')[2].partition('"')[0]
    put(event, "user.name", user or None)
    event["event.action"] = "login"
    event["event.outcome"] = "success" if success else "failure"
    event["event.category"] = ["authentication"]
    event["event.type"] = ["start" if success else "info"]


def _user_auth(words: list[str], text: str, event: Event, success: bool) -> None:
    # User authentication {succeeded|failed}: IP address: A, Uname: name
    address = _value_after(text, "IP address:")
    if address and is_ip(address):
        event["source.ip"] = address
    put(event, "user.name", _value_after(text, "Uname:"))
    event["event.action"] = "user-authentication"
    event["event.outcome"] = "success" if success else "failure"
    event["event.category"] = ["authentication"]


def _vpn(words: list[str], text: str, event: Event) -> None:
    # 716001: Group <g> User <u> IP <ip> WebVPN session started.
    # 722051: Group <g> User <u> IP <ip> IPv4 Address <a> IPv6 address <b> assigned to session
    group, user, address = (_bracketed(text, key) for key in ("Group", "User", "IP"))
    put(event, "group.name", group)
    put(event, "user.name", user)
    if address and is_ip(address):
        event["source.ip"] = address
    assigned = _bracketed(text, "IPv4 Address")
    if assigned and is_ip(assigned):
        event["cisco.asa.assigned_ip"] = assigned
    if event.get("cisco.asa.message_id") == "716001":
        event["event.action"] = "vpn-session-started"
        event["event.type"] = ["start"]
    elif event.get("cisco.asa.message_id") == "716002":
        event["event.action"] = "vpn-session-terminated"
        event["event.type"] = ["end"]
    else:
        event["event.action"] = "vpn-address-assigned"
        event["event.type"] = ["info"]
    event["event.category"] = ["network", "session"]
    event["event.outcome"] = "success"


def _bracketed(text: str, key: str) -> str | None:
    rest = text.partition(key + " <")[2]
    return rest.partition(">")[0] or None if rest else None


def _nat(words: list[str], text: str, event: Event) -> None:
    # Built {dynamic|static} TCP translation from IF:A/P to IF:B/P
    if len(words) > 2:
        put(event, "network.transport", transport(words[2]))
    if (src := _after(words, "from")) is not None:
        _endpoint(event, "source", src)
    if (nat := _after(words, "to")) is not None:
        iface, address, port = parse_endpoint(nat)
        if is_ip(address):
            event["source.nat.ip"] = address
        if port is not None:
            event["source.nat.port"] = port
        if iface:
            event["observer.egress.interface.name"] = iface
    event["event.action"] = "nat-translation-built"
    event["event.category"] = ["network"]
    event["event.type"] = ["connection", "start"]


def _threat(words: list[str], text: str, event: Event) -> None:
    # [Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, ...
    name = text.partition("[")[2].partition("]")[0] if text.startswith("[") else words[0]
    put(event, "rule.name", name)
    event["event.action"] = "threat-rate-exceeded"
    event["event.kind"] = "alert"
    event["event.category"] = ["intrusion_detection", "network"]
    event["event.type"] = ["info"]


def _generic(words: list[str], text: str, event: Event) -> None:
    """Endpoints of messages without a handler: ``from A to B`` or ``src A dst B``."""
    for first, second in (("src", "dst"), ("from", "to")):
        if first not in words:
            continue
        at = words.index(first)
        src = words[at + 1] if at + 1 < len(words) else None
        if src is None or not is_ip(parse_endpoint(src)[1]):
            continue
        _endpoint(event, "source", src)
        dst = _after(words[at + 2 :], second)
        if dst is not None and is_ip(parse_endpoint(dst)[1]):
            _endpoint(event, "destination", dst)
        return


def _admin(words: list[str], text: str, event: Event) -> None:
    """Local users and commands: 111008/111009/111010, 113006, 502101-502103, 611103."""
    message_id = event["cisco.asa.message_id"]
    user = _value_after(text, "Uname:")
    if user is not None:  # ``Uname: bob From: 1 To: 15``, ``Uname: bob Priv: 15``
        user = user.split()[0]
    elif words[0] == "User":
        user = words[1].strip("',")
    put(event, "user.name", user)
    if message_id.startswith("111"):
        command = text.rpartition("executed ")[2].strip(" .")
        if command.startswith("the "):
            command = command[4:].removesuffix(" command")
        put(event, "cisco.asa.command", command.strip("'") or None)
        client = _after(words, "IP")
        if client is not None and is_ip(client.rstrip(",")):
            event["source.ip"] = client.rstrip(",")
        event["event.action"] = "command-executed"
        event["event.category"] = ["process"]
    elif message_id == "113006":
        event["event.action"] = "user-locked-out"
        event["event.category"] = ["authentication"]
        event["event.outcome"] = "failure"
    elif message_id == "611103":
        event["event.action"] = "logout"
        event["event.category"] = ["authentication"]
        event["event.type"] = ["end"]
    else:
        actions = {
            "502101": "user-created",
            "502102": "user-deleted",
            "502103": "privilege-changed",
        }
        event["event.action"] = actions.get(message_id, "user-changed")
        event["event.category"] = ["iam"]
        event["event.type"] = ["user", "change" if message_id == "502103" else "creation"]
        if message_id == "502102":
            event["event.type"] = ["user", "deletion"]


_HANDLERS: dict[str, Handler] = {
    "302013": _built_or_teardown,
    "302014": _built_or_teardown,
    "302015": _built_or_teardown,
    "302016": _built_or_teardown,
    "106001": _deny,
    "106006": _deny,
    "106007": _deny,
    "106010": _deny,
    "106014": _deny,
    "106015": _deny,
    "106023": _deny,
    "106100": _acl,
    "113004": lambda w, t, e: _aaa(w, t, e, True),
    "113005": lambda w, t, e: _aaa(w, t, e, False),
    "605004": lambda w, t, e: _login(w, t, e, False),
    "605005": lambda w, t, e: _login(w, t, e, True),
    "611101": lambda w, t, e: _user_auth(w, t, e, True),
    "611102": lambda w, t, e: _user_auth(w, t, e, False),
    "716001": _vpn,
    "716002": _vpn,
    "722051": _vpn,
    "305011": _nat,
    "733100": _threat,
    "111008": _admin,
    "111009": _admin,
    "111010": _admin,
    "113006": _admin,
    "502101": _admin,
    "502102": _admin,
    "502103": _admin,
    "611103": _admin,
}


def _asa_time(prefix: str, ctx: ParseContext) -> int | None:
    """ASA's own ``logging timestamp`` form, ``Oct 03 2018 17:34:08`` (year, no host)."""
    text = prefix.strip().rstrip(":").strip()
    if text.startswith("<"):
        text = text.partition(">")[2]
    parts = text.split()
    if len(parts) != 4 or parts[0] not in MONTHS or parts[3].count(":") != 2:
        return None
    day, year = as_int(parts[1]), as_int(parts[2])
    h, m, s = (as_int(x) for x in parts[3].split(":"))
    if None in (day, year, h, m, s):
        return None
    try:
        return civil_to_ns(year, MONTHS[parts[0]], day, h, m, s, 0, ctx.timezone)  # type: ignore[arg-type]
    except TimeFieldError:
        return None


class CiscoAsaParser:
    """One ASA / FTD message, bare or behind a syslog header."""

    name = "cisco_asa"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        start = -1
        for tag in _TAGS:
            start = raw.find(tag)
            if start >= 0:
                break
        if start < 0:
            raise ParseError("not a Cisco ASA message: no %ASA- tag", parser=self.name)
        stamp = _asa_time(raw[:start], ctx) if start > 0 else None
        header: Event = {}
        if stamp is None and start > 0:
            header, _ = unwrap(raw, start, ctx, self.name)
        body = raw[start + 1 :]
        tag_end = len(body)
        for stop in (": ", " "):
            pos = body.find(stop)
            if 0 <= pos < tag_end:
                tag_end = pos
        product, severity, message_id = [*body[:tag_end].rstrip(":").split("-"), "", ""][:3]
        if not (severity.isdigit() and len(severity) == 1 and message_id.isdigit()):
            raise ParseError(
                f"malformed tag {body[:tag_end]!r}: expected %ASA-<severity>-<id>",
                parser=self.name,
            )
        text = body[tag_end:].lstrip(": ").strip()
        event: Event = dict(header)
        event["@timestamp"] = stamp or header.get("@timestamp") or ctx.received
        event["cisco.asa.message_id"] = message_id
        event["event.code"] = message_id
        event["log.level"] = severity
        event["event.severity"] = int(severity)
        event["observer.vendor"] = "Cisco"
        event["observer.product"] = product
        event["observer.type"] = "firewall"
        if "host.name" in event:
            event["observer.name"] = event["host.name"]
        event["event.module"] = "cisco"
        event["event.dataset"] = f"cisco.{product.lower()}"
        event["event.kind"] = "event"
        event["message"] = text
        words = text.split()
        handler = _HANDLERS.get(message_id, _generic)
        if words:
            try:
                handler(words, text, event)
            except IndexError:
                raise ParseError(
                    f"message {message_id} is shorter than its documented form", parser=self.name
                ) from None
        coerce_core_fields(event)
        return event
