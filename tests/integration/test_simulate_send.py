"""The live sender over real listeners: syslog TCP, HEC and OTLP/HTTP into a running node."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from heron.cli.main import main
from heron.simulate import SimulationConfig, build_labels, simulate
from heron.simulate.score import resolve_markers, score_alerts
from heron.simulate.sender import Sender, SendTargets

from .serving import TOKEN, dead_letters, free_port, query, serving


def test_stream_reaches_the_node_whole_and_in_order(data_dir: Path) -> None:
    config = SimulationConfig(
        days=1, seed=5, users=6, hosts=6, scale=0.1, start=datetime(2026, 3, 4, tzinfo=UTC)
    )
    sim = simulate(config, compact_attacks=True)
    records = sim.records[: len(sim.records) // 3]  # the night and the attacks
    port = free_port()
    syslog = {
        "type": "syslog",
        "name": "sim-tcp",
        "protocol": "tcp",
        "port": port,
        "framing": "octet",
        "format": "auto",
    }
    sources = [{"type": "hec"}, {"type": "otlp"}, syslog]
    with serving(data_dir, sources=sources, detect=True) as server:
        targets = SendTargets(server.url, "127.0.0.1", port, TOKEN, syslog_source="sim-tcp")
        stats = asyncio.run(Sender(targets, 5000).send(records))
        server.wait_idle()
        assert stats.total == len(records)
        labels = build_labels(sim)
        markers = sorted(
            {e["marker"] for c in labels["chains"] for s in c["steps"] for e in s["events"]}
        )
        found = resolve_markers(server.node.store, markers)
        alerts = server.node.alerts.list(limit=10_000)
    assert dead_letters(data_dir) == []
    assert query(data_dir, "SELECT count(*) AS n FROM events")[0]["n"] == len(records)
    score = score_alerts(labels, alerts, found)
    assert score.found_events == score.labelled_events
    assert {c.chain_id: c.recall for c in score.chains} == {
        "ssh-bruteforce": 1.0,
        "phishing-to-exfiltration": 1.0,
        "leaked-cloud-key": 1.0,
        "agent-prompt-injection": 1.0,
    }


def test_send_command_streams_to_a_running_node(data_dir: Path) -> None:
    port = free_port()
    syslog = {
        "type": "syslog",
        "name": "sim-tcp",
        "protocol": "tcp",
        "port": port,
        "framing": "lf",
        "format": "auto",
    }
    with serving(
        data_dir, sources=[{"type": "hec", "ack": True}, {"type": "otlp"}, syslog]
    ) as server:
        result = CliRunner().invoke(
            main,
            ["simulate", "--days", "1", "--users", "4", "--hosts", "2", "--scale", "0.02",
             "send", "--url", server.url, "--syslog", f"127.0.0.1:{port}", "--framing", "lf",
             "--syslog-source", "sim-tcp", "--token", TOKEN, "--rate", "5000", "--compact"],
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        sent = int(result.output.split("sent ")[1].split(" events")[0].replace(",", ""))
        server.wait_idle()
    assert sent > 500
    assert query(data_dir, "SELECT count(*) AS n FROM events")[0]["n"] == sent
    assert dead_letters(data_dir) == []
