"""Compiled Sigma rules → SQL over the store's ``events`` relation, for retro-hunts.

The input is the same compiled rule the streaming matcher runs (``heron.detect.sigma``'s
IR: modifiers such as ``windash``, ``base64offset`` and ``utf16`` are already expanded
into value alternatives there), so both paths test the same value sets. Each value test
here says in SQL what ``heron.detect.sigma.predicates`` says in Python: fields read by
their vendor name first, then the ECS name (``fieldmap.ECS_FALLBACK``), through the
log-source adapter of the route; text compared lowercased unless cased; wildcards as
``LIKE`` with escapes; ``|re`` on RE2 (``regexp_matches``); ``|cidr`` as numeric ranges
of parsed IPv4/IPv6 addresses (DuckDB's ``inet`` extension cannot be installed offline);
a list value matches when one of its elements does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network

from heron.detect.sigma.fieldmap import ECS_FALLBACK
from heron.detect.sigma.ir import (
    QMARK,
    STAR,
    And,
    BoolTest,
    CidrTest,
    CompareTest,
    CompiledRule,
    ExistsTest,
    FieldRefTest,
    Leaf,
    Node,
    Not,
    NullTest,
    NumberTest,
    RegexTest,
    StringTest,
    TimePartTest,
)
from heron.detect.sql_adapters import adapter_fields
from heron.detect.sql_routing import SIGNATURE_PREFIX, routes_for, signature_columns
from heron.detect.sqltext import (
    FALSE,
    TRUE,
    FieldSource,
    Param,
    Sql,
    all_of,
    any_of,
    column_source,
    negate,
    sql,
    with_json_fields,
)
from heron.errors import HeronError
from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN, FieldKind
from heron.store.base import quote_ident

__all__ = [
    "KEYWORDS_COLUMN",
    "RulePredicate",
    "SqlCompileError",
    "batch_query",
    "rule_predicate",
    "rule_query",
]

#: The column holding every searchable text of a row, for keyword (field-less) rules.
KEYWORDS_COLUMN = "__heron_keywords"
_NOT_KEYWORD_SEARCHED = frozenset(
    {"event.original", "event.id", "event.ingested", "@timestamp", "log.file.path"}
)
_MAPPED_V4 = 0xFFFF_0000_0000  # ::ffff:0:0/96


class SqlCompileError(HeronError):
    """A rule that cannot be expressed in SQL; names the rule and the reason."""

    def __init__(self, rule_id: str, reason: str) -> None:
        self.rule_id = rule_id
        self.reason = reason
        super().__init__(f"rule {rule_id}: {reason}")


# --- value tests on one text ------------------------------------------------------------


def _like_pattern(tokens: tuple[str | int, ...]) -> str:
    out = []
    for tok in tokens:
        if tok == STAR:
            out.append("%")
        elif tok == QMARK:
            out.append("_")
        else:
            out.append(str(tok).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return "".join(out)


def _string_test(test: StringTest) -> Callable[[Sql], Sql]:
    tokens = test.tokens

    def on(text: Sql) -> Sql:
        value = text if test.cased else sql("lower({})", text)
        if not tokens:
            return sql("{} = ''", value)
        if tokens == (STAR,):
            return sql("{} IS NOT NULL", value)
        if len(tokens) == 1 and isinstance(tokens[0], str):
            return sql("{} = {}", value, Param(tokens[0]))
        return sql("{} LIKE {} ESCAPE '\\'", value, Param(_like_pattern(tokens)))

    return on


def _numeric(text: Sql) -> Sql:
    """``predicates._number``: decimal, 0x hex or finite float text as a DOUBLE."""
    return sql(
        "list_transform([trim({})], lambda n: CASE WHEN lower(n) LIKE '0x%' "
        "THEN TRY_CAST(TRY_CAST(n AS HUGEINT) AS DOUBLE) "
        "WHEN isfinite(TRY_CAST(n AS DOUBLE)) THEN TRY_CAST(n AS DOUBLE) END)[1]",
        text,
    )


_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "neq": "<>"}


def _regex_test(test: RegexTest) -> Callable[[Sql], Sql]:
    pattern = (f"(?{test.flags})" if test.flags else "") + test.pattern
    return lambda text: sql("regexp_matches({}, {})", text, Param(pattern))


def _either(tests: Sequence[Callable[[Sql], Sql]]) -> Callable[[Sql], Sql]:
    if len(tests) == 1:
        return tests[0]
    return lambda text: any_of([t(text) for t in tests])


def _ip_norm(text: Sql) -> Sql:
    """``predicates._ip``'s clean-up: trimmed, brackets and IPv6 zone id removed."""
    return sql(
        "split_part(list_transform([trim({})], lambda s: CASE WHEN starts_with(s, '[') "
        "AND contains(s, ']') THEN substr(s, 2, strpos(s, ']') - 2) ELSE s END)[1], '%', 1)",
        text,
    )


