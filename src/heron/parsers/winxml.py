"""Windows events as XML: ``<Event>`` elements as Windows renders them.

The same events as EVTX, carried as text: ``wevtutil qe … /f:xml``, Event Viewer's
"Save as XML" exports (``<Events><Event>…</Event>…</Events>``), shippers that forward
the rendered XML (Splunk's ``XmlWinEventLog``, NXLog), and Sysmon for Linux, which
writes each event as XML in a syslog message (``heron.parsers.syslog`` hands those
here). An element becomes the structure the ``evtx`` library gives an EVTX record as
JSON, so ``flatten_windows_record`` and the Windows normalization treat both alike:
``EventID``, ``Channel``, ``Provider_Name`` … from ``System``, and every ``EventData``
field under its own name (the common shape is read straight into those fields, by
``_direct``, which gives exactly what that road gives). Rendered XML's
``RenderingInfo/Message`` (the text Event Viewer shows) becomes ``message``.

XML carries no types: ``System``'s numbers (``Version``, ``Level``, ``Task``,
``Opcode``, ``EventRecordID``, the ``Execution`` ids) are read as integers, as EVTX
has them; ``EventData`` values stay text, as shippers that send XML give them.

A document type declaration is refused before any parsing: Windows never writes one,
and it is the only way XML input can declare entities (to expand without bound, or to
read local files). Without one, the standard library's expat parser knows only XML's
five built-in entities. Documents are not parsed as a whole: ``iter_windows_xml_events``
cuts the ``<Event>`` elements out of the text (elements cannot nest, and ``<`` inside a
value is always escaped), so a file is split as fast as it is read and each event is
parsed where the pipeline transforms it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import Any

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.timeutil import parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.windows import flatten_windows_record

__all__ = [
    "LINUX_SYSMON_CHANNEL",
    "MAX_EVENT_CHARS",
    "WindowsXmlParser",
    "iter_windows_xml_events",
    "windows_xml_event",
]

#: ``System`` children whose text is a number in EVTX (and in the event schema).
_SYSTEM_NUMBERS = frozenset({"Version", "Level", "Task", "Opcode", "EventRecordID"})
_NAME = "windows_xml"
LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
#: What a pretty-printer puts inside an empty element: a newline and indentation.
_INDENT = re.compile("\n[ \t]*")
#: Characters XML 1.0 cannot hold. Some renderers (the ``evtx`` library among them) write
#: them raw when an event's value has one; such an event is read with each one as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


#: An event's start tag (not ``<Events>``) and end tag, when cutting a document.
_START = re.compile(r"<Event[\s>/]")
_END = "</Event>"
#: The longest event a document may hold (Windows caps an event at 64 KiB of data).
MAX_EVENT_CHARS = 4 * 1024 * 1024


def _refuse_dtd(text: str) -> None:
    if "<!DOCTYPE" in text:
        raise ParseError("refused XML: a document type declaration", parser=_NAME)


def _local(tag: str) -> str:
    """An element or attribute name without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def _number(text: str | None) -> Any:
    if text is not None and text.isdigit() and text.isascii():
        return int(text)
    return text


def _node(elem: ET.Element) -> Any:
    """An element as the ``evtx`` library's JSON has it: text, or a dict of its
    ``#attributes``, ``#text`` and children (repeated children as a list)."""
    attrs = {_local(k): v for k, v in elem.attrib.items()}
    children = list(elem)
    if not children:
        if not attrs:
            # Whitespace alone is the indentation of an empty element, as EVTX has null.
            return elem.text if elem.text and not elem.text.isspace() else None
        node: dict[str, Any] = {"#attributes": attrs}
        if elem.text:
            node["#text"] = elem.text
        return node
    node = {"#attributes": attrs} if attrs else {}
    for child in children:
        name, value = _local(child.tag), _node(child)
        if name not in node:
            node[name] = value
        elif isinstance(node[name], list):
            node[name].append(value)
        else:
            node[name] = [node[name], value]
    return node


