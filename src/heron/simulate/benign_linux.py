# ruff: noqa: E501 -- log records and their field tables read best one record a line.
"""Benign Linux activity: admins over SSH with sudo, cron, and scanners on the internet."""

from __future__ import annotations

import base64

from heron.simulate.company import Company, Host, public_ip
from heron.simulate.emit import SEC, Emitter
from heron.simulate.rhythm import HOUR, Shift, pick_time

__all__ = ["linux_day", "sudo_command"]

_SCANNER_USERS = (
    "root", "admin", "test", "user", "oracle", "ubuntu", "postgres", "git", "ftpuser",
    "pi", "guest", "support", "deploy", "mysql", "nagios", "hadoop", "steam", "minecraft",
)  # fmt: skip
_ADMIN_COMMANDS = (
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/systemctl status app.service",
    "/usr/bin/journalctl -u app.service --since today",
    "/usr/bin/apt-get update",
    "/usr/bin/apt-get -y upgrade",
    "/usr/bin/tail -n 200 /var/log/nginx/error.log",
    "/usr/bin/docker ps",
    "/usr/bin/du -sh /var/lib/postgresql",
)


def _pid(em: Emitter) -> int:
    return em.rng.randint(1000, 65000)


def sudo_command(em: Emitter, host: Host, ns: int, user: str, uid: int, command: str) -> None:
    """A sudo run as syslog sees it and as auditd records it."""
    em.auth(
        host,
        ns,
        "sudo",
        None,
        f"{user:>8} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND={command}",
    )
    em.auth(
        host,
        ns + 2_000_000,
        "sudo",
        None,
        f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={uid})",
    )
    argv = command.split(" ")
    hexcmd = " ".join(argv[0].rsplit("/", 1)[-1:] + argv[1:]).encode().hex().upper()
    em.audit(
        host,
        ns + 3_000_000,
        "USER_CMD",
        f'pid={_pid(em)} uid={uid} auid={uid} ses=3 subj=unconfined msg=\'cwd="/home/{user}" cmd={hexcmd} exe="/usr/bin/sudo" terminal=pts/0 res=success\'',
    )
    args = " ".join(f'a{i}="{a}"' for i, a in enumerate(argv))
    em.audit(host, ns + 4_000_000, "EXECVE", f"argc={len(argv)} {args}")
    em.auth(
        host, ns + 5 * SEC, "sudo", None, "pam_unix(sudo:session): session closed for user root"
    )


def ssh_session(
    em: Emitter, host: Host, ns: int, user: str, uid: int, src: str, method: str,
) -> int:  # fmt: skip
    """An accepted SSH logon and its PAM session; returns the sshd pid."""
    pid = _pid(em)
    port = em.rng.randint(40000, 65000)
    fingerprint = base64.b64encode(em.rng.getrandbits(256).to_bytes(32, "big")).decode()
    key = f": ED25519 SHA256:{fingerprint.rstrip('=')}" if method == "publickey" else ""
    em.auth(host, ns, "sshd", pid, f"Accepted {method} for {user} from {src} port {port} ssh2{key}")
    em.auth(
        host,
        ns + 30_000_000,
        "sshd",
        pid,
        f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)",
    )
    em.audit(
        host,
        ns + 40_000_000,
        "USER_LOGIN",
        f"pid={pid} uid=0 auid={uid} ses=3 subj=unconfined msg='op=login id={uid} exe=\"/usr/sbin/sshd\" hostname={src} addr={src} terminal=/dev/pts/0 res=success'",
    )
    return pid


def _admin_work(em: Emitter, c: Company, shift: Shift, user: str, uid: int, src: str) -> None:
    rng = em.rng
    for host in rng.sample(c.linux_servers(), rng.randint(1, 3)):
        at = pick_time(rng, shift)
        if rng.random() < 0.05:  # a typo in the password before the key agent is unlocked
            em.auth(
                host,
                at,
                "sshd",
                _pid(em),
                f"Failed password for {user} from {src} port {rng.randint(40000, 65000)} ssh2",
            )
            at += rng.randint(5, 20) * SEC
        pid = ssh_session(em, host, at, user, uid, src, "publickey")
        for _ in range(rng.randint(1, 4)):
            at += rng.randint(20, 600) * SEC
            sudo_command(em, host, at, user, uid, rng.choice(_ADMIN_COMMANDS))
        at += rng.randint(60, 1800) * SEC
        em.auth(host, at, "sshd", pid, f"pam_unix(sshd:session): session closed for user {user}")


def _scanner(em: Emitter, c: Company, day_ns: int) -> None:
    """An internet scanner guessing logins on the public SSH servers."""
    rng = em.rng
    ip = public_ip(rng)
    host = c.hosts[rng.choice(("web01", "bastion01"))]
    at = day_ns + rng.randrange(24 * HOUR)
    names = rng.sample(_SCANNER_USERS, rng.randint(2, 14))
    for name in names:
        for _ in range(rng.randint(1, 3)):
            pid = _pid(em)
            port = rng.randint(30000, 65000)
            if name == "root":
                em.auth(
                    host, at, "sshd", pid, f"Failed password for root from {ip} port {port} ssh2"
                )
            else:
                em.auth(host, at, "sshd", pid, f"Invalid user {name} from {ip} port {port}")
                em.auth(
                    host,
                    at + 200_000_000,
                    "sshd",
                    pid,
                    f"Failed password for invalid user {name} from {ip} port {port} ssh2",
                )
            em.auth(
                host,
                at + 400_000_000,
                "sshd",
                pid,
                f"Connection closed by {'authenticating user root' if name == 'root' else f'invalid user {name}'} {ip} port {port} [preauth]",
            )
            at += rng.randint(2, 40) * SEC
        em.asa(
            at,
            6,
            "106100",
            f"access-list outside_access_in permitted tcp outside/{ip}({rng.randint(30000, 65000)}) -> dmz/{host.ip}(22) hit-cnt 1 first hit [0x1a2b3c4d, 0x0]",
        )


def _cron(em: Emitter, c: Company, day_ns: int) -> None:
    for host in c.linux_servers():
        for hour in (0, 6, 12, 18):
            at = day_ns + hour * HOUR + 17 * 60 * SEC + em.rng.randrange(SEC)
            pid = _pid(em)
            em.auth(
                host,
                at,
                "CRON",
                pid,
                "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
            )
            em.auth(
                host,
                at + 2 * SEC,
                "CRON",
                pid,
                "pam_unix(cron:session): session closed for user root",
            )


def linux_day(
    em: Emitter, c: Company, day_ns: int, shifts: dict[str, list[Shift]], scanners: int
) -> None:
    """One day on the Linux servers."""
    for i, person in enumerate(c.it_staff):
        for shift in shifts[person.username]:
            _admin_work(em, c, shift, person.username, 1001 + i, person.ip)
    _cron(em, c, day_ns)
    for _ in range(scanners):
        _scanner(em, c, day_ns)
