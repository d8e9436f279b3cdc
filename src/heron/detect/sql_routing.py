"""Sigma log-source routing as SQL predicates over the ``events`` relation.

The same decisions as ``heron.detect.sigma.logsource.route_for`` (same tables, imported
from there), made per row instead of per signature: a Windows event is routed by
channel and event id, any other by its module, dataset, provider, program, OS, vendor
marker keys and ECS categories. Each route names the adapter through which the rule
reads the event's fields (Security 4688 seen as Sysmon process creation …).
"""

from __future__ import annotations

from dataclasses import dataclass

from heron.detect.sigma.adapters import IDENTITY
from heron.detect.sigma.ir import LogSource
from heron.detect.sigma.logsource import (
    _MARKERS,
    APACHE_ERROR_SERVICE,
    ECS_CATEGORIES,
    HINT_CATEGORIES,
    LINUX_SYSMON,
    PRODUCT_MODULES,
    PROGRAMS,
    SYSMON_EVENTS,
    WINDOWS_CATEGORY_ROUTES,
    WINDOWS_SERVICE_CHANNELS,
)
from heron.detect.sqltext import (
    FALSE,
    TRUE,
    FieldSource,
    Param,
    Sql,
    all_of,
    any_of,
    column_source,
    json_type_of,
    json_value,
    negate,
    sql,
)

__all__ = ["SIGNATURE_PREFIX", "SqlRoute", "routes_for", "signature_columns"]


@dataclass(frozen=True, slots=True)
class SqlRoute:
    """Rows where ``where`` holds are read through ``adapter``."""

    where: Sql
    adapter: str = IDENTITY


def _text_of(source: FieldSource) -> Sql:
    return source.scalar if source.scalar is not None else Sql("NULL")


def _first_present(*names: str) -> Sql:
    """Text of the first of ``names`` that is present (None values skipped)."""
    arms: list[Sql] = []
    for name in names[:-1]:
        src = column_source(name)
        arms.append(sql("WHEN {} THEN {}", src.present, _text_of(src)))
    last = _text_of(column_source(names[-1]))
    return sql("(CASE " + " ".join("{}" for _ in arms) + " ELSE {} END)", *arms, last)


def _lower_text(name: str) -> Sql:
    """Lowercased text of a field when it is a string, else NULL (``logsource._text``)."""
    src = column_source(name)
    if src.is_array is None:
        return sql("lower({})", _text_of(src))
    extra_type = json_type_of(name)
    return sql("(CASE WHEN {} = 'VARCHAR' THEN lower({}) END)", extra_type, _text_of(src))


def _event_id_text(name: str) -> Sql:
    """``logsource._event_id`` of one field: an integer, or digits in a string."""
    src = column_source(name)
    text = _text_of(src)
    digits = sql("(CASE WHEN regexp_full_match(trim({}), '[0-9]+') THEN trim({}) END)", text, text)
    if src.is_array is None:
        return sql("TRY_CAST({} AS HUGEINT)", digits)
    kind = json_type_of(name)
    return sql(
        "(CASE WHEN {} IN ('BIGINT', 'UBIGINT') THEN TRY_CAST({} AS HUGEINT) "
        "WHEN {} = 'VARCHAR' THEN TRY_CAST({} AS HUGEINT) END)",
        kind,
        text,
        kind,
        digits,
    )


def _channel_expr() -> Sql:
    return _first_present("Channel", "winlog.channel")


def _event_id_expr() -> Sql:
    names = ("EventID", "winlog.event_id", "event.code")
    arms = []
    for name in names[:-1]:
        arms.append(sql("WHEN {} THEN {}", column_source(name).present, _event_id_text(name)))
    return sql("(CASE {} {} ELSE {} END)", arms[0], arms[1], _event_id_text(names[-1]))


def _os_type_expr() -> Sql:
    # ``_text(a) or _text(b)``: an empty string falls through to the platform.
    a, b = _lower_text("host.os.type"), _lower_text("host.os.platform")
    return sql("coalesce(nullif({}, ''), {})", a, b)


#: Prefix of the columns holding what routing decides on, computed once per row.
SIGNATURE_PREFIX = "__heron_sig_"


