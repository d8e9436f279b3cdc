# ruff: noqa: E501 -- log records and their field tables read best one record a line.
"""Benign Windows domain activity: logons, typos, processes, network, files, registry."""

from __future__ import annotations

import random

from heron.simulate.company import DOMAIN, Company, Host, Person, admin_identity
from heron.simulate.emit import SEC, Emitter
from heron.simulate.rhythm import HOUR, Shift, pick_time

__all__ = ["logon_data", "windows_day"]

_OFFICE = "C:\\Program Files\\Microsoft Office\\root\\Office16"
_APPS = (
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "chrome.exe", '"{img}" --type=renderer'),
    (f"{_OFFICE}\\OUTLOOK.EXE", "OUTLOOK.EXE", '"{img}"'),
    (f"{_OFFICE}\\WINWORD.EXE", "WinWord.exe", '"{img}" /n "C:\\Users\\{user}\\Documents\\{doc}.docx"'),
    (f"{_OFFICE}\\EXCEL.EXE", "Excel.exe", '"{img}" "C:\\Users\\{user}\\Documents\\{doc}.xlsx"'),
    ("C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe", "Teams.exe", '"{img}" --system-initiated'),
    ("C:\\Windows\\System32\\notepad.exe", "NOTEPAD.EXE", '"{img}" C:\\Users\\{user}\\Desktop\\notes.txt'),
    ("C:\\Windows\\System32\\cmd.exe", "Cmd.Exe", '"{img}" /c ipconfig /all'),
    ("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "PowerShell.EXE", '"{img}" -NoLogo'),
)  # fmt: skip
_DOCS = ("Q1 forecast", "minutes", "budget-2026", "customer list", "roadmap", "invoice-2231")
_EXTERNAL = ("13.107.42.14", "142.250.185.78", "52.113.194.132", "104.18.32.7", "151.101.1.69")


def logon_data(
    user: str, domain: str, sid: str, logon_type: int, ip: str, workstation: str, *,
    package: str = "Kerberos", logon_id: str = "0x3e7",
) -> dict[str, str]:  # fmt: skip
    """EventData of a 4624."""
    return {
        "SubjectUserSid": "S-1-0-0",
        "SubjectUserName": "-",
        "SubjectDomainName": "-",
        "SubjectLogonId": "0x0",
        "TargetUserSid": sid,
        "TargetUserName": user,
        "TargetDomainName": domain,
        "TargetLogonId": logon_id,
        "LogonType": str(logon_type),
        "LogonProcessName": "Kerberos" if package == "Kerberos" else "NtLmSsp ",
        "AuthenticationPackageName": package,
        "WorkstationName": workstation,
        "IpAddress": ip,
        "IpPort": "0" if ip == "-" else str(49152 + int(logon_id, 16) % 16000),
        "ElevatedToken": "%%1843",
    }


def _failed(user: str, logon_type: int, ip: str, workstation: str) -> dict[str, str]:
    return {
        "SubjectUserSid": "S-1-5-18",
        "SubjectUserName": f"{workstation}$",
        "SubjectDomainName": DOMAIN,
        "TargetUserSid": "S-1-0-0",
        "TargetUserName": user,
        "TargetDomainName": DOMAIN,
        "Status": "0xc000006d",
        "FailureReason": "%%2313",
        "SubStatus": "0xc000006a",
        "LogonType": str(logon_type),
        "LogonProcessName": "User32 ",
        "AuthenticationPackageName": "Negotiate",
        "WorkstationName": workstation,
        "IpAddress": ip,
        "IpPort": "0",
    }


def _logon_id(rng: random.Random) -> str:
    return f"0x{rng.randrange(0x100000, 0xFFFFFFF):x}"


def process(
    em: Emitter, host: Host, ns: int, user: str, image: str, cmd: str, parent: str,
    original: str, *, integrity: str = "Medium",
) -> None:  # fmt: skip
    """A Sysmon 1 process creation."""
    em.sysmon(
        host, ns, 1,
        {
            "ProcessGuid": em.process_guid(),
            "ProcessId": str(em.rng.randrange(1000, 30000, 4)),
            "Image": image,
            "FileVersion": "-",
            "OriginalFileName": original,
            "CommandLine": cmd,
            "CurrentDirectory": "C:\\Windows\\system32\\",
            "User": f"{DOMAIN}\\{user}",
            "LogonId": _logon_id(em.rng),
            "IntegrityLevel": integrity,
            "Hashes": f"SHA256={em.hex_id(32).upper()}",
            "ParentProcessGuid": em.process_guid(),
            "ParentProcessId": str(em.rng.randrange(1000, 30000, 4)),
            "ParentImage": parent,
            "ParentCommandLine": f'"{parent}"',
        },
    )  # fmt: skip