_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_V4_RE = f"{_OCTET}(\\.{_OCTET}){{3}}"


def _ip4(var: str) -> str:
    return (
        f"(CASE WHEN regexp_full_match({var}, '{_V4_RE}') THEN list_reduce(list_transform("
        f"string_split({var}, '.'), lambda o: CAST(o AS UHUGEINT)), lambda a, b: a * 256 + b) END)"
    )


def _ip6(var: str) -> str:
    # Groups: the text split at "::" with the missing zero groups put back.
    head = "CASE WHEN p[1] = '' THEN [] ELSE string_split(p[1], ':') END"
    tail = "CASE WHEN p[2] = '' THEN [] ELSE string_split(p[2], ':') END"
    groups = (
        f"list_transform([string_split(lower({var}), '::')], lambda p: CASE "
        "WHEN len(p) = 1 THEN (CASE WHEN len(string_split(p[1], ':')) = 8 "
        "THEN string_split(p[1], ':') END) "
        f"WHEN len(p) = 2 THEN list_transform([[{head}, {tail}]], lambda ht: "
        "CASE WHEN len(ht[1]) + len(ht[2]) <= 7 THEN list_concat(ht[1], list_transform("
        "range(8 - len(ht[1]) - len(ht[2])), lambda z: '0'), ht[2]) END)[1] END)[1]"
    )
    return (
        f"list_transform([{groups}], lambda g: CASE WHEN g IS NOT NULL AND "
        "len(list_filter(g, lambda h: NOT regexp_full_match(h, '[0-9a-f]{1,4}'))) = 0 "
        "THEN list_reduce(list_transform(g, lambda h: CAST(TRY_CAST('0x' || h AS BIGINT) "
        "AS UHUGEINT)), lambda a, b: a * 65536 + b) END)[1]"
    )


def _cidr_test(networks: Sequence[str]) -> Callable[[Sql], Sql]:
    """The text is an IP address inside one of ``networks`` (parsed once per value)."""
    nets = [ip_network(n, strict=False) for n in networks]

    def on(text: Sql) -> Sql:
        checks: list[Sql] = []
        for net in nets:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            between = "BETWEEN CAST({} AS UHUGEINT) AND CAST({} AS UHUGEINT)"
            if isinstance(net, IPv4Network):
                # An IPv4 address, or one mapped into IPv6 (::ffff:a.b.c.d or hex).
                checks.append(
                    sql(
                        f"coalesce(a[1] {between} OR a[3] {between} OR a[2] {between}, FALSE)",
                        Param(str(lo)),
                        Param(str(hi)),
                        Param(str(lo)),
                        Param(str(hi)),
                        Param(str(_MAPPED_V4 + lo)),
                        Param(str(_MAPPED_V4 + hi)),
                    )
                )
            else:
                checks.append(
                    sql(
                        f"coalesce(a[2] {between} AND NOT (a[2] {between}), FALSE)",
                        Param(str(lo)),
                        Param(str(hi)),
                        Param(str(_MAPPED_V4)),
                        Param(str(_MAPPED_V4 + 0xFFFF_FFFF)),
                    )
                )
        parsed = (
            f"[{_ip4('t')}, {_ip6('t')}, "
            f"CASE WHEN starts_with(lower(t), '::ffff:') THEN {_ip4('substr(t, 8)')} END]"
        )
        return sql(
            f"list_transform([{{}}], lambda t: list_transform([{parsed}], lambda a: {{}})[1])[1]",
            _ip_norm(text),
            any_of(checks),
        )

    return on


# --- fields ------------------------------------------------------------------------------


def _keywords() -> Sql:
    """Every searchable text of a row (``view._searchable``) as one VARCHAR[]."""
    parts: list[str] = []
    for name, kind in CORE_FIELDS.items():
        if name in _NOT_KEYWORD_SEARCHED:
            continue
        col = quote_ident(name)
        if kind is FieldKind.STRING:
            parts.append(f"[{col}]")
        elif kind is FieldKind.INT:
            parts.append(f"[CAST({col} AS VARCHAR)]")
        elif kind is FieldKind.STRING_LIST:
            parts.append(f"coalesce({col}, [])")
    parts.append(
        f"coalesce(flatten(list_transform(json_extract({EXTRA_COLUMN}, '$.*'), lambda v: "
        "CASE WHEN json_type(v) = 'ARRAY' THEN json_extract_string(v, '$[*]') "
        "ELSE [json_extract_string(v, '$')] END)), [])"
    )
    parts.append(
        '(CASE WHEN message IS NULL AND "event.original" IS NOT NULL AND '
        "left(ltrim(\"event.original\"), 1) NOT IN ('{', '<') THEN [\"event.original\"] "
        "ELSE [] END)"
    )
    body = parts[0]
    for part in parts[1:]:
        body = f"list_concat({body}, {part})"
    return Sql(body)