def signature_columns() -> Sql:
    """``expr AS name`` for every routing column (``logsource.signature``'s parts)."""
    channel = _channel_expr()
    windows = sql(
        "({} IS NOT NULL OR coalesce(lower(\"event.module\") = 'windows', FALSE))", channel
    )
    return sql(
        f"{{}} AS {SIGNATURE_PREFIX}channel, {{}} AS {SIGNATURE_PREFIX}event_id, "
        f"{{}} AS {SIGNATURE_PREFIX}windows, {{}} AS {SIGNATURE_PREFIX}os",
        channel,
        _event_id_expr(),
        windows,
        _os_type_expr(),
    )


def _channel() -> Sql:
    return Sql(SIGNATURE_PREFIX + "channel")


def _event_id() -> Sql:
    return Sql(SIGNATURE_PREFIX + "event_id")


def _in(value: Sql, items: frozenset[str] | frozenset[int] | tuple[str, ...]) -> Sql:
    listed = sorted(items)
    if not listed:
        return FALSE
    if isinstance(listed[0], int):
        return sql("coalesce(list_contains({}::HUGEINT[], {}), FALSE)", Param(listed), value)
    return sql("coalesce(list_contains({}::VARCHAR[], {}), FALSE)", Param(listed), value)


def _is_windows() -> Sql:
    return Sql(SIGNATURE_PREFIX + "windows")


def _channel_key(channel: Sql) -> Sql:
    return sql(
        "replace(replace(regexp_replace(lower({}), '^microsoft-windows-', ''), '/', '-'), "
        "' ', '-')",
        channel,
    )


def _windows_routes(ls: LogSource) -> list[SqlRoute]:
    channel, eid = _channel(), _event_id()
    base = [_is_windows(), sql("coalesce({} <> {}, TRUE)", channel, Param(LINUX_SYSMON))]
    if ls.service is not None:
        channels = WINDOWS_SERVICE_CHANNELS.get(ls.service)
        if channels is not None:
            base.append(_in(channel, channels))
        else:
            base.append(sql("coalesce({} = {}, FALSE)", _channel_key(channel), Param(ls.service)))
    if ls.category is None:
        return [SqlRoute(all_of(base))]
    out: list[SqlRoute] = []
    for route in WINDOWS_CATEGORY_ROUTES.get(ls.category, ()):
        parts = [*base, _in(channel, route.channels)]
        if route.event_ids is not None:
            parts.append(_in(eid, route.event_ids))
        out.append(SqlRoute(all_of(parts), route.adapter))
    return out


def _linux_sysmon_routes(ls: LogSource) -> list[SqlRoute]:
    if ls.product not in (None, "linux") or ls.service not in (None, "sysmon"):
        return []
    on_channel = sql("coalesce({} = {}, FALSE)", _channel(), Param(LINUX_SYSMON))
    if ls.category is None:
        return [SqlRoute(on_channel)] if ls.product == "linux" else []
    eids = SYSMON_EVENTS.get(ls.category)
    if eids is None:
        return []
    return [SqlRoute(all_of([on_channel, _in(_event_id(), frozenset(eids))]))]


# --- other products -------------------------------------------------------------------


def _marker() -> Sql:
    arms = []
    for name, keys in _MARKERS:
        has_all = all_of([sql("{} IS NOT NULL", json_value(k)) for k in keys])
        arms.append(sql("WHEN {} THEN {}", has_all, Param(name)))
    return sql("(CASE " + " ".join("{}" for _ in arms) + " END)", *arms)


def _module() -> Sql:
    return Sql('lower("event.module")')


def _dataset() -> Sql:
    return Sql('lower("event.dataset")')


def _os_type() -> Sql:
    return Sql(SIGNATURE_PREFIX + "os")


def _program() -> Sql:
    return Sql('"process.name"')


def _set_overlaps(column: str, wanted: frozenset[str]) -> Sql:
    return sql(
        f'coalesce(list_has_any(list_transform("{column}", lambda c: lower(c)), '
        "{}::VARCHAR[]), FALSE)",
        Param(sorted(wanted)),
    )


