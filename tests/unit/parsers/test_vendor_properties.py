"""Property tests of the vendor parsers: any input gives an event or a ParseError, never
another exception; and every event they give passes the model's validation.

Random text alone rarely gets past the first check of a parser, so the strategies also
mutate the golden records (cut, spliced, characters inserted) to reach the deep paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.parsers import get_parser
from heron.parsers.base import ParseContext

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
FORMATS = (
    "kv", "fortigate", "cisco_asa", "panos", "apache_access", "apache_error", "nginx_access",
    "suricata", "zeek", "azure", "gcp_audit", "okta", "o365", "otel_genai", "iis",
)  # fmt: skip
CTX = ParseContext(source="conn.log", received=1_717_200_000_000_000_000)


def _seeds(fmt: str) -> list[str]:
    lines: list[str] = []
    for path in sorted((GOLDEN / fmt).glob("*")):
        if path.name.endswith(".expected.json"):
            continue
        lines.extend(
            line for line in path.read_text().splitlines() if line.strip() and line[0] not in "#"
        )
    return lines or ["x"]


def _check(fmt: str, raw: str) -> None:
    try:
        event = get_parser(fmt).parse(raw, CTX)
    except ParseError:
        return
    validate_event(event)


def _mutated(seeds: list[str]) -> st.SearchStrategy[str]:
    seed = st.sampled_from(seeds)
    cut = st.tuples(seed, st.integers(0, 4000)).map(lambda s: s[0][: s[1]])
    splice = st.tuples(seed, st.integers(0, 4000), st.text(max_size=12)).map(
        lambda s: s[0][: s[1]] + s[2] + s[0][s[1] :]
    )
    replace = st.tuples(seed, st.integers(0, 4000), st.integers(1, 40), st.text(max_size=8)).map(
        lambda s: s[0][: s[1]] + s[3] + s[0][s[1] + s[2] :]
    )
    return st.one_of(cut, splice, replace, st.text(max_size=200))


@pytest.mark.parametrize("fmt", FORMATS)
def test_parsers_raise_only_parse_errors(fmt: str) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutated(_seeds(fmt)))
    def run(raw: str) -> None:
        _check(fmt, raw)

    run()
