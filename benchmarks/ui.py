"""Web UI and API latency over HTTP with 10M events and 10k alerts stored.

Builds (or reuses, with --store-dir) the synthetic 10M-event store of
``benchmarks/query.py`` (same generator, cached under --store-dir), adds --alerts
alerts over the same users, hosts and IPs (entity risk recorded as the pipeline
records it), starts the app (API + UI) on a loopback port in this process, signs in,
and times each page and API route. The overview is timed twice: "cold" with its
10 s result cache off (every request runs its SQL) and "warm" as users meet it.
Prints one JSON object:

  {"events": N, "alerts": M, "threads": T, "requests": R,
   "routes": {name: {"p50_ms", "p95_ms", "min_ms", "status"}}}

Usage: python benchmarks/ui.py [--events 10000000] [--alerts 10000]
                               [--store-dir bench-out/query-store] [--requests 30]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np

from heron.detect.base import Detection

_HERE = Path(__file__).resolve().parent
PASSWORD = "benchmark password 0123"
TACTICS = [
    "attack.execution",
    "attack.persistence",
    "attack.credential-access",
    "attack.discovery",
    "attack.lateral-movement",
    "attack.command-and-control",
    "attack.exfiltration",
    "attack.defense-evasion",
]
LEVELS = ["low", "medium", "medium", "high", "high", "critical"]


def _query_bench() -> Any:
    spec = importlib.util.spec_from_file_location("heron_bench_query", _HERE / "query.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_alerts(data_dir: Path, wanted: int, seed: int = 11) -> int:
    """Add synthetic alerts until the store holds ``wanted``; returns the count."""
    from heron.alerts import AlertStore
    from heron.store.duckdb import DuckDBStore

    start_ns = 1_709_251_200_000_000_000
    week = 7 * 86_400 * 1_000_000_000
    rng = np.random.default_rng(seed)
    with DuckDBStore(data_dir) as store:
        alerts = AlertStore(store)
        have = alerts.count()
        while have < wanted:
            n = min(2000, wanted - have)
            detections = []
            for _ in range(n):
                rule = int(rng.integers(0, 60))
                ts = start_ns + int(rng.integers(0, week))
                detections.append(
                    Detection(
                        rule_id=f"bench-rule-{rule:02d}",
                        rule_name=f"Benchmark rule {rule:02d}",
                        level=LEVELS[rule % len(LEVELS)],
                        timestamp=ts,
                        event_ids=(f"ev{int(rng.integers(0, 10_000_000))}",),
                        tags=(TACTICS[rule % len(TACTICS)], f"attack.t{1000 + rule}"),
                        entities={
                            "user.name": f"user{int(rng.integers(0, 2000)):04d}",
                            "host.name": f"host-{int(rng.integers(0, 500)):03d}",
                            "source.ip": f"203.0.{int(rng.integers(0, 78))}.{rng.integers(1, 8)}",
                        },
                    )
                )
            alerts.add(detections)
            have = alerts.count()
        return have


def _login(client: httpx.Client) -> None:
    form = client.get("/ui/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/ui/login",
        data={"csrf": token.group(1), "username": "bench", "password": PASSWORD},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login failed: {answer.status_code} {answer.text[:200]}")


def _time(client: httpx.Client, url: str, repeats: int) -> dict[str, Any]:
    client.get(url)  # warm-up (connection, first compile)
    times = []
    status = 0
    for _ in range(repeats):
        t = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        status = answer.status_code
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(times[0], 1),
        "status": status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--store-dir", type=Path, default=Path("bench-out/query-store"))
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)

    info = _query_bench().build_store(args.store_dir, args.events)
    alert_count = add_alerts(args.store_dir, args.alerts)

    from heron.auth import AccountError, AuthStore

    auth = AuthStore(args.store_dir)
    try:
        auth.create_user("bench", PASSWORD, "analyst")
    except AccountError:
        auth.set_password("bench", PASSWORD)
    auth.close()

    sys.path.insert(0, str(_HERE.parent / "tests"))
    from heron.runtime import open_node
    from heron.web import pages_overview
    from ui.appserver import make_app, serving

    report: dict[str, Any] = {
        "events": args.events,
        "alerts": alert_count,
        "store": info,
        "requests": args.requests,
    }
    with open_node(args.store_dir, detect=False) as node, serving(make_app(node)) as url:
        report["threads"] = (
            node.store.query("SELECT current_setting('threads')").column(0)[0].as_py()
        )
        alerts = (
            node.store.query('SELECT "alert.id" FROM alerts ORDER BY risk_score DESC LIMIT 1')
            .column(0)[0]
            .as_py()
        )
        with httpx.Client(base_url=url, timeout=120) as client:
            _login(client)
            routes = {
                "overview_7d_warm": "/ui/?range=7d",
                "alert_queue": "/ui/alerts",
                "alert_queue_filtered": "/ui/alerts?level=high&level=critical"
                "&order=risk_score&page=3",
                "alert_detail": f"/ui/alerts/{alerts}",
                "search_filter_24h": "/ui/search?q=" + quote("user.name=user0001") + "&range=24h",
                "search_hunt_24h": "/ui/search?q="
                + quote('events | where host.name == "host-001" | take 100')
                + "&range=24h",
                "entity_user_7d": "/ui/entity/user/user0001?range=7d",
                "entity_host_7d": "/ui/entity/host/host-001?range=7d",
                "rules": "/ui/rules",
                "api_alerts": "/api/alerts?limit=50",
                "api_events": "/api/events?limit=100&user.name=user0001",
                "api_rules": "/api/rules",
                "api_entities": "/api/entities",
            }
            out: dict[str, Any] = {}
            for name, path in routes.items():
                out[name] = _time(client, path, args.requests)
            pages_overview.OVERVIEW_CACHE.ttl = 0.0
            out["overview_7d_cold"] = _time(client, "/ui/?range=7d", args.requests)
            out["overview_24h_cold"] = _time(client, "/ui/?range=24h", args.requests)
            report["routes"] = out
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
