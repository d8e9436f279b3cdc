"""The key=value splitter and the ``kv`` format."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.errors import ParseError
from heron.model.timeutil import format_ns
from heron.parsers.base import ParseContext
from heron.parsers.kv import KvParser, _split_general, _split_simple, split_kv

CTX = ParseContext(received=1_717_200_000_000_000_000)


def test_quoted_values_keep_blanks_and_escaped_quotes() -> None:
    record = split_kv(r'a=1 msg="say \"hi\" now" path="C:\\temp" b=2')
    assert record.pairs == {"a": "1", "msg": 'say "hi" now', "path": "C:\\temp", "b": "2"}


def test_unquoted_value_runs_over_blanks_until_the_next_key() -> None:
    pairs = split_kv("msg=User login failed user=bob url=/x?a=b&c=d").pairs
    assert pairs == {"msg": "User login failed", "user": "bob", "url": "/x?a=b&c=d"}


def test_text_before_the_first_pair_is_leading_text() -> None:
    record = split_kv("<189>date=2024-01-01 time=12:00:00")
    assert record.leading == "<189>"
    assert record.pairs == {"date": "2024-01-01", "time": "12:00:00"}


def test_empty_value_and_unterminated_quote() -> None:
    assert split_kv('a= b=2 c="open end').pairs == {"a": "", "b": "2", "c": '"open end'}


def test_kv_format_keeps_pairs_and_reads_time_and_syslog_header() -> None:
    event = KvParser().parse("<134>Feb  2 08:00:01 proxy01 app: client=10.0.0.5 action=block", CTX)
    assert event["client"] == "10.0.0.5"
    assert event["action"] == "block"
    assert event["host.name"] == "proxy01"
    assert format_ns(event["@timestamp"]) == "2024-02-02T08:00:01Z"
    event = KvParser().parse("ts=1706860800.5 user=bob reason=bad password", CTX)
    assert event["reason"] == "bad password"
    assert format_ns(event["@timestamp"]) == "2024-02-02T08:00:00.500Z"


def test_line_without_pairs_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no key=value pairs"):
        KvParser().parse("just some words", CTX)


_KV_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["a=1", "b=", 'c="x y"', 'd=""', "e=f=g", "<189>", "word", " ", "  "]),
        st.text(alphabet="ab=\" <>\\'.-_1", max_size=6),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_KV_TEXT)
def test_the_split_shortcut_agrees_with_the_general_splitter(text: str) -> None:
    simple = _split_simple(text)
    if simple is not None:
        general = _split_general(text)
        assert (simple.leading, simple.pairs) == (general.leading, general.pairs)
