"""Hunting-language speed: compile time, and each hunt beside hand-written DuckDB SQL.

Builds (once, cached under --store-dir) a store of --events synthetic events (default
10M: SSH logins, process starts, network flows, DNS lookups over a week, with a few
"needle" events), then times four hunts and the SQL an analyst would write for each, in
the same run, several repeats each. Prints one JSON object:

  {"events": N, "store_dir": ..., "threads": T,
   "hunts": {name: {"compile_ms": {"cold", "warm"}, "hunt_ms": {"min", "median"},
                    "hand_sql_ms": {"min", "median"}, "ratio": median hunt / median hand,
                    "ratio_min": fastest hunt / fastest hand,
                    "rows": n, "rows_agree": bool}},
   "needle_options": {...}}      # with --needle-options: free-text search alternatives

Usage: python benchmarks/query.py [--events 10000000] [--store-dir bench-out/query-store]
                                  [--repeats 5] [--threads N] [--needle-options]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from heron.model.schema import arrow_schema
from heron.query.compile import compile_query
from heron.query.parse import parse
from heron.query.run import execute
from heron.store.duckdb import DuckDBStore
from heron.store.textindex import candidate_spans

NEEDLE = "c2beacon-7f3a9"
_DAY_NS = 86_400_000_000_000
_START_NS = 1_709_251_200_000_000_000  # 2024-03-01T00:00:00Z
_BATCH = 1_000_000

HUNTS: dict[str, tuple[str, str]] = {
    "failed_logins_5m": (
        'events | where event.category == "authentication" and event.outcome == "failure" '
        "| summarize failures = count() by source.ip, bin(@timestamp, 5m) | where failures > 10",
        """SELECT "source.ip", time_bucket(INTERVAL 5 MINUTE, "@timestamp") AS "@timestamp",
                  count(*) AS failures
           FROM events
           WHERE list_contains("event.category", 'authentication') AND "event.outcome" = 'failure'
           GROUP BY ALL HAVING count(*) > 10""",
    ),
    "rare_processes": (
        'events | where event.category == "process" '
        "| summarize hosts = dcount(host.name), runs = count() by process.name | where hosts <= 2",
        """SELECT "process.name", count(DISTINCT "host.name") AS hosts, count(*) AS runs
           FROM events WHERE list_contains("event.category", 'process')
           GROUP BY ALL HAVING count(DISTINCT "host.name") <= 2""",
    ),
    "top_talkers": (
        'events | where event.category == "network" '
        "| summarize sent = sum(tolong(source.bytes)) by source.ip | top 10 by sent",
        """SELECT "source.ip", sum(CAST(extra->>'$."source.bytes"' AS BIGINT))::BIGINT AS sent
           FROM events WHERE list_contains("event.category", 'network')
           GROUP BY ALL ORDER BY sent DESC LIMIT 10""",
    ),
    "needle": (
        f'search "{NEEDLE}" | project @timestamp, host.name, event.original',
        f"""SELECT "@timestamp", "host.name", "event.original" FROM events
           WHERE "event.original" ILIKE '%{NEEDLE}%' OR message ILIKE '%{NEEDLE}%'""",
    ),
}


# -- the synthetic store -----------------------------------------------------------------


def _pick(rng: np.random.Generator, values: list[str], n: int, zipf: float = 0.0) -> pa.Array:
    if zipf:
        ranks = np.minimum(rng.zipf(zipf, n) - 1, len(values) - 1)
    else:
        ranks = rng.integers(0, len(values), n)
    return pa.array(values).take(pa.array(ranks))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _batch(rng: np.random.Generator, first: int, n: int, day_span: float, total: int) -> pa.Table:
    """``n`` events, ids from ``first``, times spread evenly over the week in order."""
    # Kinds: 0 ssh login, 1 process start, 2 network flow, 3 dns lookup.
    kind = rng.choice(4, n, p=[0.30, 0.30, 0.35, 0.05])
    lo = _START_NS + int(first / total * day_span * _DAY_NS)
    hi = _START_NS + int((first + n) / total * day_span * _DAY_NS)
    ts = np.sort(rng.integers(lo, hi, n))
    hosts = [f"host-{i:03d}" for i in range(500)]
    users = [f"user{i:04d}" for i in range(2000)]
    names = [f"proc{i:03d}.exe" for i in range(300)]
    ext_ips = [f"203.{i // 256 % 256}.{i % 256}.{i % 7 + 1}" for i in range(20000)]
    int_ips = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(5000)]
    dst_ips = [f"198.51.{i // 256 % 256}.{i % 256}" for i in range(10000)]

    host = _pick(rng, hosts, n, 1.3)
    user = _pick(rng, users, n, 1.2)
    src_ext = _pick(rng, ext_ips, n, 1.1)
    src_int = _pick(rng, int_ips, n, 1.2)
    dst = _pick(rng, dst_ips, n, 1.2)
    port = rng.integers(1024, 65535, n)
    dport = pa.array(np.array([443, 80, 22, 445, 53, 8443, 3389])[rng.integers(0, 7, n)])
    # A long tail of process names: most from 300 common ones, 1% one-offs.
    common = _pick(rng, names, n, 1.4)
    rare = _join("rare", _text(rng.integers(0, 200_000, n)), ".exe")
    pname = pc.if_else(pa.array(rng.random(n) < 0.01), rare, common)
    sent = rng.integers(100, 2_000_000, n)
    failed = rng.random(n) < 0.25

    is_ = {k: pa.array(kind == k) for k in range(4)}
    outcome = pc.if_else(pa.array(failed), "failure", "success")
    ssh_msg = _join(
        pc.if_else(pa.array(failed), "Failed", "Accepted"),
        " password for ",
        user,
        " from ",
        src_ext,
        " port ",
        _text(port),
        " ssh2",
    )
    ssh_raw = _join("Mar  1 10:00:00 ", host, " sshd[4242]: ", ssh_msg)
    cmd = _join(pname, " --run ", _text(rng.integers(0, 1_000_000, n)), " --mode quiet")
    proc_raw = _join(
        "<Event><System><EventID>1</EventID><Computer>",
        host,
        "</Computer></System><EventData><Data Name='Image'>C:\\Windows\\",
        pname,
        "</Data><Data Name='CommandLine'>",
        cmd,
        "</Data></EventData></Event>",
    )
    flow_raw = _join(
        "flow src=",
        src_int,
        " dst=",
        dst,
        " dport=",
        pc.cast(dport, pa.string()),
        " bytes=",
        _text(sent),
        " proto=tcp",
    )
    qname = _join("q", _text(rng.integers(0, 50_000, n)), ".example.com")
    dns_raw = _join("QueryName: ", qname, " QueryStatus: 0")

    def by_kind(ssh: Any, proc: Any, flow: Any, dns: Any) -> pa.Array:
        out = pc.if_else(is_[0], ssh, pc.if_else(is_[1], proc, pc.if_else(is_[2], flow, dns)))
        return out

    null_s = pa.scalar(None, pa.string())
    original = by_kind(ssh_raw, proc_raw, flow_raw, dns_raw)
    category_vocab = pa.array(
        [["authentication"], ["process"], ["network"], ["network"]], pa.list_(pa.string())
    )
    type_vocab = pa.array(
        [["start"], ["start"], ["connection"], ["protocol"]], pa.list_(pa.string())
    )
    columns: dict[str, pa.Array] = {
        "@timestamp": pa.array(ts, pa.timestamp("ns", tz="UTC")),
        "event.ingested": pa.array(ts + 1_000_000_000, pa.timestamp("ns", tz="UTC")),
        "event.id": _join("ev", _text(np.arange(first, first + n))),
        "event.kind": pa.array(np.full(n, "event")),
        "event.category": category_vocab.take(pa.array(kind)),
        "event.type": type_vocab.take(pa.array(kind)),
        "event.action": pa.array(["ssh_login", "process_created", "flow", "dns_query"]).take(
            pa.array(kind)
        ),
        "event.outcome": by_kind(outcome, null_s, null_s, null_s),
        "event.module": pa.array(["sshd", "sysmon", "netflow", "sysmon"]).take(pa.array(kind)),
        "host.name": host,
        "user.name": by_kind(user, user, null_s, user),
        "source.ip": by_kind(src_ext, null_s, src_int, null_s),
        "source.port": pc.if_else(is_[0], pa.array(port), pa.scalar(None, pa.int64())),
        "destination.ip": by_kind(null_s, null_s, dst, null_s),
        "destination.port": pc.if_else(is_[2], dport, pa.scalar(None, pa.int64())),
        "process.name": by_kind(null_s, pname, null_s, null_s),
        "process.command_line": by_kind(null_s, cmd, null_s, null_s),
        "dns.question.name": by_kind(null_s, null_s, null_s, qname),
        "message": by_kind(ssh_msg, null_s, null_s, null_s),
        "event.original": original,
        "extra": by_kind(
            null_s,
            _join('{"Image":"C:\\\\Windows\\\\', pname, '","CommandLine":"', cmd, '"}'),
            _join('{"source.bytes":', _text(sent), "}"),
            null_s,
        ),
    }
    schema = arrow_schema()
    arrays = [columns.get(f.name, pa.nulls(n, f.type)).cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _plant_needles(table: pa.Table, rng: np.random.Generator) -> pa.Table:
    i = table.schema.get_field_index("event.original")
    original = table.column(i).combine_chunks()
    rows = set(rng.choice(table.num_rows, 3, replace=False).tolist())
    mask = pa.array([r in rows for r in range(table.num_rows)])
    planted = pc.if_else(mask, _join(original, f" beacon={NEEDLE}"), original)
    return table.set_column(i, "event.original", planted)


def build_store(path: Path, events: int, seed: int = 7) -> dict[str, Any]:
    """The cached store, built if absent or of another size; returns how it was made."""
    marker = path / "bench-events.json"
    if marker.exists():
        info: dict[str, Any] = json.loads(marker.read_text())
        if info.get("events") == events:
            return info
    if path.exists():
        import shutil

        shutil.rmtree(path)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with DuckDBStore(path) as store:
        needle_batch = rng.integers(0, max(1, events // _BATCH))
        for b, first in enumerate(range(0, events, _BATCH)):
            n = min(_BATCH, events - first)
            table = _batch(rng, first, n, 7.0, events)
            if b == needle_batch:
                table = _plant_needles(table, rng)
            store.append(table)
    info = {"events": events, "seed": seed, "build_s": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(info))
    return info


# -- measuring ---------------------------------------------------------------------------


def _ms(fn: Any, repeats: int) -> tuple[list[float], Any]:
    times = []
    result = None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, result


def _summary(times: list[float]) -> dict[str, float]:
    return {"min": round(min(times), 1), "median": round(statistics.median(times), 1)}


def compile_times(query: str) -> dict[str, float]:
    """First compile of this text (parser tables already built) and the warm average."""
    t = time.perf_counter()
    compile_query(query)
    cold = (time.perf_counter() - t) * 1000
    n = 200
    t = time.perf_counter()
    for _ in range(n):
        compile_query(query)
    warm = (time.perf_counter() - t) * 1000 / n
    return {"cold": round(cold, 2), "warm": round(warm, 2)}


def _canonical(table: pa.Table) -> list[tuple[Any, ...]]:
    ints = table
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):  # hand SQL may give microseconds, hunts nanoseconds
            ns = table.column(i).cast(pa.timestamp("ns", tz=f.type.tz)).cast(pa.int64())
            ints = ints.set_column(i, f.name, ns)
    return sorted(tuple(r.values()) for r in ints.to_pylist())


def run_hunts(store: DuckDBStore, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (hunt, sql) in HUNTS.items():
        # One untimed run of each warms the caches; then they alternate, so a busy
        # machine slows both alike.
        result = execute(store, hunt, limit=None)
        hand = store.query(sql)
        hunt_times: list[float] = []
        hand_times: list[float] = []
        for _ in range(repeats):
            hunt_times.extend(_ms(lambda h=hunt: execute(store, h, limit=None), 1)[0])
            hand_times.extend(_ms(lambda s=sql: store.query(s), 1)[0])
        table = result.table
        ratio = statistics.median(hunt_times) / statistics.median(hand_times)
        out[name] = {
            "hunt": hunt,
            "compile_ms": compile_times(hunt),
            "hunt_ms": _summary(hunt_times),
            "hand_sql_ms": _summary(hand_times),
            "ratio": round(ratio, 2),
            "ratio_min": round(min(hunt_times) / min(hand_times), 2),
            "rows": table.num_rows,
            "rows_agree": _canonical(table) == _canonical(hand),
        }
    return out


def needle_options(store: DuckDBStore, repeats: int) -> dict[str, Any]:
    """Free-text search alternatives over event.original, each timed on the same store."""
    options = {
        "ilike": f"SELECT count(*) FROM events WHERE \"event.original\" ILIKE '%{NEEDLE}%'",
        "contains_lower": "SELECT count(*) FROM events "
        f"WHERE contains(lower(\"event.original\"), '{NEEDLE}')",
        "like_cased": f"SELECT count(*) FROM events WHERE \"event.original\" LIKE '%{NEEDLE}%'",
        "contains_cased": "SELECT count(*) FROM events "
        f"WHERE contains(\"event.original\", '{NEEDLE}')",
        "regexp_ci": "SELECT count(*) FROM events "
        f"WHERE regexp_matches(\"event.original\", '(?i){NEEDLE}')",
    }
    out: dict[str, Any] = {}
    for name, sql in options.items():
        times, table = _ms(lambda s=sql: store.query(s), repeats)
        out[name] = {**_summary(times), "rows": table.column(0)[0].as_py()}
    # The skip index the store keeps (heron.store.textindex): lookup cost and size.
    cur = store.connection()
    times, found = _ms(lambda: candidate_spans(cur, NEEDLE), repeats)
    blocks, size = cur.execute(
        "SELECT count(*), sum(octet_length(bloom)) FROM text_blocks"
    ).fetchall()[0]
    out["skip_index"] = {
        "lookup_ms": _summary(times),
        "candidate_spans": None if found.spans is None else len(found.spans),
        "blocks": blocks,
        "bytes": size,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--store-dir", type=Path, default=Path("bench-out/query-store"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: default)")
    parser.add_argument("--needle-options", action="store_true")
    args = parser.parse_args(argv)
    info = build_store(args.store_dir, args.events)
    parse("events | take 1")  # build the parser tables outside the timings
    with DuckDBStore(args.store_dir) as store:
        if args.threads:
            store.connection().execute(f"SET threads = {int(args.threads)}")
        threads = store.query("SELECT current_setting('threads')").column(0)[0].as_py()
        report: dict[str, Any] = {
            "events": args.events,
            "store_dir": str(args.store_dir),
            "store": info,
            "threads": threads,
            "hunts": run_hunts(store, args.repeats),
        }
        if args.needle_options:
            report["needle_options"] = needle_options(store, args.repeats)
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