class _Compiler:
    """One rule's condition as SQL, for rows read through one adapter."""

    def __init__(self, rule: CompiledRule, adapter: str) -> None:
        self.rule = rule
        self.overrides = adapter_fields(adapter)
        self.uses_keywords = False
        self._vars = 0

    def _var(self) -> str:
        self._vars += 1
        return f"v{self._vars}"

    def chain(self, name: str) -> list[FieldSource]:
        sources = list(self.overrides.get(name, [column_source(name)]))
        alt = ECS_FALLBACK.get(name)
        if alt is not None:
            sources.append(column_source(alt))
        return sources

    def over(self, name: str, on: Callable[[FieldSource], Sql], absent: Sql = FALSE) -> Sql:
        """``on`` applied to the first present source of field ``name``."""
        sources = self.chain(name)
        if len(sources) == 1 and absent is FALSE:
            return on(sources[0])
        arms = [sql("WHEN {} THEN {}", s.present, on(s)) for s in sources]
        return sql("(CASE " + " ".join("{}" for _ in arms) + " ELSE {} END)", *arms, absent)

    def on_text(self, name: str, test: Callable[[Sql], Sql]) -> Sql:
        var = self._var()
        return self.over(name, lambda s: s.any_text(test, var))

    def keyword(self, test: Callable[[Sql], Sql]) -> Sql:
        self.uses_keywords = True
        var = self._var()
        return sql(
            f"coalesce(len(list_filter({quote_ident(KEYWORDS_COLUMN)}, lambda {var}: "
            f"{var} IS NOT NULL AND {{}})) > 0, FALSE)",
            test(Sql(var)),
        )

    def node(self, node: Node) -> Sql:
        if isinstance(node, Leaf):
            return self.leaf(node)
        if isinstance(node, Not):
            return negate(self.node(node.child))
        if isinstance(node, And):
            return all_of([self.node(child) for child in node.children])
        # Tests of one field under OR read the field once: "one of the values passes one
        # of the tests" is "one of the tests passes on one of the values".
        parts: list[Sql] = []
        per_field: dict[str, list[Callable[[Sql], Sql]]] = {}
        networks: dict[str, list[str]] = {}
        for child in node.children:
            if isinstance(child, Leaf) and child.field is not None:
                if isinstance(child.test, CidrTest):
                    networks.setdefault(child.field, []).append(child.test.network)
                    continue
                test = self.text_test(child)
                if test is not None:
                    per_field.setdefault(child.field, []).append(test)
                    continue
            parts.append(self.node(child))
        for name, nets in networks.items():
            per_field.setdefault(name, []).append(_cidr_test(nets))
        for name, tests in per_field.items():
            parts.append(self.on_text(name, _either(tests)))
        return any_of(parts)

    def text_test(self, leaf: Leaf) -> Callable[[Sql], Sql] | None:
        """The per-text test of a leaf decided on the field's text(s), if it is one."""
        test = leaf.test
        if isinstance(test, StringTest):
            return _string_test(test)
        if isinstance(test, RegexTest):
            return _regex_test(test)
        if isinstance(test, NumberTest):
            want = test.value
            return lambda t: sql("{} = CAST({} AS DOUBLE)", _numeric(t), Param(want))
        if isinstance(test, CompareTest):
            op, value = _OPS[test.op], test.value
            return lambda t: sql(f"{{}} {op} CAST({{}} AS DOUBLE)", _numeric(t), Param(value))
        if isinstance(test, BoolTest):
            word = "true" if test.value else "false"
            return lambda t: sql("lower(trim({})) = {}", t, Param(word))
        if isinstance(test, CidrTest):
            return _cidr_test([test.network])
        return None

    def leaf(self, leaf: Leaf) -> Sql:
        test, name = leaf.test, leaf.field
        if name is None:
            if isinstance(test, StringTest):
                return self.keyword(_string_test(test))
            if isinstance(test, RegexTest):
                return self.keyword(_regex_test(test))
            raise SqlCompileError(self.rule.id, f"{type(test).__name__} needs a field")
        on_text = self.text_test(leaf)
        if on_text is not None:
            return self.on_text(name, on_text)
        if isinstance(test, NullTest):
            return self.over(name, lambda s: s.empty(), TRUE)
        if isinstance(test, ExistsTest):
            present = any_of([s.present for s in self.chain(name)])
            return present if test.exists else negate(present)
        if isinstance(test, FieldRefTest):
            return self.fieldref(name, test)
        if isinstance(test, TimePartTest):
            raise SqlCompileError(self.rule.id, f"|{test.part} is not supported in SQL")
        raise SqlCompileError(self.rule.id, f"unknown test {type(test).__name__}")

    def fieldref(self, name: str, test: FieldRefTest) -> Sql:
        def texts(field: str) -> Sql:
            return self.over(field, lambda s: s.texts(), Sql("[]"))

        a, b = self._var(), self._var()
        compare = {
            "eq": f"lower({a}) = lower({b})",
            "prefix": f"starts_with(lower({a}), lower({b}))",
            "suffix": f"ends_with(lower({a}), lower({b}))",
            "contains": f"contains(lower({a}), lower({b}))",
        }[test.mode]
        return sql(
            f"coalesce(len(list_filter({{}}, lambda {a}: {a} IS NOT NULL AND "
            f"len(list_filter({{}}, lambda {b}: {b} IS NOT NULL AND {compare})) > 0)) > 0, FALSE)",
            texts(name),
            texts(test.other),
        )


