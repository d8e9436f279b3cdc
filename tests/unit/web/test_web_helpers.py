"""Pivot links, time ranges and redirect targets."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from heron.errors import HeronError
from heron.query import ast
from heron.query.parse import parse
from heron.web.access import safe_next
from heron.web.render import entity_href, pivot_href
from heron.web.timerange import RANGES, bucket_for, resolve_range

NS = 1_000_000_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user.name", 'a"b\\c'),
        ("TargetUserName", "<script>alert(1)</script>"),
        ("user-agent", "x\ny"),
        ("user agent", "v"),
    ],
)
def test_pivot_links_carry_a_hunt_that_parses_to_the_same_value(field: str, value: str) -> None:
    query = parse_qs(urlsplit(pivot_href(field, value)).query)["q"][0]
    tree = parse(query)
    where = tree.pipeline.stages[0]
    assert isinstance(where, ast.Where)
    condition = where.predicate
    assert isinstance(condition, ast.Binary)
    assert isinstance(condition.left, ast.FieldRef) and condition.left.name == field
    assert isinstance(condition.right, ast.Literal) and condition.right.value == value


def test_entity_links_quote_slashes() -> None:
    assert entity_href("user", "CORP\\bob/x") == "/ui/entity/user/CORP%5Cbob%2Fx"


def test_relative_ranges_follow_old_data() -> None:
    newest = 1_600_000_000 * NS
    tr = resolve_range("24h", None, None, newest=newest, oldest=newest - 100 * NS)
    assert tr.start <= newest < tr.end
    assert tr.span == RANGES["24h"]
    assert tr.note
    assert tr.start % tr.step == 0
    assert (tr.end - tr.start) // tr.step <= 60


def test_custom_and_all_ranges() -> None:
    tr = resolve_range(
        None, "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", newest=None, oldest=None
    )
    assert tr.label == "custom" and tr.span == 86400 * NS
    whole = resolve_range("all", None, None, newest=10_000 * NS, oldest=5_000 * NS)
    assert whole.start <= 5_000 * NS and whole.end > 10_000 * NS
    with pytest.raises(HeronError):
        resolve_range(None, "2024-03-02", "2024-03-01", newest=None, oldest=None)
    with pytest.raises(HeronError):
        resolve_range(None, "yesterday", None, newest=None, oldest=None)
    assert bucket_for(3600 * NS) == 60 * NS


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/alerts?status=new", "/ui/alerts?status=new"),
        ("https://evil.example/", "/ui/"),
        ("//evil.example", "/ui/"),
        ("/ui\\..\\evil", "/ui/"),
        ("/api/tokens", "/ui/"),
        (None, "/ui/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
