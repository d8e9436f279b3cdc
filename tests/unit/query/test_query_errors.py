"""Compile errors: typed, placed with a caret, and carrying a hint a person can act on."""

from __future__ import annotations

import pytest

from heron.query.compile import compile_query
from heron.query.errors import (
    QueryError,
    QueryLimitError,
    QueryTypeError,
    UnknownFieldError,
    UnknownFunctionError,
)
from heron.query.schema import Catalog, QType, Relation


def error_of(query: str, **kwargs: object) -> QueryError:
    with pytest.raises(QueryError) as info:
        compile_query(query, **kwargs)  # type: ignore[arg-type]
    return info.value


def under_caret(err: QueryError) -> str:
    assert err.span is not None
    return err.query[err.span.start : err.span.end]


def test_a_typo_of_a_core_field_is_caught_with_a_suggestion() -> None:
    err = error_of('events | where usr.name == "root"')
    assert isinstance(err, UnknownFieldError)
    assert str(err).startswith("unknown field 'usr.name' — did you mean 'user.name'?")
    assert under_caret(err) == "usr.name"
    assert "['usr.name']" in (err.hint or "")


def test_case_slips_are_caught_too() -> None:
    err = error_of("events | where Host.Name == 'x'")
    assert "did you mean 'host.name'" in str(err)


def test_vendor_fields_are_read_from_extra_without_complaint() -> None:
    for name in ("Image", "TargetUserName", "eventName", "userIdentity.type", "hostname"):
        sql = compile_query(f'events | where {name} == "x"').sql
        assert "json_extract_string" in sql.lower()


def test_a_quoted_name_skips_the_typo_check() -> None:
    sql = compile_query("events | where ['usr.name'] == 'x'").sql
    assert '$."usr.name"' in sql


def test_after_project_only_projected_columns_exist() -> None:
    err = error_of("events | project user.name, host.name | where source.ip == '1.2.3.4'")
    assert isinstance(err, UnknownFieldError)
    assert under_caret(err) == "source.ip"
    assert "fields here: user.name, host.name" in str(err)


def test_after_summarize_a_near_miss_is_suggested() -> None:
    err = error_of("events | summarize failures = count() by source.ip | where failure > 5")
    assert "did you mean 'failures'" in str(err)


def test_unknown_function() -> None:
    err = error_of("events | extend x = tolowr(user.name)")
    assert isinstance(err, UnknownFunctionError)
    assert "did you mean 'tolower'" in str(err)
    assert under_caret(err) == "tolowr"


def test_unknown_table() -> None:
    err = error_of("evnets | take 1")
    assert isinstance(err, UnknownFieldError)
    assert "unknown table 'evnets' — did you mean 'events'?" in str(err)


@pytest.mark.parametrize(
    ("query", "message", "caret"),
    [
        ('events | where source.port == "22"', "cannot compare a long with a string", "=="),
        ("events | where @timestamp > 5", "cannot compare a datetime with a long", ">"),
        ('events | where @timestamp > "yesterday"', "not a datetime", None),
        ("events | where user.name", "a condition must be true or false", "user.name"),
        ("events | where not user.name", "'not' needs a condition", None),
        ('events | extend x = user.name + "a"', "cannot apply '+'", "+"),
        ("events | where event.category > 'a'", "cannot compare a list with a string", ">"),
        ("events | where user.name has ''", "non-empty term", None),
        ("events | where user.name has host.name", "constant term", None),
        ("events | where x matches regex '(a'", "invalid regular expression", None),
        ("events | where x matches regex '(a)\\\\1'", "invalid regular expression", None),
        ("events | extend n = count()", "count() is an aggregate", "count"),
        ("events | summarize sum(count())", "aggregates cannot be nested", None),
        ("events | summarize user.name", "neither in 'by' nor inside an aggregate", None),
        ("events | summarize x = 1", "summarize computes aggregates", None),
        ("events | summarize n = count() + source.port", "neither in 'by'", "source.port"),
        ("events | take -1", "take needs a whole number", None),
        ("events | take 'a'", "take needs a whole number", None),
        ("events | extend x = bin(@timestamp, 0s)", "greater than zero", None),
        ("events | extend x = bin(@timestamp, 5)", "needs a timespan", None),
        ("events | extend x = substring(user.name)", "takes 2 to 3 arguments", None),
        ("events | project a = 1, a = 2", "two columns would be named 'a'", None),
        ("events | join kind=sideways (events) on user.name", "unknown join kind", "sideways"),
        ("let t = events | project user.name; events | extend y = t", "is a table", "t"),
        ("let t = events; events | where user.name in (t)", "exactly one column", None),
        ("events | project-away nothere", "unknown column 'nothere'", "nothere"),
        ('search ""', "search needs some text", None),
        ("events | project user.name | search 'x'", "search looks in", None),
        ("events | extend x = arg_max(@timestamp, *)", "must stand alone", None),
    ],
)
def test_type_and_usage_errors(query: str, message: str, caret: str | None) -> None:
    err = error_of(query)
    assert message in str(err)
    assert err.query == query
    if caret is not None:
        assert under_caret(err) == caret


def test_join_needs_known_columns() -> None:
    err = error_of("events | join (alerts) on host.name")
    assert isinstance(err, QueryTypeError)
    assert "columns of both sides" in str(err)
    # Once the store has told the compiler the alerts columns, the join compiles.
    alerts = Relation("alerts", "alerts", {"host.name": QType.STRING, "rule.name": QType.STRING})
    catalog = Catalog().with_relation(alerts)
    sql = compile_query("events | join (alerts) on host.name", catalog=catalog).sql
    assert '"rule.name"' in sql


def test_unknown_alert_columns_are_accepted_until_run() -> None:
    sql = compile_query("alerts | where rule.level == 'high' | project rule.name").sql
    assert sql == 'SELECT "rule.name" FROM alerts WHERE CAST("rule.level" AS TEXT) = \'high\''


def test_too_many_stages() -> None:
    err = error_of("events" + " | take 1" * 70)
    assert isinstance(err, QueryLimitError)


def test_too_many_in_values() -> None:
    values = ", ".join(str(i) for i in range(10_050))
    err = error_of(f"events | where source.port in ({values})")
    assert isinstance(err, QueryLimitError)