def _value(elem: ET.Element) -> str:
    """A ``Data`` value: its text, "" when empty or only the indentation a pretty-printed
    empty element gets (a newline, then spaces or tabs)."""
    text = elem.text or ""
    return "" if _INDENT.fullmatch(text) else text


def _event_data(elem: ET.Element) -> dict[str, Any]:
    """``<Data Name="X">v</Data>`` as ``X: v``; unnamed ``Data`` as ``Data``; others kept."""
    out: dict[str, Any] = {}
    unnamed: list[str] = []
    for child in elem:
        name = _local(child.tag)
        if name == "Data":
            key = child.get("Name")
            if key:
                out[key] = _value(child)
            else:
                unnamed.append(_value(child))
        else:
            out[name] = _node(child)
    if unnamed:
        out["Data"] = {"#text": unnamed[0] if len(unnamed) == 1 else unnamed}
    return out


def _system(elem: ET.Element) -> dict[str, Any]:
    system = _node(elem)
    if not isinstance(system, dict):
        return {}
    for key in _SYSTEM_NUMBERS & system.keys():
        value = system[key]
        if isinstance(value, str):
            system[key] = _number(value)
    execution = system.get("Execution")
    if isinstance(execution, dict) and isinstance(execution.get("#attributes"), dict):
        attrs = execution["#attributes"]
        for key in ("ProcessID", "ThreadID"):
            if isinstance(attrs.get(key), str):
                attrs[key] = _number(attrs[key])
    security = system.get("Security")
    if isinstance(security, dict) and isinstance(security.get("#attributes"), dict):
        attrs = security["#attributes"]
        if "UserID" not in attrs and "UserId" in attrs:  # Sysmon for Linux's spelling
            attrs["UserID"] = attrs.pop("UserId")
    return system


def _record(event: ET.Element) -> dict[str, Any]:
    """``{"Event": {...}}`` for one ``<Event>`` element, as ``flatten_windows_record`` reads."""
    body: dict[str, Any] = {}
    for child in event:
        name = _local(child.tag)
        if name == "System":
            body["System"] = _system(child)
        elif name == "EventData":
            body["EventData"] = _event_data(child)
        else:
            body[name] = _node(child)
    return {"Event": body}


#: ``System`` children read as their text (numbers as integers, see ``_SYSTEM_NUMBERS``).
_SYSTEM_TEXT = frozenset(
    {"EventID", "Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID"}
    | {"Channel", "Computer"}
)


def _leaf_text(elem: ET.Element) -> str | None:
    """A leaf's value as ``_node`` then ``flatten_windows_record`` give it."""
    text = elem.text
    if elem.attrib:
        return text or None
    return text if text and not text.isspace() else None


def _direct(root: ET.Element) -> Event | None:
    """The flat fields of the common event shape, read straight off the tree: what
    ``flatten_windows_record(_record(root))`` gives, in a third of the time. None for a
    shape it leaves to that road (``UserData``, nested or repeated elements, ``Binary``)."""
    out: Event = {}
    system_seen = False
    for part in root:
        name = _local(part.tag)
        if name == "System":
            if system_seen or not _direct_system(part, out):
                return None
            system_seen = True
        elif name == "EventData":
            if not _direct_event_data(part, out):
                return None
        elif name == "UserData":
            return None
    if not system_seen:
        return None
    out["event.module"] = "windows"
    return out


