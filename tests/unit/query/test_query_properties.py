"""Properties of the compiler: it never crashes, and user text only ever lands in literals."""

from __future__ import annotations

import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from heron.model.schema import CORE_FIELDS
from heron.query.compile import compile_query
from heron.query.errors import QueryError
from heron.query.sample import SAMPLE_NOW

VOCAB = [
    "events",
    "alerts",
    "|",
    "where",
    "project",
    "extend",
    "summarize",
    "by",
    "count()",
    "take",
    "top",
    "sort",
    "distinct",
    "join",
    "kind=inner",
    "(",
    ")",
    "on",
    "let",
    "=",
    ";",
    ",",
    "==",
    "!=",
    "<",
    ">=",
    "has",
    "!has",
    "contains",
    "startswith",
    "in",
    "!in",
    "between",
    "..",
    "and",
    "or",
    "not",
    "user.name",
    "@timestamp",
    "event.category",
    "Image",
    "source.port",
    '"x"',
    "'y'",
    "5",
    "1.5",
    "5m",
    "ago(1h)",
    "bin(@timestamp, 5m)",
    "dcount(host.name)",
    "arg_max(@timestamp, *)",
    "make_set(user.name)",
    "*",
    "-",
    "+",
    "matches regex",
    '"(a|b)"',
    "datetime(2024-01-01)",
    "search",
    "project-away",
    "dynamic([1,2])",
    "['odd name']",
    "iff(",
    "strcat(",
    "tolower(",
    "$left.a",
    "$right.a",
]


def _check_compiles_or_clean_error(query: str) -> None:
    for dialect in ("duckdb", "clickhouse"):
        try:
            compiled = compile_query(query, dialect=dialect, now_ns=SAMPLE_NOW)
        except QueryError as exc:
            assert exc.message  # a clean error says what went wrong
            str(exc)  # and renders
            return
        assert compiled.sql.startswith(("SELECT", "WITH"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_compiles_or_fails_cleanly(text: str) -> None:
    _check_compiles_or_clean_error(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=25))
def test_token_soup_compiles_or_fails_cleanly(tokens: list[str]) -> None:
    _check_compiles_or_clean_error(" ".join(tokens))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=12))
def test_queries_after_a_valid_prefix_compile_or_fail_cleanly(tokens: list[str]) -> None:
    _check_compiles_or_clean_error("events | where user.name == 'a' | " + " ".join(tokens))


# -- user text reaches SQL only inside literals ------------------------------------------


def kusto_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


TEMPLATES = [
    "events | where user.name == {s}",
    "events | where process.command_line contains {s} or message !startswith {s}",
    "events | where Image has {s}",
    "events | where event.category has_any ({s}, 'x')",
    "events | where user.name in~ ({s}, 'x') and host.name !in ({s})",
    "search {s}",
    "events | extend y = strcat(user.name, {s}) | project y",
    "events | where ['{n}'] == 'x'",
    "events | summarize n = countif(Image endswith {s}) by host.name",
]


def _mask(node: exp.Expr) -> exp.Expr:
    # String literals, and JSON paths (sqlglot reads '$."key"' into a path object).
    if isinstance(node, exp.JSONPath) or (isinstance(node, exp.Literal) and node.is_string):
        return exp.Literal.string("?")
    return node


def _shape(sql: str, dialect: str) -> str:
    return sqlglot.parse_one(sql, read=dialect).transform(_mask).sql(dialect=dialect)


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != ""),
    st.sampled_from(TEMPLATES),
    st.sampled_from(["duckdb", "clickhouse"]),
)
def test_user_strings_only_reach_sql_as_literals(text: str, template: str, dialect: str) -> None:
    """Whatever the text, the SQL has the same shape as with a harmless word in its place."""
    if "{n}" in template and text in CORE_FIELDS:
        return  # a core field is a typed column of its own, not a key of "extra"
    probe = template.format(s=kusto_string(text), n=text)
    plain = template.format(s=kusto_string("harmless"), n="harmless")
    try:
        sql = compile_query(probe, dialect=dialect, now_ns=SAMPLE_NOW).sql
    except QueryError:
        return  # refused (e.g. an unusable field name): nothing reached SQL
    expected = compile_query(plain, dialect=dialect, now_ns=SAMPLE_NOW).sql
    assert _shape(sql, dialect) == _shape(expected, dialect)


def test_classic_injections_stay_literals() -> None:
    for attack in ["'; DROP TABLE events; --", "\\'; SELECT 1; --", "x' OR '1'='1", '") OR 1=1 --']:
        query = f"events | where user.name == {kusto_string(attack)}"
        for dialect in ("duckdb", "clickhouse"):
            sql = compile_query(query, dialect=dialect).sql
            (literal,) = [
                n for n in sqlglot.parse_one(sql, read=dialect).find_all(exp.Literal) if n.is_string
            ]
            assert literal.this == attack
