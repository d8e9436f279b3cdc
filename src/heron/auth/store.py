"""Users, sessions, API tokens and the one-time setup token, in ``state/auth.sqlite``.

SQLite rather than the DuckDB store: ``heron users …`` must work while ``heron serve``
holds the DuckDB file, and WAL lets one writer and many readers share it across
processes. Secrets are never stored: passwords as argon2id hashes, session ids, API
tokens and the setup token as their sha256 (they are random 256-bit values, so a fast
hash is enough, and a lookup by hash is one index probe).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.auth.errors import AccountError, LoginFailed, TooManyAttempts
from heron.auth.passwords import MAX_PASSWORD, MIN_PASSWORD, Passwords
from heron.auth.principal import ROLES, SCOPES, Principal, expand_scopes

__all__ = [
    "TOKEN_PREFIX",
    "AuthStore",
    "RateLimits",
    "Session",
    "TokenInfo",
    "UserInfo",
]

NS = 1_000_000_000
TOKEN_PREFIX = "heron_"
SETUP_TTL_NS = 24 * 3600 * NS
#: Session ids are refreshed in the database at most this often (idle expiry).
_TOUCH_EVERY_NS = 60 * NS
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL,
    created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,
    created INTEGER NOT NULL, last_seen INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
    created INTEGER NOT NULL, expires INTEGER, revoked INTEGER, last_used INTEGER,
    created_by TEXT);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
CREATE TABLE IF NOT EXISTS setup (hash TEXT NOT NULL, expires INTEGER NOT NULL);
"""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def _now() -> int:
    return time.time_ns()


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Failed logins allowed within ``window_ns``, per user name and per client."""

    per_user: int = 5
    per_client: int = 20
    window_ns: int = 15 * 60 * NS


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: ``id`` goes in the cookie, ``csrf`` in forms and headers."""

    id: str
    csrf: str
    user: str
    role: str
    expires: int  # absolute expiry, ns


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    role: str
    created: int
    updated: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "created": self.created,
            "updated": self.updated,
        }


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    scopes: tuple[str, ...]
    created: int
    expires: int | None
    revoked: int | None
    last_used: int | None
    created_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked is None and (self.expires is None or self.expires > _now())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scopes": list(self.scopes),
            "created": self.created,
            "expires": self.expires,
            "revoked": self.revoked,
            "last_used": self.last_used,
            "created_by": self.created_by,
            "active": self.active,
        }