def _direct_system(system: ET.Element, out: Event) -> bool:
    seen: set[str] = set()
    for child in system:
        name = _local(child.tag)
        if name in seen or len(child):
            return False
        seen.add(name)
        attrs = child.attrib
        if name in _SYSTEM_TEXT:
            value = _leaf_text(child)
            if value is None:
                continue
            if name == "EventID" or name in _SYSTEM_NUMBERS:
                out[name] = _number(value)
            else:
                out[name] = value
        elif name == "Provider":
            if attrs.get("Name"):
                out["Provider_Name"] = attrs["Name"]
            if attrs.get("Guid"):
                out["Provider_Guid"] = attrs["Guid"]
        elif name == "TimeCreated":
            stamp = attrs.get("SystemTime")
            if stamp:
                try:
                    out["@timestamp"] = parse_timestamp(stamp)
                except (ValueError, OverflowError):
                    out["_invalid.@timestamp"] = stamp
        elif name == "Execution":
            for key, value in attrs.items():
                local = _local(key)
                if local in ("ProcessID", "ThreadID"):
                    out[f"Execution_{local}"] = _number(value)
                else:
                    out[f"Execution_{local}"] = value
        elif name == "Security":
            user = attrs.get("UserID") if "UserID" in attrs else attrs.get("UserId")
            if user:
                out["SecurityUserID"] = user
    return True


def _direct_event_data(data: ET.Element, out: Event) -> bool:
    unnamed: list[str] = []
    for child in data:
        if _local(child.tag) != "Data" or len(child):
            return False
        key = child.get("Name")
        if key == "Data":
            return False
        if key:
            out[key] = _value(child)
        else:
            unnamed.append(_value(child))
    if unnamed:
        out["Data"] = unnamed[0] if len(unnamed) == 1 else unnamed
    return True


def windows_xml_event(text: str) -> Event:
    """The flat raw fields of one ``<Event>`` element given as text."""
    _refuse_dtd(text)
    try:
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            cleaned = _NOT_XML.sub("\ufffd", text)
            if cleaned == text:
                raise
            root = ET.fromstring(cleaned)
    except ET.ParseError as exc:
        raise ParseError(f"invalid XML: {exc}", parser=_NAME) from None
    if _local(root.tag) != "Event":
        raise ParseError(f"not a Windows event: the XML element is <{root.tag}>", parser=_NAME)
    try:
        event = _direct(root) or flatten_windows_record(_record(root))
    except RecursionError:
        raise ParseError("Windows event XML nested too deeply", parser=_NAME) from None
    # Rendered XML (wevtutil /f:RenderedXml, forwarded events) carries the message as
    # Event Viewer shows it: the text an analyst reads, kept as ``message``.
    rendered = root.find("{*}RenderingInfo/{*}Message")
    if rendered is not None and rendered.text and not rendered.text.isspace():
        event.setdefault("message", rendered.text.strip())
    if event.get("Channel") == LINUX_SYSMON_CHANNEL:
        event["event.module"] = "sysmon_linux"
    return event


class WindowsXmlParser:
    """One ``<Event>…</Event>`` a record (a line, or one event of an exported document)."""

    name = _NAME

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        event = windows_xml_event(raw.strip())
        event.setdefault("@timestamp", ctx.received)
        return event


def iter_windows_xml_events(chunks: Iterable[str]) -> Iterator[str]:
    """Each ``<Event>…</Event>`` of an XML document's text, given in chunks: an Event
    Viewer export, or elements one a line or run together (``wevtutil``).

    Memory holds one chunk and one event. A document type declaration before the first
    event, an event longer than ``MAX_EVENT_CHARS`` or text that ends inside an event
    raises ``ParseError`` there; the events before it have been given.
    """
    buf = ""
    started = False
    for chunk in chunks:
        buf += chunk
        pos = 0
        while True:
            found = _START.search(buf, pos)
            if not started:
                _refuse_dtd(buf[: found.start()] if found else buf)
            if found is None:
                # Keep what could begin a start tag (or a DOCTYPE) cut by the chunk's end.
                buf = buf[max(pos, len(buf) - 16) :]
                break
            started = True
            end = buf.find(_END, found.end())
            if end < 0:
                buf = buf[found.start() :]
                if len(buf) > MAX_EVENT_CHARS:
                    raise ParseError(
                        f"an event longer than {MAX_EVENT_CHARS} characters", parser=_NAME
                    )
                break
            end += len(_END)
            yield buf[found.start() : end]
            pos = end
    if _START.search(buf):
        raise ParseError("invalid XML: the document ends inside an event", parser=_NAME)
