"""Parsing hunts: the syntax tree of each construct, literals, and the size limits."""

from __future__ import annotations

import pytest

from heron.model.timeutil import parse_timestamp
from heron.query import ast
from heron.query.errors import QueryLimitError, QuerySyntaxError
from heron.query.parse import MAX_DEPTH, MAX_QUERY_CHARS, parse


def where_of(text: str) -> ast.Expr:
    stage = parse(text).pipeline.stages[0]
    assert isinstance(stage, ast.Where)
    return stage.predicate


def test_dotted_ecs_names_are_fields_unquoted() -> None:
    pred = where_of('events | where user.name == "alice" and @timestamp > ago(1h)')
    assert isinstance(pred, ast.BoolOp) and pred.op == "and"
    first, second = pred.operands
    assert isinstance(first, ast.Binary) and first.op == "=="
    assert first.left == ast.FieldRef("user.name", first.left.span)
    assert isinstance(second, ast.Binary) and isinstance(second.right, ast.Call)
    assert second.right.name == "ago"


def test_spans_point_into_the_text() -> None:
    text = 'events | where process.name has "cmd"'
    pred = where_of(text)
    assert isinstance(pred, ast.Binary)
    assert text[pred.left.span.start : pred.left.span.end] == "process.name"
    assert text[pred.op_span.start : pred.op_span.end] == "has"


@pytest.mark.parametrize(
    ("literal", "kind", "value"),
    [
        ('"a\\"b\\\\c"', ast.LitKind.STRING, 'a"b\\c'),
        ("'it''s'", None, None),
        ('@"C:\\Windows\\cmd.exe"', ast.LitKind.STRING, "C:\\Windows\\cmd.exe"),
        ('@"say ""hi"""', ast.LitKind.STRING, 'say "hi"'),
        ("42", ast.LitKind.LONG, 42),
        ("-7", ast.LitKind.LONG, -7),
        ("2.5", ast.LitKind.REAL, 2.5),
        ("1e3", ast.LitKind.REAL, 1000.0),
        ("5m", ast.LitKind.TIMESPAN, 300_000_000_000),
        ("1.5h", ast.LitKind.TIMESPAN, 5_400_000_000_000),
        ("250ms", ast.LitKind.TIMESPAN, 250_000_000),
        ("7d", ast.LitKind.TIMESPAN, 7 * 86_400_000_000_000),
        ("true", ast.LitKind.BOOL, True),
        (
            "datetime(2024-03-01 10:30:00.123456789Z)",
            ast.LitKind.DATETIME,
            parse_timestamp("2024-03-01T10:30:00.123456789Z"),
        ),
        ("datetime(2024-03-01)", ast.LitKind.DATETIME, parse_timestamp("2024-03-01T00:00:00Z")),
        (
            "datetime(2024-03-01T12:00:00+02:00)",
            ast.LitKind.DATETIME,
            parse_timestamp("2024-03-01T10:00:00Z"),
        ),
    ],
)
def test_literals(literal: str, kind: ast.LitKind | None, value: object) -> None:
    if kind is None:  # Kusto has no '' escape in single-quoted strings
        with pytest.raises(QuerySyntaxError):
            parse(f"events | where x == {literal}")
        return
    pred = where_of(f"events | where x == {literal}")
    assert isinstance(pred, ast.Binary) and isinstance(pred.right, ast.Literal)
    assert pred.right.kind is kind
    assert pred.right.value == value


def test_every_stage_parses() -> None:
    text = (
        "let n = 3; let bad = events | where event.outcome == 'failure' | project user.name;\n"
        "events\n"
        "| where user.name in (bad) and source.port between (1 .. 1024)\n"
        "| search 'ssh'\n"
        "| extend hour = hourofday(@timestamp), cmd = tolower(process.command_line)\n"
        "| project-rename who = user.name\n"
        "| project-away event.*, message\n"
        "| summarize n = count(), arg_max(@timestamp, *) by who, bin(@timestamp, 5m)\n"
        "| top 10 by n desc nulls last\n"
        "| sort by who asc\n"
        "| take 5\n"
        "| join kind=leftouter (alerts | project who = user.name, rule.name) on who\n"
        "| distinct who, rule.name\n"
        "| project who\n"
        "| count"
    )
    query = parse(text)
    assert [let.name for let in query.lets] == ["n", "bad"]
    assert isinstance(query.lets[1].value, ast.Pipeline)
    kinds = [type(s).__name__ for s in query.pipeline.stages]
    assert kinds == [
        "Where",
        "Search",
        "Extend",
        "ProjectRename",
        "ProjectAway",
        "Summarize",
        "Top",
        "Sort",
        "Take",
        "Join",
        "Distinct",
        "Project",
        "Count",
    ]
    join = query.pipeline.stages[9]
    assert isinstance(join, ast.Join) and join.kind == "leftouter"
    assert join.right.source.name == "alerts"


