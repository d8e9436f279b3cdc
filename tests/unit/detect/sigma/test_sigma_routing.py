"""Log-source routing: channels and event ids, Security events read as Sysmon, other products."""

from __future__ import annotations

import pytest
from sigma_helpers import SYSMON, check

from heron.detect.sigma.ir import LogSource
from heron.detect.sigma.logsource import route_for, signature

WHOAMI = """
selection:
    Image|endswith: '\\whoami.exe'
    ParentImage|endswith: '\\cmd.exe'
    User|contains: 'AUTHORI'
condition: selection
"""


def test_process_creation_from_sysmon_and_security_4688() -> None:
    sysmon = {
        "Channel": SYSMON,
        "EventID": 1,
        "Image": "C:\\Windows\\System32\\whoami.exe",
        "ParentImage": "C:\\Windows\\System32\\cmd.exe",
        "User": "NT AUTHORITY\\SYSTEM",
    }
    security = {
        "Channel": "Security",
        "EventID": 4688,
        "NewProcessName": "C:\\Windows\\System32\\whoami.exe",
        "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
        "SubjectUserName": "SYSTEM",
        "SubjectDomainName": "NT AUTHORITY",
    }
    other = {**sysmon, "EventID": 3}
    wrong_channel = {**security, "Channel": "Application"}
    assert check(WHOAMI, [sysmon, security, other, wrong_channel]) == [True, True, False, False]


def test_security_4688_process_ids_are_swapped_into_sysmon_meaning() -> None:
    detection = """
    selection:
        ProcessId: 508
        ParentProcessId: 632
    condition: selection
    """
    event = {"Channel": "Security", "EventID": 4688, "NewProcessId": "0x1fc", "ProcessId": "0x278"}
    assert check(detection, [event]) == [True]


def test_security_4657_read_as_registry_set() -> None:
    detection = """
    selection:
        TargetObject|endswith: '\\CurrentVersion\\Run\\evil'
        Image|endswith: '\\reg.exe'
    condition: selection
    """
    base = {
        "Channel": "Security",
        "EventID": 4657,
        "ObjectName": "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
        "ObjectValueName": "evil",
        "ProcessName": "C:\\Windows\\System32\\reg.exe",
    }
    events = [
        {**base, "OperationType": "%%1905"},  # existing value modified
        {**base, "OperationType": "%%1904"},  # new value created: registry_add, not set
    ]
    ls = "product: windows\n    category: registry_set"
    assert check(detection, events, logsource=ls) == [True, False]
    prefix = """
    selection:
        TargetObject|startswith: 'HKLM\\SOFTWARE\\Microsoft\\'
    condition: selection
    """
    assert check(prefix, events[:1], logsource=ls) == [True]


@pytest.mark.parametrize(
    ("category", "channel", "event_id", "expected"),
    [
        ("ps_script", "Microsoft-Windows-PowerShell/Operational", 4104, True),
        ("ps_script", "PowerShellCore/Operational", 4104, True),
        ("ps_script", "Microsoft-Windows-PowerShell/Operational", 4103, False),
        ("ps_module", "Microsoft-Windows-PowerShell/Operational", 4103, True),
        ("ps_classic_start", "Windows PowerShell", 400, True),
        ("ps_classic_provider_start", "Windows PowerShell", 600, True),
        ("network_connection", SYSMON, 3, True),
        ("file_event", SYSMON, 11, True),
        ("registry_event", SYSMON, 14, True),
        ("image_load", SYSMON, 7, True),
        ("dns_query", SYSMON, 22, True),
        ("pipe_created", SYSMON, 18, True),
        ("process_access", SYSMON, 10, True),
        ("create_remote_thread", SYSMON, 8, True),
        ("driver_load", SYSMON, 6, True),
        ("raw_access_thread", SYSMON, 9, True),
        ("create_stream_hash", SYSMON, 15, True),
        ("wmi_event", SYSMON, 20, True),
        ("file_delete", SYSMON, 26, True),
        ("sysmon_status", SYSMON, 16, True),
        ("image_load", SYSMON, 1, False),
        ("image_load", "Security", 7, False),
    ],
)
def test_windows_categories(category: str, channel: str, event_id: int, expected: bool) -> None:
    route = route_for(
        LogSource("windows", category, None), signature({"Channel": channel, "EventID": event_id})
    )
    assert (route is not None) == expected


@pytest.mark.parametrize(
    ("service", "channel", "expected"),
    [
        ("security", "Security", True),
        ("system", "System", True),
        ("sysmon", SYSMON, True),
        ("powershell", "Microsoft-Windows-PowerShell/Operational", True),
        ("bits-client", "Microsoft-Windows-Bits-Client/Operational", True),
        ("smbclient-connectivity", "Microsoft-Windows-SmbClient/Connectivity", True),
        ("something-new", "Microsoft-Windows-Something/New", True),  # channel naming convention
        ("security", "System", False),
    ],
)
def test_windows_services(service: str, channel: str, expected: bool) -> None:
    route = route_for(
        LogSource("windows", None, service), signature({"Channel": channel, "EventID": 1})
    )
    assert (route is not None) == expected


def test_ecs_only_windows_event_matches_through_fallback_fields() -> None:
    event = {
        "winlog.channel": SYSMON,
        "event.code": "1",
        "process.executable": "C:\\Windows\\System32\\whoami.exe",
        "process.parent.executable": "C:\\Windows\\System32\\cmd.exe",
        "user.name": "NT AUTHORITY\\SYSTEM",
    }
    assert check(WHOAMI, [event]) == [True]