def network(em: Emitter, host: Host, ns: int, user: str, image: str, dst: str, port: int) -> None:
    """A Sysmon 3 network connection."""
    em.sysmon(
        host, ns, 3,
        {
            "ProcessGuid": em.process_guid(),
            "ProcessId": str(em.rng.randrange(1000, 30000, 4)),
            "Image": image,
            "User": f"{DOMAIN}\\{user}",
            "Protocol": "tcp",
            "Initiated": "true",
            "SourceIsIpv6": "false",
            "SourceIp": host.ip,
            "SourceHostname": host.fqdn,
            "SourcePort": str(em.rng.randint(49152, 65535)),
            "DestinationIsIpv6": "false",
            "DestinationIp": dst,
            "DestinationPort": str(port),
        },
    )  # fmt: skip


def file_create(em: Emitter, host: Host, ns: int, user: str, image: str, path: str) -> None:
    """A Sysmon 11 file creation."""
    em.sysmon(
        host, ns, 11,
        {
            "ProcessGuid": em.process_guid(),
            "ProcessId": str(em.rng.randrange(1000, 30000, 4)),
            "Image": image,
            "TargetFilename": path,
            "CreationUtcTime": "",
            "User": f"{DOMAIN}\\{user}",
        },
    )  # fmt: skip


