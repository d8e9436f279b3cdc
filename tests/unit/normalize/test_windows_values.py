"""The small value rules of the Windows mapping: addresses, ids, outcomes, logon types."""

from __future__ import annotations

import pytest

from heron.normalize import normalize
from heron.normalize.windows_catalog import SPECS, STEPS, load_specs
from heron.normalize.windows_steps import LOGON_TYPES, as_int, as_ip, split_account


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("::1", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("fe80::1%12", "fe80::1%12"),
        ("-", None),
        ("", None),
        ("LOCAL", None),
        ("host.example", None),
        (None, None),
        (42, None),
    ],
)
def test_ip_addresses(value: object, expected: str | None) -> None:
    assert as_ip(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x1f4", 500),
        ("0X10", 16),
        ("123", 123),
        (77, 77),
        ("-", None),
        ("0xzz", None),
        (True, None),
        ("", None),
        ("١٢", None),
    ],
)
def test_ints_from_windows_text(value: object, expected: int | None) -> None:
    assert as_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CORP\\alice", ("CORP", "alice")),
        ("alice", (None, "alice")),
        ("NT AUTHORITY\\SYSTEM", ("NT AUTHORITY", "SYSTEM")),
        ("CORP\\\\bob", ("CORP", "bob")),
        ("-", (None, None)),
    ],
)
def test_accounts(value: str, expected: tuple[str | None, str | None]) -> None:
    assert split_account(value) == expected


@pytest.mark.parametrize(("number", "name"), sorted(LOGON_TYPES.items()))
def test_logon_type_names(number: int, name: str) -> None:
    for value in (number, str(number)):
        event = normalize(
            {"event.module": "windows", "EventID": 4624, "Channel": "Security", "LogonType": value}
        )
        assert event["winlog.logon.type"] == name


@pytest.mark.parametrize(
    ("keywords", "outcome"),
    [
        ("0x8020000000000000", "success"),
        ("0x8010000000000000", "failure"),
        ("0x8000000000000000", None),
        (["Audit Failure"], "failure"),
        ("junk", None),
    ],
)
def test_outcome_from_audit_keywords(keywords: object, outcome: str | None) -> None:
    event = normalize(
        {"event.module": "windows", "EventID": 4798, "Channel": "Security", "Keywords": keywords}
    )
    assert event.get("event.outcome") == outcome


@pytest.mark.parametrize(
    ("status", "outcome"), [("0x0", "success"), ("0x18", "failure"), ("0xc000006a", "failure")]
)
def test_kerberos_and_ntlm_outcome_by_status(status: str, outcome: str) -> None:
    for code in (4768, 4771, 4776):
        event = normalize(
            {"event.module": "windows", "EventID": code, "Channel": "Security", "Status": status}
        )
        assert event["event.outcome"] == outcome


def test_fixed_outcomes_beat_keywords() -> None:
    event = normalize(
        {
            "event.module": "windows",
            "EventID": 4625,
            "Channel": "Security",
            "Keywords": "0x8020000000000000",
        }
    )
    assert event["event.outcome"] == "failure"


def test_family_from_provider_when_the_channel_is_missing() -> None:
    event = normalize(
        {
            "event.module": "windows",
            "EventID": 1,
            "Provider_Name": "Microsoft-Windows-Sysmon",
            "Image": "C:\\a\\b.exe",
        }
    )
    assert event["process.name"] == "b.exe"
    assert event["event.dataset"] == "windows.sysmon_operational"


def test_every_sysmon_event_id_is_catalogued() -> None:
    assert set(range(1, 30)) <= set(SPECS["sysmon"])


def test_catalog_rejects_unknown_steps_and_families() -> None:
    entry = "{action: a, category: [process], type: [start], title: t, steps: [nope]}"
    with pytest.raises(ValueError, match="unknown steps"):
        load_specs("security:\n  1: " + entry)
    with pytest.raises(ValueError, match="unknown log family"):
        load_specs("dns:\n  1: {action: a, category: [], type: [], title: t}")
    assert set(STEPS.values()) >= {
        s for t in SPECS.values() for spec in t.values() for s in spec.steps
    }


def test_vendor_fields_win_over_nothing_and_ecs_fields_already_set_are_kept() -> None:
    event = normalize(
        {
            "event.module": "windows",
            "EventID": 4624,
            "Channel": "Security",
            "TargetUserName": "alice",
            "user.name": "preset",
        }
    )
    assert event["user.name"] == "preset"
    assert event["TargetUserName"] == "alice"
