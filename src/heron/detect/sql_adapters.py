"""Log-source adapters in SQL: Security events read with Sysmon's field names.

Mirrors ``heron.detect.sigma.adapters.ADAPTERS``: a 4688 is a process creation whose
``NewProcessName`` is read as ``Image`` and so on; a 4657 is a registry event whose key
is composed into ``TargetObject``. Each adapted field is a list of sources tried in
order (the event's own field first where the adapter only fills a gap).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heron.detect.sigma.adapters import (
    IDENTITY,
    INTEGRITY_LEVELS,
    REGISTRY_OPERATIONS,
    REGISTRY_ROOTS,
)
from heron.detect.sqltext import (
    FieldSource,
    Param,
    Sql,
    column_source,
    expr_source,
    json_type_of,
    sql,
)

__all__ = ["AdapterFields", "adapter_fields"]


@dataclass(slots=True)
class AdapterFields:
    """Adapted fields (name → sources in order) and a condition rows must meet, if any."""

    fields: dict[str, list[FieldSource]] = field(default_factory=dict)
    gate: Sql | None = None

    def get(self, name: str, default: list[FieldSource]) -> list[FieldSource]:
        return self.fields.get(name, default)


def _is_string(name: str) -> Sql:
    return sql("coalesce({} = 'VARCHAR', FALSE)", json_type_of(name))


def _text(name: str) -> Sql:
    src = column_source(name)
    return src.scalar if src.scalar is not None else Sql("NULL")


def _filled(name: str, *fallbacks: FieldSource) -> list[FieldSource]:
    return [column_source(name), *fallbacks]


def _hex_int(name: str) -> Sql:
    """``logsource._hex_int``: "0x1a4" as "420"; any other value as it is."""
    text = _text(name)
    return sql(
        "(CASE WHEN {} AND lower(left({}, 2)) = '0x' "
        "THEN coalesce(CAST(TRY_CAST({} AS HUGEINT) AS VARCHAR), {}) ELSE {} END)",
        _is_string(name),
        text,
        text,
        text,
        text,
    )


def _guarded(when: Sql, text: Sql) -> FieldSource:
    value = sql("(CASE WHEN {} THEN {} END)", when, text)
    return expr_source(value)


def _security_4688() -> AdapterFields:
    new_pid = column_source("NewProcessId").present
    pid = column_source("ProcessId")
    user, domain = _text("SubjectUserName"), _text("SubjectDomainName")
    composed = sql(
        "(CASE WHEN {} THEN (CASE WHEN {} AND {} <> '' THEN {} || '\\' || {} ELSE {} END) END)",
        _is_string("SubjectUserName"),
        _is_string("SubjectDomainName"),
        domain,
        domain,
        user,
        user,
    )
    label = _text("MandatoryLabel")
    arms = [
        sql("WHEN {} THEN {}", Param(sid), Param(name)) for sid, name in INTEGRITY_LEVELS.items()
    ]
    integrity = sql(
        "(CASE WHEN {} THEN (CASE {} " + " ".join("{}" for _ in arms) + " END) END)",
        _is_string("MandatoryLabel"),
        label,
        *arms,
    )
    return AdapterFields(
        {
            "Image": _filled("Image", column_source("NewProcessName")),
            "ParentImage": _filled("ParentImage", column_source("ParentProcessName")),
            "LogonId": _filled("LogonId", column_source("SubjectLogonId")),
            "User": _filled("User", expr_source(composed)),
            # 4688's ProcessId is the creator's: Sysmon calls that ParentProcessId.
            "ProcessId": [
                _guarded(new_pid, _hex_int("NewProcessId")),
                _guarded(sql("NOT {}", new_pid), _text("ProcessId")),
            ],
            "ParentProcessId": [
                _guarded(sql("{} AND {}", new_pid, pid.present), _hex_int("ProcessId")),
                _guarded(sql("NOT {}", new_pid), _text("ParentProcessId")),
            ],
            "IntegrityLevel": _filled("IntegrityLevel", expr_source(integrity)),
        }
    )


def _target_object() -> Sql:
    key = _text("ObjectName")
    arms = [
        sql(
            "WHEN starts_with(lower({}), {}) THEN {} || substr({}, {})",
            key,
            Param(prefix),
            Param(root),
            key,
            Param(len(prefix) + 1),
        )
        for prefix, root in REGISTRY_ROOTS
    ]
    rooted = sql("(CASE " + " ".join("{}" for _ in arms) + " ELSE {} END)", *arms, key)
    value_name = _text("ObjectValueName")
    suffix = sql(
        "(CASE WHEN {} AND {} <> '' THEN '\\' || {} ELSE '' END)",
        _is_string("ObjectValueName"),
        value_name,
        value_name,
    )
    return sql("(CASE WHEN {} THEN {} || {} END)", _is_string("ObjectName"), rooted, suffix)


def _security_4657(operations: frozenset[str] | None) -> AdapterFields:
    gate = None
    if operations is not None:
        gate = sql(
            "coalesce({} AND list_contains({}::VARCHAR[], lower({})), FALSE)",
            _is_string("OperationType"),
            Param(sorted(operations)),
            _text("OperationType"),
        )
    return AdapterFields(
        {
            "Image": _filled("Image", column_source("ProcessName")),
            "TargetObject": _filled("TargetObject", expr_source(_target_object())),
            "Details": _filled("Details", column_source("NewValue")),
            "LogonId": _filled("LogonId", column_source("SubjectLogonId")),
        },
        gate,
    )


def adapter_fields(adapter: str) -> AdapterFields:
    """The adapted fields of a route's adapter (``IDENTITY``: none)."""
    if adapter == IDENTITY:
        return AdapterFields()
    if adapter == "security_4688":
        return _security_4688()
    if adapter == "security_4657":
        return _security_4657(REGISTRY_OPERATIONS["set"] | REGISTRY_OPERATIONS["add"])
    if adapter.startswith("security_4657_"):
        return _security_4657(REGISTRY_OPERATIONS[adapter.removeprefix("security_4657_")])
    raise ValueError(f"no SQL for log-source adapter {adapter!r}")
