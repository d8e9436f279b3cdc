"""The simulated company: people, their workstations, servers and address plan."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

from heron.simulate.config import SimulationConfig

__all__ = [
    "DOMAIN",
    "FQDN",
    "Company",
    "Host",
    "Person",
    "admin_identity",
    "build_company",
    "public_ip",
]

DOMAIN = "CORP"
FQDN = "corp.example"
AWS_ACCOUNT = "418273645091"
TENANT_ID = "6f1d2c3b-8a4e-4c1f-9b7a-2d5e8f9a0b1c"

_FIRST = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yasmin",
    "zoe",
    "aaron",
    "bianca",
    "chen",
    "dmitri",
    "elena",
    "farah",
    "gustav",
    "hana",
    "ines",
    "jonas",
    "kiri",
    "lars",
    "maya",
    "nora",
    "omar",
    "priya",
    "quentin",
    "rosa",
    "samir",
    "tara",
    "uma",
    "viktor",
    "wen",
    "xavier",
]
_LAST = [
    "smith",
    "jones",
    "taylor",
    "brown",
    "wilson",
    "evans",
    "thomas",
    "roberts",
    "walker",
    "wright",
    "green",
    "hall",
    "wood",
    "harris",
    "martin",
    "clarke",
    "lewis",
    "young",
    "king",
    "baker",
    "hill",
    "moore",
    "allen",
    "ward",
]
_DEPARTMENTS = ("finance", "sales", "engineering", "support", "hr", "marketing")


@dataclass(slots=True)
class Person:
    """An employee: their account, workstation and habits."""

    username: str  # sAMAccountName, also the Linux / cloud name
    full_name: str
    department: str
    sid: str
    workstation: str
    ip: str
    home_country: str
    admin_account: str | None = None  # a separate "-adm" account for IT staff
    starts_hour: float = 8.5
    works_late: bool = False


def admin_identity(person: Person) -> tuple[str, str]:
    """The name and SID of an IT person's separate administrator account."""
    rid = int(person.sid.rsplit("-", 1)[1]) + 5000
    return person.admin_account or f"{person.username}-adm", f"{person.sid.rsplit('-', 1)[0]}-{rid}"


@dataclass(slots=True)
class Host:
    """A machine: Windows workstation or server, or Linux server."""

    name: str  # short name; Windows events carry name.corp.example
    ip: str
    os: str  # windows | linux
    role: str  # workstation | dc | file | sql | app | backup | mail | web | db | bastion
    record_id: int = 0  # next Windows EventRecordID (unique across the company)
    audit_serial: int = 0  # next auditd serial

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{FQDN}"


@dataclass(slots=True)
class Company:
    people: list[Person]
    hosts: dict[str, Host]
    it_staff: list[Person]
    nat_ip: str = "203.0.113.10"
    web_ip: str = "10.10.3.10"
    aws_users: dict[str, str] = field(default_factory=dict)  # IAM user → access key id

    def windows_servers(self) -> list[Host]:
        return [h for h in self.hosts.values() if h.os == "windows" and h.role != "workstation"]

    def linux_servers(self) -> list[Host]:
        return [h for h in self.hosts.values() if h.os == "linux"]


def public_ip(rng: random.Random) -> str:
    """A random globally routable IPv4 address (no private, reserved or multicast)."""
    while True:
        addr = ipaddress.IPv4Address(rng.getrandbits(32))
        if addr.is_global and not addr.is_multicast:
            return str(addr)


def _access_key(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "AKIA" + "".join(rng.choice(alphabet) for _ in range(16))


def build_company(config: SimulationConfig, rng: random.Random) -> Company:
    """People, hosts and addresses for ``config``, drawn from ``rng``."""
    hosts: dict[str, Host] = {}
    servers = [
        ("DC01", "dc"), ("DC02", "dc"), ("FS01", "file"), ("SQL01", "sql"),
        ("APP01", "app"), ("EXCH01", "mail"), ("BACKUP01", "backup"), ("PRN01", "print"),
    ]  # fmt: skip
    for i, (name, role) in enumerate(servers):
        hosts[name] = Host(name, f"10.10.0.{10 + i}", "windows", role)
    for i, (name, role) in enumerate(
        [("web01", "web"), ("web02", "web"), ("db01", "db"), ("bastion01", "bastion")]
    ):
        hosts[name] = Host(name, f"10.10.2.{10 + i}", "linux", role)
    for i in range(config.hosts):
        name = f"WS{i + 1:03d}"
        hosts[name] = Host(name, f"10.10.{16 + i // 200}.{20 + i % 200}", "windows", "workstation")
    workstations = [h for h in hosts.values() if h.role == "workstation"]
    people: list[Person] = []
    taken: set[str] = set()
    for i in range(config.users):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        username = f"{first[0]}{last}"
        while username in taken:
            username = f"{first[: len(username) - len(last) + 1]}{last}"
            if username in taken:
                username = f"{first[0]}{last}{rng.randint(2, 99)}"
        taken.add(username)
        ws = workstations[i % len(workstations)]
        people.append(
            Person(
                username=username,
                full_name=f"{first.title()} {last.title()}",
                department=_DEPARTMENTS[i % len(_DEPARTMENTS)] if i >= 2 else "it",
                sid=f"S-1-5-21-3623811015-3361044348-30300820-{1104 + i}",
                workstation=ws.name,
                ip=ws.ip,
                home_country=rng.choice(("US", "US", "US", "GB", "DE")),
                starts_hour=rng.uniform(7.5, 9.5),
                works_late=rng.random() < 0.2,
            )
        )
    it_staff = people[:2]
    for person in it_staff:
        person.admin_account = f"{person.username}-adm"
        person.works_late = True
    company = Company(people, hosts, it_staff)
    for i, host in enumerate(hosts.values()):
        # Record ids are per host; offsets keep them unique across the company so that
        # a record id names one event (labels rely on it).
        host.record_id = (i + 1) * 10_000_000 + rng.randint(1000, 90_000)
        host.audit_serial = rng.randint(1000, 90_000)
    company.aws_users = {
        "ci-deploy": _access_key(rng),
        "backup-sync": _access_key(rng),
        "data-export": _access_key(rng),
    }
    return company