def test_vendor_field_wins_over_ecs_fallback() -> None:
    event = {
        "Channel": SYSMON,
        "EventID": 1,
        "Image": "C:\\notepad.exe",
        "process.executable": "C:\\Windows\\System32\\whoami.exe",
        "ParentImage": "C:\\cmd.exe",
        "User": "NT AUTHORITY\\SYSTEM",
    }
    assert check(WHOAMI, [event]) == [False]


def test_cloudtrail_by_module_and_by_its_own_fields() -> None:
    detection = """
    selection:
        eventSource: 'cloudtrail.amazonaws.com'
        eventName: 'StopLogging'
    condition: selection
    """
    by_module = {
        "event.module": "aws",
        "event.dataset": "aws.cloudtrail",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
    }
    by_fields = {
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "awsRegion": "us-east-1",
    }
    ecs_only = {
        "event.module": "aws",
        "event.dataset": "aws.cloudtrail",
        "event.provider": "cloudtrail.amazonaws.com",
        "event.action": "StopLogging",
    }
    windows = {
        "Channel": "Security",
        "EventID": 1,
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
    }
    ls = "product: aws\n    service: cloudtrail"
    assert check(detection, [by_module, by_fields, ecs_only, windows], logsource=ls) == [
        True,
        True,
        True,
        False,
    ]


def test_linux_services_by_program_and_categories_by_ecs() -> None:
    sshd = """
    keywords:
        - 'Failed password'
    condition: keywords
    """
    events = [
        {"event.module": "system", "process.name": "sshd", "message": "Failed password for root"},
        {"event.module": "system", "process.name": "cron", "message": "Failed password for root"},
    ]
    assert check(sshd, events, logsource="product: linux\n    service: sshd") == [True, False]
    proc_linux = """
    selection:
        Image|endswith: '/nc'
    condition: selection
    """
    events = [
        {
            "host.os.type": "linux",
            "event.category": ["process"],
            "event.type": ["start"],
            "process.executable": "/usr/bin/nc",
        },
        {
            "host.os.type": "linux",
            "event.category": ["process"],
            "event.type": ["end"],
            "process.executable": "/usr/bin/nc",
        },
        {"Channel": "Linux-Sysmon/Operational", "EventID": 1, "Image": "/usr/bin/nc"},
    ]
    ls = "product: linux\n    category: process_creation"
    assert check(proc_linux, events, logsource=ls) == [True, False, True]


def test_generic_product_and_service_by_module_and_dataset() -> None:
    detection = """
    selection:
        action: 'deny'
    condition: selection
    """
    events = [
        {"event.module": "zeek", "event.dataset": "zeek.smb_files", "action": "deny"},
        {"event.module": "zeek", "event.dataset": "zeek.dns", "action": "deny"},
    ]
    assert check(detection, events, logsource="product: zeek\n    service: smb_files") == [
        True,
        False,
    ]


def test_sigmahq_service_apache_reads_the_apache_error_log() -> None:
    detection = """
    keywords:
        - 'exit signal Segmentation Fault'
    condition: keywords
    """
    message = "child pid 4242 exit signal Segmentation fault (11)"
    events = [
        {"event.module": "apache", "event.dataset": "apache.error", "message": message},
        {"event.module": "apache", "event.dataset": "apache.access", "message": message},
    ]
    assert check(detection, events, logsource="service: apache") == [True, False]


def test_service_channel_table_matches_pysigma() -> None:
    # Heron keeps pySigma's table written out (importing pySigma's pipelines is slow);
    # a new pySigma that changes it must show up here.
    from sigma.pipelines.common import windows_logsource_mapping

    from heron.detect.sigma.logsource import PYSIGMA_SERVICE_CHANNELS

    theirs = {
        service: tuple([channels] if isinstance(channels, str) else channels)
        for service, channels in windows_logsource_mapping.items()
    }
    assert theirs == PYSIGMA_SERVICE_CHANNELS


def test_windows_categories_name_every_category_a_windows_event_routes_to() -> None:
    # The matcher asks route_for only about groups of these categories (and of none).
    from heron.detect.sigma.logsource import (
        LINUX_SYSMON,
        WINDOWS_CATEGORY_ROUTES,
        windows_categories,
    )

    channels = [SYSMON, "Security", "Microsoft-Windows-PowerShell/Operational"]
    channels += ["Windows PowerShell", "System", "Application", None]
    event_ids = [*range(0, 30), 400, 600, 800, 4103, 4104, 4624, 4657, 4688, None]
    categories = [*WINDOWS_CATEGORY_ROUTES, "authentication", "network", None]
    for channel in channels:
        for eid in event_ids:
            sig = signature({"Channel": channel, "EventID": eid, "event.module": "windows"})
            allowed = windows_categories(sig)
            assert allowed is not None
            for category in categories:
                routed = route_for(LogSource("windows", category), sig) is not None
                if routed and category is not None:
                    assert category in allowed, (channel, eid, category)
                if category is not None and category in allowed:
                    assert routed, (channel, eid, category)
    sysmon = signature({"Channel": SYSMON, "EventID": 1})
    assert "process_creation" in (windows_categories(sysmon) or ())
    assert windows_categories(signature({"Channel": LINUX_SYSMON, "EventID": 1})) is None
    assert windows_categories(signature({"event.module": "aws"})) is None
