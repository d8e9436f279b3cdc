"""The read commands, and ``alerts update``, while ``heron serve`` holds the data directory.

They ask the node over its control socket; what they print must be what they print
when they open the store themselves.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from heron.audit import AuditLog

from .ingesting import HERON, heron
from .serving import HeronProcess, free_port

#: Commands and options whose output is compared, node against store.
READS = [
    ["search", "--format", "json", "--limit", "40"],
    ["search", "--format", "csv", "event.code=4625", "--limit", "10"],
    ["search", "--format", "json", "--from", "2019-03-01", "--to", "2019-04-01", "--limit", "5"],
    ["alerts", "--format", "json"],
    ["alerts", "list", "--format", "csv", "--level", "medium", "--limit", "3", "--offset", "1"],
    ["alerts", "--format", "json", "--status", "open", "--entity", "host=MSEDGEWIN10"],
    [
        "hunt",
        "--format",
        "json",
        "events | summarize n=count() by event.code | sort by n desc, event.code asc",
    ],
    [
        "hunt",
        "--format",
        "csv",
        "--limit",
        "3",
        "events | project event.id, event.code | sort by event.id asc",
    ],
    ["stats", "--format", "json"],
    ["hunt", "--fields", "--format", "json"],
    ["hunt", "--explain", 'events | where user.name == "IEUser" | summarize count() by host.name'],
    ["searches", "list", "--format", "json"],
    ["hunt", "--saved", "failed-logons", "--format", "csv"],
    ["deadletters", "--format", "json"],
    ["risk", "--format", "json", "--at", "2030-01-01T00:00:00Z"],
    ["risk", "--format", "csv", "--kind", "host", "--half-life", "7d", "--at", "2019-06-01"],
]


def _heron(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return heron(*args, data_dir=data_dir)


def _out(data_dir: Path, *args: str) -> str:
    proc = _heron(data_dir, *args)
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def test_read_commands_print_the_same_through_the_node(tmp_path: Path, corpora: Path) -> None:
    data_dir = tmp_path / "data"
    samples = corpora / "evtx" / "EVTX-ATTACK-SAMPLES" / "Credential Access"
    bad = tmp_path / "bad.log"
    bad.write_bytes(b'{"message": "fine"}\n\xff not UTF-8\n')
    loaded = _heron(data_dir, "ingest", "--json", "--include", "*.evtx", str(samples), str(bad))
    assert loaded.returncode == 0, loaded.stderr
    alert_id = json.loads(_out(data_dir, "alerts", "--format", "json", "--limit", "1"))["alert.id"]
    reads = [*READS, ["alerts", "show", alert_id, "--format", "json"]]
    hunt = 'events | where event.code == "4625" | summarize n=count() by user.name'
    _out(data_dir, "hunt", "--save", "failed-logons", "--schedule", "1h", hunt)
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("203.0.113.250\nevil.example.com\n")
    _out(data_dir, "intel", "load", "--source", "test-list", str(iocs))
    reads.append(["intel", "list", "--format", "json"])
    hosts = tmp_path / "hosts.csv"
    hosts.write_text("name,ip,criticality,owner\nweb01,192.0.2.10,high,web-team\n")
    _out(data_dir, "assets", "load", str(hosts))
    reads.append(["assets", "list", "--format", "json"])
    # A retro-hunt of the built-in rules (correlations included) and a SigmaHQ folder.
    builtin = Path(__file__).resolve().parents[2] / "src" / "heron" / "rules" / "builtin"
    sigma = corpora / "sigma" / "rules" / "windows" / "builtin" / "security" / "account_management"
    for rules, fmt in ((builtin, "json"), (sigma, "csv")):
        reads.append(["rules", "backtest", str(rules), "--since", "3650d", "--format", fmt])
    # A simulated day, scored against its labels.
    sim = tmp_path / "sim"
    made = subprocess.run(
        [*HERON, "simulate", "--days", "1", "--users", "4", "--hosts", "1", "--out", str(sim)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    _out(data_dir, "ingest", str(sim))
    reads.append(["simulate", "score", str(sim / "labels.json"), "--format", "json"])
    reads.append(["simulate", "score", str(sim / "labels.json")])

    node = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port())
    try:
        through_node = [_out(data_dir, *args) for args in reads]
    finally:
        assert node.terminate() == 0
    # The same reads, with the store opened by the commands themselves.
    for args, via_node in zip(reads, through_node, strict=True):
        assert via_node.strip(), args  # every command printed something
        assert via_node == _out(data_dir, *args), args
    score = json.loads(
        through_node[
            reads.index(["simulate", "score", str(sim / "labels.json"), "--format", "json"])
        ]
    )
    assert score["labelled_events_found"] == score["labelled_events"] > 0
    assert score["true_positive_alerts"] > 0


def test_alert_updates_go_through_the_node(tmp_path: Path, corpora: Path) -> None:
    data_dir = tmp_path / "data"
    samples = corpora / "evtx" / "EVTX-ATTACK-SAMPLES" / "Credential Access"
    assert _heron(data_dir, "ingest", "--include", "*.evtx", str(samples)).returncode == 0
    alert_id = json.loads(_out(data_dir, "alerts", "--format", "json", "--limit", "1"))["alert.id"]
    top_ip = (
        'events | where source.ip startswith "10." | summarize n=count() by source.ip | top 1 by n'
    )
    seen_ip = json.loads(_out(data_dir, "hunt", "--format", "json", top_ip))["source.ip"]
    node = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port())
    try:
        updated = _heron(
            data_dir, "alerts", "update", alert_id, "--status", "acknowledged",
            "--comment", "seen", "--format", "json",
        )  # fmt: skip
        assert updated.returncode == 0, updated.stderr
        assert json.loads(updated.stdout)["status"] == "acknowledged"
        # What the API cannot do is refused with the reason, not done differently.
        actor = _heron(data_dir, "alerts", "update", alert_id, "--comment", "x", "--actor", "bob")
        assert actor.returncode != 0 and "--actor cannot be used now" in actor.stderr
        missing = _heron(data_dir, "alerts", "show", "nosuch")
        assert missing.returncode != 0 and "no such alert: nosuch" in missing.stderr
        parquet = _heron(data_dir, "hunt", "--format", "parquet", "--out", "x.parquet", "events")
        assert parquet.returncode != 0 and "parquet is not available" in parquet.stderr
        too_many = _heron(data_dir, "search", "--limit", "20000")
        assert too_many.returncode != 0 and "at most 10,000 events" in too_many.stderr
        # Suppressions: added, listed, removed through the node.
        added = _heron(
            data_dir, "alerts", "suppress", "add", "user.name", "svc_backup",
            "--reason", "backup job", "--expires", "7d", "--format", "json",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        suppression = json.loads(added.stdout)
        assert suppression["actor"].startswith("local:") and suppression["expires"]
        listed = _out(data_dir, "alerts", "suppress", "list", "--format", "json")
        assert [json.loads(line)["suppression.id"] for line in listed.splitlines()] == [
            suppression["suppression.id"]
        ]
        removed = _out(data_dir, "alerts", "suppress", "remove", suppression["suppression.id"])
        assert removed.startswith(f"removed suppression {suppression['suppression.id']}")
        named = _heron(data_dir, "alerts", "suppress", "remove", "x", "--actor", "bob")
        assert named.returncode != 0 and "--actor cannot be used now" in named.stderr
        # Saved searches: saved and deleted through the node.
        saved = _out(data_dir, "hunt", "--save", "one", "--schedule", "5m", "events | take 1")
        assert saved.strip() == "saved search 'one', every 5m"
        assert _out(data_dir, "hunt", "--saved", "one", "--format", "json").count("\n") == 1
        _out(data_dir, "hunt", "--save", "two", "events | take 2")
        assert _out(data_dir, "searches", "delete", "two").strip() == "deleted saved search 'two'"
        gone = _heron(data_dir, "searches", "delete", "two")
        assert gone.returncode != 0 and "no saved search named 'two'" in gone.stderr
        # Threat intel: read here, stored by the node in one transaction, retro-matched.
        iocs = tmp_path / "iocs.csv"
        iocs.write_text(f"type,value\nipv4-addr,{seen_ip}\nipv4-addr,203.0.113.251\n")
        report = json.loads(
            _out(data_dir, "intel", "load", "--json", "--retro-days", "3650", str(iocs))
        )
        assert (report["received"], report["added"], report["refused"]) == (2, 2, 0)
        assert report["retro_hits"] >= 1 and report["alerts"] >= 1
        listed_iocs = _out(data_dir, "intel", "list", "--format", "json").splitlines()
        assert sorted(json.loads(line)["value"] for line in listed_iocs) == sorted(
            [seen_ip, "203.0.113.251"]
        )
        expired = json.loads(_out(data_dir, "intel", "expire", "--json"))
        assert expired == {"expired": 0, "remaining": 2}
        # Feeds: fetched by the command (its files, its credentials), stored by the node,
        # which keeps how each run went.
        feed_list = tmp_path / "feed.txt"
        feed_list.write_text("198.51.100.99\n")
        feeds = tmp_path / "feeds.yml"
        feeds.write_text(
            "feeds:\n"
            f"  - {{name: watch, type: file, path: {feed_list}, interval: 1h}}\n"
            f"  - {{name: gone, type: file, path: {tmp_path / 'missing.txt'}, interval: 1h}}\n"
        )
        refreshed = _heron(data_dir, "intel", "refresh", "--feeds", str(feeds), "--json")
        assert refreshed.returncode == 1, refreshed.stderr  # one feed failed
        runs = {r["name"]: r for r in map(json.loads, refreshed.stdout.splitlines())}
        assert runs["watch"]["ok"] and runs["watch"]["added"] == 1
        assert not runs["gone"]["ok"] and "cannot read" in runs["gone"]["error"]
        again = _heron(data_dir, "intel", "refresh", "--feeds", str(feeds))
        assert again.returncode == 0 and "no feed is due" in again.stderr
        forced = _heron(data_dir, "intel", "refresh", "--feeds", str(feeds), "--force", "--json")
        assert [json.loads(line)["added"] for line in forced.stdout.splitlines()] == [0, 0]
        assert "198.51.100.99" in _out(data_dir, "intel", "list", "--source", "watch")
        # Assets: records read here, checked and stored by the node.
        cmdb = tmp_path / "cmdb.csv"
        cmdb.write_text("name,ip,criticality\ndc01,10.0.2.17,critical\nbad01,10.0.2.18,huge\n")
        strict = _heron(data_dir, "assets", "load", "--strict", str(cmdb))
        assert strict.returncode != 0 and "--strict given; nothing stored" in strict.stderr
        imported = json.loads(_out(data_dir, "assets", "load", "--json", str(cmdb)))
        assert (imported["kind"], imported["stored"], imported["refused"]) == ("hosts", 1, 1)
        listed_hosts = _out(data_dir, "assets", "list", "--format", "json").splitlines()
        assert [json.loads(line)["name"] for line in listed_hosts] == ["dc01"]
        # A retro-hunt by the node, alerts stored; a broken file is named as given here.
        broken = tmp_path / "broken.yml"
        broken.write_text("title: broken\ndetection: [\n")
        builtin = Path(__file__).resolve().parents[2] / "src" / "heron" / "rules" / "builtin"
        retro = _heron(
            data_dir, "rules", "backtest", str(builtin / "authentication.yml"), str(broken),
            "--since", "3650d", "--alert",
        )  # fmt: skip
        assert retro.returncode == 0, retro.stderr
        assert f"error: {broken} [-]:" in retro.stderr
        assert re.search(r"alerts: \d+ created", retro.stderr), retro.stderr
    finally:
        assert node.terminate() == 0
    assert _out(data_dir, "alerts", "suppress", "list", "--all", "--format", "json") == ""
    # The runs the node recorded are the ones the command finds on its own.
    alone = _heron(data_dir, "intel", "refresh", "--feeds", str(feeds))
    assert alone.returncode == 0 and "no feed is due" in alone.stderr
    searches = _out(data_dir, "searches", "list", "--format", "json").splitlines()
    assert [json.loads(line)["name"] for line in searches] == ["one"]
    changes = [r for r in AuditLog(data_dir).records() if r.action.startswith("suppression.")]
    assert [r.action for r in changes] == ["suppression.add", "suppression.remove"]
    assert all(r.actor.startswith("local:") for r in changes)
    shown = json.loads(_out(data_dir, "alerts", "show", alert_id, "--format", "json"))
    assert shown["status"] == "acknowledged"
    last = shown["history"][-1]
    assert last["actor"].startswith("local:") and last["comment"] == "seen"


def test_a_command_the_node_cannot_answer_says_the_directory_is_in_use(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    events = tmp_path / "events.json"
    events.write_text('{"message": "one"}\n')
    node = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port())
    try:
        proc = _heron(data_dir, "simulate", "replay", str(events))
    finally:
        node.kill()
    assert proc.returncode != 0
    assert "in use by another Heron process" in proc.stderr