def test_sort_defaults_to_descending_like_kusto() -> None:
    stage = parse("events | sort by a, b asc").pipeline.stages[0]
    assert isinstance(stage, ast.Sort)
    assert [k.descending for k in stage.keys] == [True, False]


def test_search_as_the_first_stage_reads_events() -> None:
    query = parse('search "mimikatz" | take 5')
    assert query.pipeline.source.name == "events"
    assert isinstance(query.pipeline.stages[0], ast.Search)


def test_join_with_left_and_right_keys() -> None:
    stage = parse("events | join (alerts) on $right.host.name == $left.host.name").pipeline.stages[
        0
    ]
    assert isinstance(stage, ast.Join)
    (key,) = stage.keys
    assert (key.left.name, key.right.name) == ("host.name", "host.name")


def test_keywords_can_still_be_field_names_where_unambiguous() -> None:
    pred = where_of("events | where count == 1 and by == 2")
    assert isinstance(pred, ast.BoolOp)


def test_quoted_field_names() -> None:
    pred = where_of("events | where ['user-agent'] has 'curl'")
    assert isinstance(pred, ast.Binary)
    assert pred.left == ast.FieldRef("user-agent", pred.left.span, quoted=True)


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        ("events | wher x == 1", "unexpected 'wher'", "did you mean 'where'?"),
        ("events | where x ==", "the query ends too early", None),
        ("events | summarise count()", "unexpected 'summarise'", "did you mean 'summarize'?"),
        ('events | where x == "C:\\Windows"', "unknown escape", "verbatim"),
        ("events | where x == datetime(2024-13-01)", "not a datetime", None),
        ("events | where x == 99999999999999999999", "number too large", None),
        ("   // only a comment", "the query is empty", None),
        ("events | join (alerts) on $left.a != $right.b", "compared with ==", None),
    ],
)
def test_syntax_errors_have_a_caret_and_a_hint(text: str, message: str, caret: str | None) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    rendered = str(info.value)
    assert message in rendered
    if info.value.span is not None:
        assert "^" in rendered
        assert info.value.line == 1 and info.value.column is not None
    if caret:
        assert caret in rendered


def test_caret_sits_under_the_bad_token_on_its_line() -> None:
    text = "events\n| where user.name == 'x'\n| summarise count()"
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    err = info.value
    assert (err.line, err.column) == (3, 3)
    lines = str(err).splitlines()
    assert lines[1].strip() == "| summarise count()"
    assert lines[2].index("^") == lines[1].index("summarise")


def test_a_query_over_the_size_limit_is_refused_before_parsing() -> None:
    text = "events | where " + " or ".join(f'user.name == "u{i}"' for i in range(6000))
    assert len(text) > MAX_QUERY_CHARS
    with pytest.raises(QueryLimitError, match="characters long"):
        parse(text)


def test_deep_nesting_is_a_clean_error() -> None:
    deep = "events | where " + "not " * (MAX_DEPTH + 5) + "x == 1"
    with pytest.raises(QueryLimitError, match="nests deeper"):
        parse(deep)
    arithmetic = "events | extend y = " + "-(" * 200 + "x" + ")" * 200
    with pytest.raises(QueryLimitError):
        parse(arithmetic)


def test_many_parentheses_and_long_or_chains_stay_cheap() -> None:
    parens = "events | where " + "(" * 5000 + "x == 1" + ")" * 5000
    assert isinstance(parse(parens).pipeline.stages[0], ast.Where)
    chain = "events | where " + " or ".join(f"x == {i}" for i in range(1000))
    pred = where_of(chain)
    assert isinstance(pred, ast.BoolOp) and len(pred.operands) == 1000
