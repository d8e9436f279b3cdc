"""Web server access logs: Apache and nginx ``common`` / ``combined``, and variants.

Accepted shapes (a syslog header in front is allowed)::

    client ident user [time] "request" status bytes
    client ident user [time] "request" status bytes "referrer" "user agent" [extra …]
    vhost[:port] client ident user [time] "request" status bytes …   (vhost_combined)
    client proxy-ip - [time] …, client - - - [time] …                 (extra address columns)
    [time] client TLSv1.2 CIPHER "request" bytes                       (Apache ssl_request_log)

Quoted fields may hold escaped quotes (``\\"``), as Apache and nginx write them. A bare
number with a decimal point after the user agent is the request time in seconds
(nginx ``$request_time``) and becomes ``event.duration``; other trailing fields are kept
in ``http.request.trailing_fields``. ``::ffff:`` IPv4-mapped clients are unmapped in
``source.ip``. ``url.query`` is kept as sent (not percent-decoded), which is what
web-attack rules match on.
"""

from __future__ import annotations

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.envelope import unwrap
from heron.parsers.fields import EMPTY, as_int, is_ip, split_host_port, unmap_ip
from heron.parsers.syslog_time import MONTHS, TimeFieldError, civil_to_ns, zone_from_text

__all__ = ["ApacheAccessParser", "NginxAccessParser", "WebAccessParser"]


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """The quoted string starting at ``text[pos] == '"'`` (escapes undone) and its end."""
    out: list[str] = []
    i = pos + 1
    n = len(text)
    while i < n:
        j = text.find('"', i)
        k = text.find("\\", i)
        if k != -1 and (j == -1 or k < j):
            out.append(text[i:k])
            if k + 1 < n:
                nxt = text[k + 1]
                out.append(nxt if nxt in '"\\' else "\\" + nxt)
            i = k + 2
            continue
        if j == -1:
            break
        out.append(text[i:j])
        return "".join(out), j + 1
    raise ParseError("unterminated quoted field", parser="web_access", offset=pos)


