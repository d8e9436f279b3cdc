"""Parse throughput of the vendor formats on their golden records, one core.

Each format's golden records (``tests/golden/<format>/``) are parsed over and over for
about ``--seconds`` per format; the figure is records per second of CPU time, the best of
``--repeat`` runs (the machine may be shared). Prints one JSON object:

  {"<format>": {"records": N, "records_per_s": R, "us_per_record": U}, ...}

Usage: python benchmarks/vendor_parsers.py [--seconds 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from heron.parsers import get_parser
from heron.parsers.azure import iter_azure_records
from heron.parsers.base import ParseContext
from heron.parsers.zeek import iter_zeek_tsv_records

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden"
FORMATS = (
    "kv", "fortigate", "cisco_asa", "panos", "apache_access", "nginx_access", "suricata",
    "zeek", "azure", "gcp_audit", "okta", "o365", "otel_genai",
)  # fmt: skip


def records_of(fmt: str) -> list[str]:
    out: list[str] = []
    for path in sorted((GOLDEN / fmt).glob("*")):
        if path.name.endswith(".expected.json"):
            continue
        text = path.read_text()
        if fmt == "zeek" and path.suffix == ".log":
            out.extend(iter_zeek_tsv_records(text.splitlines()))
        elif fmt == "azure":
            out.extend(iter_azure_records(text.encode()))
        else:
            out.extend(line for line in text.splitlines() if line.strip())
    return out


def measure(fmt: str, seconds: float) -> float:
    parser = get_parser(fmt)
    ctx = ParseContext(source="conn.log", received=1_717_200_000_000_000_000)
    records = records_of(fmt)
    done = 0
    start = time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for raw in records:
            parser.parse(raw, ctx)
        done += len(records)
    return done / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    out = {}
    for fmt in FORMATS:
        rate = max(measure(fmt, args.seconds) for _ in range(args.repeat))
        out[fmt] = {
            "records": len(records_of(fmt)),
            "records_per_s": round(rate),
            "us_per_record": round(1e6 / rate, 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