def _workday(em: Emitter, c: Company, person: Person, shift: Shift, scale: float) -> None:
    rng = em.rng
    ws = c.hosts[person.workstation]
    dc = c.hosts[rng.choice(("DC01", "DC02"))]
    t = shift.start
    # Password typos before the first logon of the day (about one morning in twelve).
    if rng.random() < 0.08:
        for _ in range(rng.randint(1, 2)):
            em.security(ws, t, 4625, _failed(person.username, 2, "127.0.0.1", ws.name))
            t += rng.randint(3, 15) * SEC
    lid = _logon_id(rng)
    em.security(
        dc,
        t,
        4624,
        logon_data(person.username, DOMAIN, person.sid, 3, ws.ip, ws.name, logon_id=lid),
    )
    em.security(
        ws,
        t + SEC // 2,
        4624,
        logon_data(person.username, DOMAIN, person.sid, 2, "127.0.0.1", ws.name, logon_id=lid),
    )
    # Resources of the day: file server always, mail, print and SQL sometimes.
    for server, chance in (
        ("FS01", 1.0),
        ("EXCH01", 0.9),
        ("PRN01", 0.25),
        ("SQL01", 0.15 if person.department == "finance" else 0.0),
    ):
        if rng.random() < chance:
            at = pick_time(rng, shift)
            sid = _logon_id(rng)
            em.security(
                c.hosts[server],
                at,
                4624,
                logon_data(person.username, DOMAIN, person.sid, 3, ws.ip, ws.name, logon_id=sid),
            )
            em.security(
                c.hosts[server],
                at + rng.randint(60, 3 * 3600) * SEC,
                4634,
                {
                    "TargetUserSid": person.sid,
                    "TargetUserName": person.username,
                    "TargetDomainName": DOMAIN,
                    "TargetLogonId": sid,
                    "LogonType": "3",
                },
            )
    hours = max(1, (shift.end - shift.start) // HOUR)
    for _ in range(int(hours * 3 * scale) + 1):
        image, original, cmd = rng.choice(_APPS)
        image = image.replace("{user}", person.username)
        at = pick_time(rng, shift)
        process(
            em,
            ws,
            at,
            person.username,
            image,
            cmd.format(img=image, user=person.username, doc=rng.choice(_DOCS)),
            "C:\\Windows\\explorer.exe",
            original,
        )
        if original in ("chrome.exe", "Teams.exe", "OUTLOOK.EXE"):
            network(
                em,
                ws,
                at + rng.randint(1, 20) * SEC,
                person.username,
                image,
                rng.choice(_EXTERNAL),
                443,
            )
        elif original in ("WinWord.exe", "Excel.exe"):
            file_create(
                em,
                ws,
                at + rng.randint(2, 60) * SEC,
                person.username,
                image,
                f"C:\\Users\\{person.username}\\AppData\\Roaming\\Microsoft\\Office\\Recent\\{rng.choice(_DOCS)}.LNK",
            )
    if rng.random() < 0.3:
        at = pick_time(rng, shift)
        exe = f"C:\\Users\\{person.username}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe"
        em.sysmon(
            ws,
            at,
            13,
            {
                "EventType": "SetValue",
                "ProcessGuid": em.process_guid(),
                "ProcessId": str(rng.randrange(1000, 30000, 4)),
                "Image": exe,
                "TargetObject": f"HKU\\{person.sid}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\OneDrive",
                "Details": f'"{exe}" /background',
                "User": f"{DOMAIN}\\{person.username}",
            },
        )
    em.security(
        ws,
        shift.end,
        4634,
        {
            "TargetUserSid": person.sid,
            "TargetUserName": person.username,
            "TargetDomainName": DOMAIN,
            "TargetLogonId": lid,
            "LogonType": "2",
        },
    )


def _admin_session(em: Emitter, c: Company, person: Person, shift: Shift) -> None:
    """An IT admin's RDP into a few servers with their -adm account."""
    rng = em.rng
    ws = c.hosts[person.workstation]
    adm, sid = admin_identity(person)
    for server in rng.sample(c.windows_servers(), rng.randint(1, 3)):
        at = pick_time(rng, shift)
        lid = _logon_id(rng)
        em.security(
            server, at, 4624, logon_data(adm, DOMAIN, sid, 10, ws.ip, ws.name, logon_id=lid)
        )
        em.security(
            server,
            at,
            4672,
            {
                "SubjectUserSid": sid,
                "SubjectUserName": adm,
                "SubjectDomainName": DOMAIN,
                "SubjectLogonId": lid,
                "PrivilegeList": "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeDebugPrivilege",
            },
        )
        script = rng.choice(("Get-DiskReport.ps1", "Restart-Spooler.ps1", "Export-Inventory.ps1"))
        ps = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
        em.security(
            server,
            at + 40 * SEC,
            4688,
            {
                "SubjectUserSid": sid,
                "SubjectUserName": adm,
                "SubjectDomainName": DOMAIN,
                "SubjectLogonId": lid,
                "NewProcessId": hex(rng.randrange(0x400, 0x8000, 4)),
                "NewProcessName": ps,
                "TokenElevationType": "%%1937",
                "ProcessId": "0x1f4c",
                "CommandLine": f"powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\{script}",
                "ParentProcessName": "C:\\Windows\\explorer.exe",
                "MandatoryLabel": "S-1-16-12288",
            },
        )
        em.security(
            server,
            at + rng.randint(5, 50) * 60 * SEC,
            4634,
            {
                "TargetUserSid": sid,
                "TargetUserName": adm,
                "TargetDomainName": DOMAIN,
                "TargetLogonId": lid,
                "LogonType": "10",
            },
        )


def _backup_run(em: Emitter, c: Company, day_ns: int) -> None:
    """The nightly backup service account touching every server (a classic fan-out)."""
    rng = em.rng
    backup = c.hosts["BACKUP01"]
    at = day_ns + int(rng.uniform(1.0, 1.5) * HOUR)
    for server in c.windows_servers():
        if server is backup:
            continue
        lid = _logon_id(rng)
        em.security(
            server,
            at,
            4624,
            logon_data(
                "svc-backup",
                DOMAIN,
                "S-1-5-21-3623811015-3361044348-30300820-1500",
                3,
                backup.ip,
                "BACKUP01",
                package="NTLM",
                logon_id=lid,
            ),
        )
        em.security(
            server,
            at,
            4672,
            {
                "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-1500",
                "SubjectUserName": "svc-backup",
                "SubjectDomainName": DOMAIN,
                "SubjectLogonId": lid,
                "PrivilegeList": "SeBackupPrivilege\n\t\t\tSeRestorePrivilege",
            },
        )
        at += rng.randint(4, 12) * 60 * SEC
        em.security(
            server,
            at,
            4634,
            {
                "TargetUserSid": "S-1-5-21-3623811015-3361044348-30300820-1500",
                "TargetUserName": "svc-backup",
                "TargetDomainName": DOMAIN,
                "TargetLogonId": lid,
                "LogonType": "3",
            },
        )


def _new_hire(em: Emitter, c: Company, day_ns: int, n: int) -> None:
    """HR onboarding: an account created and added to Remote Desktop Users."""
    rng = em.rng
    admin = c.it_staff[0]
    dc = c.hosts["DC01"]
    at = day_ns + int(rng.uniform(9.5, 11.0) * HOUR)
    name = f"newhire{n:02d}"
    sid = f"S-1-5-21-3623811015-3361044348-30300820-{2000 + n}"
    em.security(
        dc,
        at,
        4720,
        {
            "TargetUserName": name,
            "TargetDomainName": DOMAIN,
            "TargetSid": sid,
            "SubjectUserSid": admin_identity(admin)[1],
            "SubjectUserName": admin_identity(admin)[0],
            "SubjectDomainName": DOMAIN,
            "SamAccountName": name,
            "UserPrincipalName": f"{name}@corp.example",
            "PrimaryGroupId": "513",
        },
    )
    em.security(
        dc,
        at + 90 * SEC,
        4732,
        {
            "MemberName": f"CN={name},OU=Staff,DC=corp,DC=example",
            "MemberSid": sid,
            "TargetUserName": "Remote Desktop Users",
            "TargetDomainName": "Builtin",
            "TargetSid": "S-1-5-32-555",
            "SubjectUserName": admin_identity(admin)[0],
            "SubjectDomainName": DOMAIN,
        },
    )


def windows_day(
    em: Emitter, c: Company, day_index: int, day_ns: int, shifts: dict[str, list[Shift]],
    weekend: bool, scale: float,
) -> None:  # fmt: skip
    """One day of benign Windows activity."""
    for person in c.people:
        for shift in shifts[person.username]:
            _workday(em, c, person, shift, scale)
            if person.admin_account and em.rng.random() < 0.7:
                _admin_session(em, c, person, shift)
    _backup_run(em, c, day_ns)
    if not weekend and day_index % 7 == 0:
        _new_hire(em, c, day_ns, day_index // 7 + 1)