def _fields(text: str) -> list[tuple[str, bool]]:
    """Blank-separated fields of ``text`` as (value, was quoted)."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        if text[i] == '"':
            value, i = _quoted(text, i)
            out.append((value, True))
            continue
        end = i
        while end < n and text[end] not in " \t":
            end += 1
        out.append((text[i:end], False))
        i = end
    return out


def _clf_time(text: str, ctx: ParseContext) -> int:
    """``10/Oct/2000:13:55:36 -0700`` (Common Log Format) in ns."""
    stamp, _, zone = text.partition(" ")
    day, mon, rest = [*stamp.split("/", 2), "", ""][:3]
    year, _, clock = rest.partition(":")
    hms = clock.split(":")
    frac = 0
    if len(hms) == 3 and "." in hms[2]:
        hms[2], digits = hms[2].split(".", 1)
        frac = int(digits[:9].ljust(9, "0")) if digits.isdigit() else 0
    numbers = [as_int(x) for x in (day, year, *hms)]
    tz = zone_from_text(zone) if zone else ctx.timezone
    if mon not in MONTHS or len(hms) != 3 or None in numbers or tz is None:
        raise ParseError(f"bad time [{text[:40]}]", parser="web_access")
    d, y, h, m, s = numbers
    try:
        return civil_to_ns(y, MONTHS[mon], d, h, m, s, frac, tz)  # type: ignore[arg-type]
    except TimeFieldError as exc:
        raise ParseError(f"bad time [{text[:40]}]: {exc}", parser="web_access") from None


def _request(event: Event, request: str) -> None:
    event["http.request.line"] = request
    parts = request.split(" ")
    if len(parts) < 2 or not parts[0].isupper() or not parts[0].isalpha():
        return  # "-", a TLS handshake sent to a plain port, junk from scanners
    event["http.request.method"] = parts[0]
    target = " ".join(parts[1:-1]) if len(parts) > 2 else parts[1]
    if len(parts) > 2 and parts[-1].startswith("HTTP/"):
        event["http.version"] = parts[-1][5:]
    elif len(parts) > 2:
        target = " ".join(parts[1:])
    event["url.original"] = target
    path, question, query = target.partition("?")
    if "://" in path:  # absolute form, sent to proxies
        scheme, _, rest = path.partition("://")
        host, slash, path = rest.partition("/")
        event["url.scheme"] = scheme.lower()
        event["url.domain"] = split_host_port(host)[0]
        path = slash + path
    event["url.path"] = path
    if question:
        event["url.query"] = query
    leaf = path.rpartition("/")[2]
    if "." in leaf and not leaf.endswith("."):
        extension = leaf.rpartition(".")[2].lower()
        if extension.isalnum() and len(extension) <= 10:
            event["url.extension"] = extension


def _client(event: Event, value: str) -> None:
    if value in EMPTY:
        return
    address = unmap_ip(value)
    if is_ip(address):
        event["source.ip"] = address
        event["source.address"] = value
    else:
        event["source.address"] = value
        event["source.domain"] = value


class WebAccessParser:
    """One access log line; ``event.module`` says which server wrote it."""

    name = "web_access"
    module = "web"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        header: Event = {}
        if line.startswith("<") or (line[:3] in MONTHS and line[3:4] == " "):
            header, line = unwrap(line, -1, ctx, self.name)
        open_bracket = line.find("[")
        close_bracket = line.find("]", open_bracket + 1)
        if open_bracket < 0 or close_bracket < 0 or '"' not in line:
            raise ParseError(
                "not an access log line: expected [time] and a quoted request", parser=self.name
            )
        event: Event = {}
        if "host.name" in header:
            event["host.name"] = header["host.name"]
        event["@timestamp"] = _clf_time(line[open_bracket + 1 : close_bracket], ctx)
        pre = line[:open_bracket].split()
        rest = _fields(line[close_bracket + 1 :])
        if not pre:
            self._ssl_request(event, rest)
        else:
            self._common(event, pre, rest)
        event["event.kind"] = "event"
        event["event.category"] = ["web"]
        event["event.type"] = ["access"]
        event["event.module"] = self.module
        event["event.dataset"] = f"{self.module}.access"
        return event

    def _common(self, event: Event, pre: list[str], rest: list[tuple[str, bool]]) -> None:
        first = pre[0]
        if len(pre) >= 3 and not is_ip(unmap_ip(first)) and first not in EMPTY:
            host, port = split_host_port(first)
            if not is_ip(unmap_ip(host)):
                event["url.domain"] = host
                if port is not None:
                    event["url.port"] = port
                pre = pre[1:]
        _client(event, pre[0])
        extra = [unmap_ip(p) for p in pre[1:-1] if is_ip(unmap_ip(p))]
        if extra:
            event["http.request.remote_addresses"] = [unmap_ip(pre[0]), *extra]
        if len(pre) >= 3 and pre[1] not in EMPTY and not is_ip(unmap_ip(pre[1])):
            event["http.request.ident"] = pre[1]
        if len(pre) >= 2 and pre[-1] not in EMPTY:
            event["user.name"] = pre[-1]
        if len(rest) < 2 or not rest[0][1]:
            raise ParseError("no quoted request after the time", parser=self.name)
        _request(event, rest[0][0])
        status = as_int(rest[1][0])
        if status is None or not 100 <= status <= 999:
            raise ParseError(f"bad HTTP status {rest[1][0][:16]!r}", parser=self.name)
        event["http.response.status_code"] = status
        event["event.outcome"] = "failure" if status >= 400 else "success"
        if len(rest) > 2:
            size = as_int(rest[2][0])
            if size is not None:
                event["http.response.body.bytes"] = size
        tail = rest[3:]
        if len(tail) >= 2 and tail[0][1] and tail[1][1]:
            if tail[0][0] not in EMPTY:
                event["http.request.referrer"] = tail[0][0]
            if tail[1][0] not in EMPTY:
                event["user_agent.original"] = tail[1][0]
            tail = tail[2:]
        self._trailing(event, tail)

    def _ssl_request(self, event: Event, rest: list[tuple[str, bool]]) -> None:
        # Apache mod_ssl: [time] %a %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b
        if len(rest) < 4 or not rest[3][1]:
            raise ParseError(
                "not an access log line: no client before the request", parser=self.name
            )
        _client(event, rest[0][0])
        protocol, cipher = rest[1][0], rest[2][0]
        if protocol.startswith(("TLSv", "SSLv")):
            event["tls.version_protocol"] = protocol[:3].lower()
            event["tls.version"] = protocol[4:]
        event["tls.cipher"] = cipher
        _request(event, rest[3][0])
        if len(rest) > 4:
            size = as_int(rest[4][0])
            if size is not None:
                event["http.response.body.bytes"] = size
        self._trailing(event, rest[5:])

    @staticmethod
    def _trailing(event: Event, tail: list[tuple[str, bool]]) -> None:
        kept: list[str] = []
        for value, quoted in tail:
            if not quoted and "." in value and "event.duration" not in event:
                try:
                    seconds = float(value)
                except ValueError:
                    seconds = -1.0
                if 0 <= seconds < 1e7:
                    event["event.duration"] = round(seconds * 1e9)
                    continue
            kept.append(value)
        if kept:
            event["http.request.trailing_fields"] = kept


class ApacheAccessParser(WebAccessParser):
    """Apache httpd access logs (``common``, ``combined``, ``vhost_combined``, ssl_request)."""

    name = "apache_access"
    module = "apache"


class NginxAccessParser(WebAccessParser):
    """nginx access logs (``combined`` and the usual additions)."""

    name = "nginx_access"
    module = "nginx"