@dataclass(frozen=True, slots=True)
class RulePredicate:
    """A rule as a WHERE condition; ``keywords``: it needs the keyword column."""

    where: Sql
    keywords: bool


def rule_predicate(rule: CompiledRule) -> RulePredicate:
    """The rows a rule matches: its routes, each with the condition under its adapter."""
    parts: list[Sql] = []
    keywords = False
    by_adapter: dict[str, list[Sql]] = {}
    for route in routes_for(rule.logsource):
        by_adapter.setdefault(route.adapter, []).append(route.where)
    # Routes read through the same adapter share one copy of the condition.
    for adapter, wheres in by_adapter.items():
        compiler = _Compiler(rule, adapter)
        condition = compiler.node(rule.condition)
        gate = compiler.overrides.gate
        parts.append(all_of([any_of(wheres), *([gate] if gate is not None else []), condition]))
        keywords = keywords or compiler.uses_keywords
    return RulePredicate(any_of(parts), keywords)


def _time_range(start: int | None, end: int | None) -> list[Sql]:
    ts = quote_ident("@timestamp")
    clauses = []
    if start is not None:
        clauses.append(sql(f"{ts} >= make_timestamp_ns({{}})", Param(start)))
    if end is not None:
        clauses.append(sql(f"{ts} < make_timestamp_ns({{}})", Param(end)))
    return clauses


def _select(columns: Sequence[str]) -> str:
    return ", ".join(
        f"epoch_ns({quote_ident(c)}) AS {quote_ident(c)}"
        if CORE_FIELDS.get(c) is FieldKind.TIMESTAMP
        else quote_ident(c)
        for c in columns
    )


def _source(preds: Sequence[RulePredicate]) -> Sql:
    base = "events"
    if any(p.keywords for p in preds):
        base = f"(SELECT *, {_keywords().text} AS {quote_ident(KEYWORDS_COLUMN)} FROM events)"
    wheres = [p.where for p in preds]
    if not any(SIGNATURE_PREFIX in w.text for w in wheres):
        return with_json_fields(base, *wheres)
    signature = signature_columns()
    return sql("(SELECT *, {} FROM {})", signature, with_json_fields(base, *wheres, signature))


def rule_query(
    rule: CompiledRule,
    *,
    start: int | None = None,
    end: int | None = None,
    columns: Sequence[str] = ("event.id", "@timestamp"),
) -> Sql:
    """``SELECT`` of the given columns (timestamps as ns) for every row the rule matches."""
    pred = rule_predicate(rule)
    where = all_of([pred.where, *_time_range(start, end)])
    ts = quote_ident("@timestamp")
    return sql(
        f"SELECT {_select(columns)} FROM {{}} AS e WHERE {{}} ORDER BY {ts}", _source([pred]), where
    )


def batch_query(
    predicates: Sequence[RulePredicate],
    *,
    start: int | None = None,
    end: int | None = None,
    columns: Sequence[str] = ("event.id", "@timestamp"),
) -> Sql:
    """One scan for several rules: each matching row with the positions of its rules.

    The row's ``extra`` JSON is parsed once for all of them, which is most of the cost
    of a rule on a store of Windows events; the result column is ``__heron_hits``.
    """
    flags = ", ".join(f"CASE WHEN {{}} THEN {i} END" for i in range(len(predicates)))
    where = all_of(_time_range(start, end))
    inner = sql(
        f"SELECT {_select(columns)}, list_filter([{flags}], lambda h: h IS NOT NULL) "
        f"AS __heron_hits FROM {{}} AS e WHERE {{}}",
        *(p.where for p in predicates),
        _source(predicates),
        where,
    )
    return sql("SELECT * FROM ({}) WHERE len(__heron_hits) > 0", inner)
