"""Zeek: the TSV reader's per-file header state, JSON records, the log type."""

from __future__ import annotations

import pytest

from heron.errors import ParseError
from heron.parsers.base import ParseContext
from heron.parsers.zeek import ZeekParser, ZeekTsvReader, iter_zeek_tsv, iter_zeek_tsv_records

CTX = ParseContext(received=1_717_200_000_000_000_000)
HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\thttp",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\turi\ttags\tstatus_code",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tset[enum]\tcount",
]


def test_tsv_values_take_their_declared_types() -> None:
    line = "1707573610.25\tCx\t10.0.0.1\t5000\t10.0.0.2\t80\tGET\t/a\\x09b\tA,B\t-"
    (record,) = iter_zeek_tsv([*HEADER, line])
    assert record == {
        "_path": "http",
        "ts": 1707573610.25,
        "uid": "Cx",
        "id.orig_h": "10.0.0.1",
        "id.orig_p": 5000,
        "id.resp_h": "10.0.0.2",
        "id.resp_p": 80,
        "method": "GET",
        "uri": "/a\tb",
        "tags": ["A", "B"],
    }


def test_empty_set_and_a_new_header_mid_file() -> None:
    first = "1.0\tC1\t10.0.0.1\t1\t10.0.0.2\t2\tGET\t/\t(empty)\t200"
    other = [
        "#separator \\x09",
        "#path\tdns",
        "#fields\tts\tquery",
        "#types\ttime\tstring",
        "2.0\tx.example",
    ]
    records = list(iter_zeek_tsv([*HEADER, first, "#close\t2024", *other]))
    assert records[0]["tags"] == [] and records[0]["status_code"] == 200
    assert records[1] == {"_path": "dns", "ts": 2.0, "query": "x.example"}


def test_data_before_header_and_wrong_column_count_are_errors() -> None:
    with pytest.raises(ParseError, match="before its #fields"):
        ZeekTsvReader().feed("1.0\tC1")
    reader = ZeekTsvReader()
    for line in HEADER:
        reader.feed(line)
    with pytest.raises(ParseError, match="columns"):
        reader.feed("1.0\tC1")


def test_tsv_record_through_the_parser_and_a_bare_tsv_line_refused() -> None:
    line = "1707573610.25\tCx\t10.0.0.1\t5000\t10.0.0.2\t80\tGET\t/a?q=1\t(empty)\t404"
    (raw,) = iter_zeek_tsv_records([*HEADER, line])
    event = ZeekParser().parse(raw, CTX)
    assert event["event.dataset"] == "zeek.http"
    assert event["id.orig_h"] == "10.0.0.1"  # Zeek's own names, as SigmaHQ rules use them
    assert (event["url.query"], event["event.outcome"]) == ("q=1", "failure")
    with pytest.raises(ParseError, match="#fields header"):
        ZeekParser().parse(line, CTX)


def test_log_type_from_the_file_name_when_there_is_no_path() -> None:
    raw = '{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","query":"a.example","qtype_name":"A"}'
    ctx = ParseContext(source="/logs/dns.2024-02-10-14-00-00.log", received=CTX.received)
    event = ZeekParser().parse(raw, ctx)
    assert event["event.dataset"] == "zeek.dns"
    assert event["dns.question.name"] == "a.example"
    with pytest.raises(ParseError, match="no _path"):
        ZeekParser().parse(raw, CTX)