def _product(product: str) -> Sql:
    modules = PRODUCT_MODULES.get(product, frozenset()) | {product}
    checks = [
        _in(_module(), modules),
        sql('coalesce(lower("cloud.provider") = {}, FALSE)', Param(product)),
    ]
    if any(name == product for name, _keys in _MARKERS):
        checks.append(sql("coalesce({} = {}, FALSE)", _marker(), Param(product)))
    direct = any_of(checks)
    dataset = sql("coalesce(starts_with({}, {}), FALSE)", _dataset(), Param(product + "."))
    if product not in ("linux", "macos", "windows"):
        return any_of([direct, dataset])
    os_type = _os_type()
    wanted = ("macos", "darwin") if product == "macos" else (product,)
    by_os = sql(
        "(CASE WHEN {} IS NOT NULL THEN coalesce(list_contains({}::VARCHAR[], {}), FALSE) "
        "ELSE {} END)",
        os_type,
        Param(list(wanted)),
        os_type,
        dataset,
    )
    return any_of([direct, by_os])


def _service(product: str | None, service: str) -> Sql:
    module, dataset, program = _module(), _dataset(), _program()
    parts: list[Sql] = []
    if product is not None:
        programs = PROGRAMS.get((product, service))
        if programs is not None:
            parts.append(_in(program, programs))
    if product == "linux" and service in ("auditd", "syslog", "auth"):
        if service == "auditd":
            last = sql(
                "coalesce({} = 'auditd' OR starts_with({}, 'auditd'), FALSE)", module, dataset
            )
        elif service == "syslog":
            last = any_of(
                [
                    _in(module, ("system", "syslog", "linux")),
                    _in(dataset, ("system.syslog", "syslog")),
                ]
            )
        else:
            last = _in(dataset, ("system.auth", "auth", "linux.auth"))
        return any_of([*parts, last])
    if product == "aws" and service == "cloudtrail":
        parts.append(sql("coalesce({} = 'aws', FALSE)", _marker()))
    if product == "m365":
        # As the matcher: one Management Activity feed carries every workload.
        return TRUE
    if service == APACHE_ERROR_SERVICE and product in (None, "apache"):
        parts.append(sql("coalesce({} = 'apache.error', FALSE)", dataset))
    names = sql(
        "coalesce({} = {} OR {} = {} OR {} = {} || '.' || {}, FALSE)",
        dataset,
        Param(service),
        dataset,
        Param(f"{product}.{service}"),
        dataset,
        module,
        Param(service),
    )
    parts.append(names)
    parts.append(sql("coalesce({} = {}, FALSE)", program, Param(service)))
    return any_of(parts)


def _category(category: str) -> Sql:
    if category == "application":
        return TRUE
    parts: list[Sql] = []
    spec = ECS_CATEGORIES.get(category)
    if spec is not None:
        cats, types = spec
        found = [_set_overlaps("event.category", cats)]
        if types is not None:
            found.append(_set_overlaps("event.type", types))
        parts.append(all_of(found))
    hints = HINT_CATEGORIES.get(category)
    if hints is not None:
        for hint in hints:
            parts.append(
                sql(
                    "coalesce(contains({}, {}) OR contains({}, {}), FALSE)",
                    sql("coalesce({}, '')", _module()),
                    Param(hint),
                    sql("coalesce({}, '')", _dataset()),
                    Param(hint),
                )
            )
    if category == "process_creation":
        type_src = column_source("type")
        parts.append(
            sql(
                "coalesce({} = 'auditd' AND {} = 'VARCHAR' AND {} = 'EXECVE', FALSE)",
                _module(),
                json_type_of("type"),
                _text_of(type_src),
            )
        )
    return any_of(parts)


def _other_routes(ls: LogSource) -> list[SqlRoute]:
    if ls.product is None and ls.category is None and ls.service is None:
        return []
    parts = [negate(_is_windows())]
    if ls.product is not None:
        parts.append(_product(ls.product))
    if ls.service is not None:
        parts.append(_service(ls.product, ls.service))
    if ls.category is not None:
        parts.append(_category(ls.category))
    return [SqlRoute(all_of(parts))]


def routes_for(ls: LogSource) -> list[SqlRoute]:
    """Every way rows reach a rule of log source ``ls``; none: the rule sees no event."""
    out: list[SqlRoute] = []
    if ls.product == "windows":
        out.extend(_windows_routes(ls))
    out.extend(_linux_sysmon_routes(ls))
    # Events without a channel (ECS-shaped, from shippers) route by product and category.
    out.extend(_other_routes(ls))
    return out
