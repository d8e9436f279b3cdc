"""docs/reference/hunting-language.md cannot drift: every example runs, and shows its result.

Each ```kql block of the page is parsed, compiled for DuckDB and ClickHouse, and run on
the sample events (``heron.query.sample``) with alerts made from them; the table after it
(between ``<!-- result -->`` markers) must be what the hunt returns. After a change to
the language, ``HERON_UPDATE_DOCS=1 pytest tests/integration/test_query_docs.py``
rewrites the tables; review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from heron.detect.base import Detection
from heron.query.compile import compile_query
from heron.query.functions import FUNCTIONS
from heron.query.parse import STAGE_KEYWORDS
from heron.query.rows import text_rows
from heron.query.run import execute
from heron.query.sample import SAMPLE_NOW, sample_table
from heron.store.duckdb import DuckDBStore

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "hunting-language.md"
_BLOCK = re.compile(r"```kql\n(.*?)```\n(?:\n<!-- result -->\n.*?<!-- /result -->\n)?", re.S)
MAX_SHOWN = 8


def _alerts(store: DuckDBStore) -> None:
    alerts = pytest.importorskip("heron.alerts.store", reason="the alert store is not here")
    detections = [
        Detection(
            "ssh-burst",
            "SSH password guessing",
            "high",
            SAMPLE_NOW - 3_000_000_000_000,
            ("e001", "e002", "e003"),
            ("attack.t1110",),
            {"source.ip": "203.0.113.9", "host.name": "web01"},
        ),
        Detection(
            "encoded-ps",
            "Encoded PowerShell",
            "medium",
            SAMPLE_NOW - 2_000_000_000_000,
            ("e011",),
            ("attack.t1059.001",),
            {"host.name": "ws01", "user.name": "alice"},
        ),
        Detection(
            "root-login",
            "AWS root console login",
            "critical",
            SAMPLE_NOW - 1_000_000_000_000,
            ("e027",),
            ("attack.t1078.004",),
            {"user.name": "root", "source.ip": "203.0.113.9"},
        ),
    ]
    alerts.AlertStore(store, clock=lambda: SAMPLE_NOW).add(detections)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DuckDBStore:
    s = DuckDBStore(tmp_path_factory.mktemp("docs") / "data")
    s.append(sample_table())
    _alerts(s)
    return s


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(table: pa.Table, query: str) -> str:
    rows = text_rows(table)
    if not re.search(r"\b(sort|order|top)\b", query):
        rows.sort(key=lambda r: [_cell(v) for v in r.values()])  # a stable order to show
    names = table.column_names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows[:MAX_SHOWN]:
        lines.append("| " + " | ".join(_cell(row[n]) for n in names) + " |")
    if len(rows) > MAX_SHOWN:
        lines.append(f"\n… {len(rows) - MAX_SHOWN} more rows")
    if not rows:
        lines = ["(no rows)"]
    return "\n".join(lines)


def rendered_doc(text: str, store: DuckDBStore) -> str:
    def replace(match: re.Match[str]) -> str:
        query = match.group(1)
        compile_query(query, dialect="clickhouse", now_ns=SAMPLE_NOW)
        table = execute(store, query, now_ns=SAMPLE_NOW, limit=None).table
        return f"```kql\n{query}```\n\n<!-- result -->\n{render(table, query)}\n<!-- /result -->\n"

    return _BLOCK.sub(replace, text)


def test_every_example_runs_and_shows_its_result(store: DuckDBStore) -> None:
    text = DOC.read_text("utf-8")
    assert len(_BLOCK.findall(text)) >= 40
    expected = rendered_doc(text, store)
    if os.environ.get("HERON_UPDATE_DOCS"):
        DOC.write_text(expected, "utf-8")
        pytest.skip("result tables rewritten")
    assert text == expected, "a result table is stale: HERON_UPDATE_DOCS=1 to rewrite, then review"


def test_every_stage_operator_and_function_has_an_example() -> None:
    examples = "\n".join(_BLOCK.findall(DOC.read_text("utf-8")))
    missing = [f for f in FUNCTIONS if not re.search(rf"\b{re.escape(f)}\(", examples)]
    assert missing == [], f"functions without an example: {missing}"
    stages = [
        s for s in STAGE_KEYWORDS if not re.search(rf"\|\s*{re.escape(s)}\b|^{s}\b", examples, re.M)
    ]
    assert stages == [], f"stages without an example: {stages}"
    operators = [
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "=~",
        "!~",
        " has ",
        "!has",
        "has_cs",
        "hasprefix",
        "hassuffix",
        " contains ",
        "!contains",
        "contains_cs",
        "startswith",
        "startswith_cs",
        "endswith",
        "endswith_cs",
        "matches regex",
        " in (",
        "!in (",
        "in~",
        "!in~",
        "has_any",
        "has_all",
        " between ",
        "!between",
        " and ",
        " or ",
        "not(",
        "+",
        "-",
        "*",
        "/",
        "%",
        "kind=inner",
        "kind=leftouter",
        "kind=leftanti",
        "kind=leftsemi",
        "kind=rightouter",
        "kind=fullouter",
        "let ",
        "datetime(",
        "dynamic(",
        '@"',
        "ago(",
        "now(",
    ]
    absent = [op for op in operators if op not in examples]
    assert absent == [], f"operators without an example: {absent}"