def check_name(name: str, what: str = "user") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AccountError(
            f"a {what} name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a "
            "letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    return role


class AuthStore:
    """Accounts and credentials of one data directory."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        passwords: Passwords | None = None,
        limits: RateLimits | None = None,
        idle_ns: int = 2 * 3600 * NS,
        absolute_ns: int = 12 * 3600 * NS,
    ) -> None:
        path = Path(data_dir) / "state" / "auth.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.passwords = passwords or Passwords()
        self.limits = limits or RateLimits()
        self.idle_ns = idle_ns
        self.absolute_ns = absolute_ns
        # One connection shared by the event loop and worker threads, under a lock:
        # every statement here is a short indexed probe.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
        path.chmod(0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    # -- users ----------------------------------------------------------------------

    def create_user(self, name: str, password: str, role: str) -> None:
        check_name(name)
        check_password(password)
        check_role(role)
        hashed = self.passwords.hash(password)
        now = _now()
        with self._write() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"user {name!r} already exists", status=409)
            db.execute(
                "INSERT INTO users (name, role, hash, created, updated) VALUES (?, ?, ?, ?, ?)",
                (name, role, hashed, now, now),
            )

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        hashed = self.passwords.hash(password)
        with self._write() as db:
            cur = db.execute(
                "UPDATE users SET hash = ?, updated = ? WHERE name = ?", (hashed, _now(), name)
            )
            if cur.rowcount == 0:
                raise AccountError(f"no user {name!r}", status=404)
            # A new password ends every session opened with the old one.
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    def set_role(self, name: str, role: str) -> None:
        check_role(role)
        with self._write() as db:
            row = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise AccountError(f"no user {name!r}", status=404)
            if row[0] == "admin" and role != "admin":
                self._keep_an_admin(db, name)
            db.execute(
                "UPDATE users SET role = ?, updated = ? WHERE name = ?", (role, _now(), name)
            )

    def delete_user(self, name: str) -> None:
        with self._write() as db:
            row = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise AccountError(f"no user {name!r}", status=404)
            if row[0] == "admin":
                self._keep_an_admin(db, name)
            db.execute("DELETE FROM users WHERE name = ?", (name,))
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    @staticmethod
    def _keep_an_admin(db: sqlite3.Connection, leaving: str) -> None:
        (others,) = db.execute(
            "SELECT count(*) FROM users WHERE role = 'admin' AND name <> ?", (leaving,)
        ).fetchone()
        if not others:
            raise AccountError("cannot remove the last admin", status=409)

    def users(self) -> list[UserInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, role, created, updated FROM users ORDER BY name"
            ).fetchall()
        return [UserInfo(*row) for row in rows]

    def user(self, name: str) -> UserInfo | None:
        row = self._one("SELECT name, role, created, updated FROM users WHERE name = ?", (name,))
        return UserInfo(*row) if row else None

    def has_users(self) -> bool:
        return self._one("SELECT 1 FROM users LIMIT 1") is not None

    # -- login and sessions ---------------------------------------------------------

    def _failures(self, key: str, since: int) -> tuple[int, int | None]:
        row = self._one(
            "SELECT count(*), min(at) FROM login_failures WHERE key = ? AND at >= ?", (key, since)
        )
        return (int(row[0]), row[1]) if row else (0, None)

    def _check_rate(self, name: str, client: str, now: int) -> None:
        since = now - self.limits.window_ns
        for key, limit in (
            (f"user:{name[:128].lower()}", self.limits.per_user),
            (f"client:{client}", self.limits.per_client),
        ):
            count, oldest = self._failures(key, since)
            if count >= limit:
                wait = (oldest or now) + self.limits.window_ns - now
                raise TooManyAttempts(max(1, -(-wait // NS)))

    def login(self, name: str, password: str, client: str) -> Session:
        """A new session for ``name``; ``LoginFailed`` or ``TooManyAttempts`` otherwise.

        Unknown users and wrong passwords take the same path, the same time (a dummy
        argon2 verification) and give the same error; both count toward the limits.
        """
        now = _now()
        name = name if isinstance(name, str) else ""
        self._check_rate(name, client, now)
        self.passwords.prepare()
        row = self._one("SELECT hash, role FROM users WHERE name = ?", (name,))
        password = password if isinstance(password, str) else ""
        if row is None:
            self.passwords.verify_dummy(password[:MAX_PASSWORD])
            ok = False
        else:
            ok = len(password) <= MAX_PASSWORD and self.passwords.verify(row[0], password)
        if not ok:
            with self._write() as db:
                db.execute(
                    "DELETE FROM login_failures WHERE at < ?", (now - self.limits.window_ns,)
                )
                db.executemany(
                    "INSERT INTO login_failures (key, at) VALUES (?, ?)",
                    [(f"user:{name[:128].lower()}", now), (f"client:{client}", now)],
                )
            raise LoginFailed()
        assert row is not None
        if self.passwords.needs_rehash(row[0]):
            self.set_password(name, password)
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + self.absolute_ns
        with self._write() as db:
            db.execute("DELETE FROM login_failures WHERE key = ?", (f"user:{name.lower()}",))
            db.execute(
                "DELETE FROM sessions WHERE expires < ? OR last_seen < ?", (now, now - self.idle_ns)
            )
            db.execute(
                "INSERT INTO sessions (id_hash, user, csrf, created, last_seen, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_digest(session_id), name, csrf, now, now, expires),
            )
        return Session(session_id, csrf, name, row[1], expires)

    def logout(self, session_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(session_id),))

    def session(self, session_id: str) -> Session | None:
        """The live session with this id (idle and absolute expiry checked), or None."""
        if not session_id or len(session_id) > 128:
            return None
        key = _digest(session_id)
        row = self._one(
            "SELECT s.user, s.csrf, s.last_seen, s.expires, u.role FROM sessions s "
            "JOIN users u ON u.name = s.user WHERE s.id_hash = ?",
            (key,),
        )
        if row is None:
            return None
        user, csrf, last_seen, expires, role = row
        now = _now()
        if now >= expires or now - last_seen >= self.idle_ns:
            self.logout(session_id)
            return None
        if now - last_seen >= _TOUCH_EVERY_NS:
            with self._write() as db:
                db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, key))
        return Session(session_id, csrf, user, role, expires)

    def session_principal(self, session_id: str) -> Principal | None:
        found = self.session(session_id)
        if found is None:
            return None
        return Principal(found.user, "user", expand_scopes({found.role}), session_id=session_id)

    # -- API tokens -----------------------------------------------------------------

    def create_token(
        self,
        name: str,
        scopes: Iterable[str],
        expires_ns: int | None,
        *,
        created_by: str | None = None,
    ) -> str:
        """A new token's secret (shown once; only its sha256 is kept)."""
        check_name(name, "token")
        wanted = sorted(set(scopes))
        if not wanted or any(s not in SCOPES for s in wanted):
            raise AccountError(f"token scopes are one or more of {', '.join(SCOPES)}")
        now = _now()
        if expires_ns is not None and expires_ns <= now:
            raise AccountError("a token's expiry must be in the future")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write() as db:
            row = db.execute("SELECT revoked FROM tokens WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] is None:
                raise AccountError(f"token {name!r} already exists", status=409)
            db.execute("DELETE FROM tokens WHERE name = ?", (name,))
            db.execute(
                "INSERT INTO tokens (name, hash, scopes, created, expires, revoked, last_used, "
                "created_by) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                (name, _digest(secret), " ".join(wanted), now, expires_ns, created_by),
            )
        return secret

    def revoke_token(self, name: str) -> None:
        with self._write() as db:
            cur = db.execute(
                "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", (_now(), name)
            )
            if cur.rowcount == 0:
                raise AccountError(f"no active token {name!r}", status=404)

    def tokens(self) -> list[TokenInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, scopes, created, expires, revoked, last_used, created_by "
                "FROM tokens ORDER BY name"
            ).fetchall()
        return [TokenInfo(r[0], tuple(r[1].split()), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def token_principal(self, secret: str) -> Principal | None:
        """The token's principal, or None when unknown, revoked or expired."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
            return None
        key = _digest(secret)
        row = self._one(
            "SELECT name, hash, scopes, expires, revoked, last_used FROM tokens WHERE hash = ?",
            (key,),
        )
        if row is None:
            return None
        name, stored, scopes, expires, revoked, last_used = row
        now = _now()
        if not hmac.compare_digest(stored, key) or revoked is not None:
            return None
        if expires is not None and now >= expires:
            return None
        if last_used is None or now - last_used >= _TOUCH_EVERY_NS:
            with self._write() as db:
                db.execute("UPDATE tokens SET last_used = ? WHERE hash = ?", (now, key))
        return Principal(name, "token", expand_scopes(set(scopes.split())))

    def accepts_ingest(self, secret: str) -> bool:
        """Whether ``secret`` is a live API token allowed to ingest (HEC, bulk, OTLP)."""
        principal = self.token_principal(secret)
        return principal is not None and principal.allows("ingest")

    # -- first admin ----------------------------------------------------------------

    def create_setup_token(self) -> str | None:
        """A one-time setup token (24 h) when there are no users yet; None otherwise."""
        if self.has_users():
            return None
        secret = secrets.token_urlsafe(24)
        with self._write() as db:
            db.execute("DELETE FROM setup")
            db.execute(
                "INSERT INTO setup (hash, expires) VALUES (?, ?)",
                (_digest(secret), _now() + SETUP_TTL_NS),
            )
        return secret

    def setup_pending(self) -> bool:
        return (
            not self.has_users()
            and self._one("SELECT 1 FROM setup WHERE expires > ?", (_now(),)) is not None
        )

    def complete_setup(self, secret: str, name: str, password: str) -> None:
        """Create the first admin with the setup token; the token is then spent."""
        check_name(name)
        check_password(password)
        hashed = self.passwords.hash(password)
        now = _now()
        given = _digest(secret if isinstance(secret, str) else "")
        with self._write() as db:
            row = db.execute("SELECT hash, expires FROM setup").fetchone()
            valid = row is not None and hmac.compare_digest(row[0], given) and row[1] > now
            if not valid or db.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                raise AccountError("invalid or expired setup token", status=403)
            db.execute(
                "INSERT INTO users (name, role, hash, created, updated) "
                "VALUES (?, 'admin', ?, ?, ?)",
                (name, hashed, now, now),
            )
            db.execute("DELETE FROM setup")
