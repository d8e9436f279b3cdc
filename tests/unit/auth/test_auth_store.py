"""AuthStore: passwords, sessions, rate limits, tokens and the setup token, on real SQLite."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from heron.auth import (
    AccountError,
    AuthStore,
    LoginFailed,
    RateLimits,
    TooManyAttempts,
    expand_scopes,
)
from heron.auth.passwords import Passwords

NS = 1_000_000_000
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def store(tmp_path: Path, **kw: object) -> AuthStore:
    return AuthStore(tmp_path, passwords=CHEAP, **kw)  # type: ignore[arg-type]


def test_login_session_and_logout(tmp_path: Path) -> None:
    auth = store(tmp_path)
    auth.create_user("alice", "correct horse", "analyst")
    session = auth.login("alice", "correct horse", "10.0.0.1")
    assert len(session.id) >= 43 and len(session.csrf) >= 43 and session.role == "analyst"
    who = auth.session_principal(session.id)
    assert who is not None and who.name == "alice" and who.kind == "user"
    assert who.scopes == {"analyst", "read"} and not who.allows("admin")
    auth.logout(session.id)
    assert auth.session_principal(session.id) is None


def test_stored_secrets_are_never_in_the_database(tmp_path: Path) -> None:
    auth = store(tmp_path)
    auth.create_user("alice", "correct horse", "admin")
    session = auth.login("alice", "correct horse", "c")
    token = auth.create_token("ci", ["read"], None)
    raw = b"".join(p.read_bytes() for p in (tmp_path / "state").glob("auth.sqlite*"))
    for secret in ("correct horse", session.id, token):
        assert secret.encode() not in raw
    assert b"$argon2id$" in raw


def test_unknown_user_and_wrong_password_fail_alike(tmp_path: Path) -> None:
    auth = store(tmp_path, limits=RateLimits(per_user=100, per_client=100))
    auth.create_user("alice", "correct horse", "read")
    errors = []
    for name, password in (("alice", "wrong password"), ("mallory", "wrong password")):
        with pytest.raises(LoginFailed) as caught:
            auth.login(name, password, "c")
        errors.append(str(caught.value))
    assert errors[0] == errors[1] == "invalid user name or password"


def test_unknown_users_cost_a_real_verification(tmp_path: Path) -> None:
    # The default (production) hasher: an unknown name must not answer measurably faster.
    auth = AuthStore(tmp_path, limits=RateLimits(per_user=100, per_client=100))
    auth.create_user("alice", "correct horse", "read")

    def cpu(name: str) -> float:
        started = time.process_time()
        with pytest.raises(LoginFailed):
            auth.login(name, "wrong password", "c")
        return time.process_time() - started

    cpu("alice")  # warm-up
    known = statistics.median(cpu("alice") for _ in range(3))
    unknown = statistics.median(cpu("nobody") for _ in range(3))
    assert 0.5 < unknown / known < 2.0


def test_failed_logins_are_rate_limited_per_user_also_for_unknown_users(tmp_path: Path) -> None:
    auth = store(tmp_path, limits=RateLimits(per_user=3, per_client=100))
    auth.create_user("alice", "correct horse", "read")
    for name in ("alice", "ghost"):
        for _ in range(3):
            with pytest.raises(LoginFailed):
                auth.login(name, "nope-nope", "10.0.0.9")
        with pytest.raises(TooManyAttempts) as caught:
            auth.login(name, "correct horse", "10.0.0.9")  # even the right password
        assert caught.value.retry_after > 0
    # Another user from the same client is not locked out by alice's failures.
    auth.create_user("bob", "battery staple", "read")
    assert auth.login("bob", "battery staple", "10.0.0.9").user == "bob"


def test_failed_logins_are_rate_limited_per_client(tmp_path: Path) -> None:
    auth = store(tmp_path, limits=RateLimits(per_user=100, per_client=4))
    auth.create_user("alice", "correct horse", "read")
    for number in range(4):
        with pytest.raises(LoginFailed):
            auth.login(f"user{number}", "nope-nope", "192.0.2.7")
    with pytest.raises(TooManyAttempts):
        auth.login("alice", "correct horse", "192.0.2.7")
    assert auth.login("alice", "correct horse", "192.0.2.8").user == "alice"


def test_the_window_passes(tmp_path: Path) -> None:
    auth = store(tmp_path, limits=RateLimits(per_user=1, per_client=10, window_ns=NS // 5))
    auth.create_user("alice", "correct horse", "read")
    with pytest.raises(LoginFailed):
        auth.login("alice", "nope-nope", "c")
    with pytest.raises(TooManyAttempts):
        auth.login("alice", "correct horse", "c")
    time.sleep(0.25)
    assert auth.login("alice", "correct horse", "c").user == "alice"


def test_sessions_expire_when_idle_and_absolutely(tmp_path: Path) -> None:
    idle = store(tmp_path / "a", idle_ns=NS // 5)
    idle.create_user("alice", "correct horse", "read")
    session = idle.login("alice", "correct horse", "c")
    time.sleep(0.25)
    assert idle.session_principal(session.id) is None
    absolute = store(tmp_path / "b", absolute_ns=NS // 5)
    absolute.create_user("alice", "correct horse", "read")
    session = absolute.login("alice", "correct horse", "c")
    assert absolute.session_principal(session.id) is not None
    time.sleep(0.25)
    assert absolute.session_principal(session.id) is None


def test_password_change_and_deletion_end_sessions(tmp_path: Path) -> None:
    auth = store(tmp_path)
    auth.create_user("admin", "correct horse", "admin")
    auth.create_user("alice", "correct horse", "read")
    first = auth.login("alice", "correct horse", "c")
    auth.set_password("alice", "new password!")
    assert auth.session_principal(first.id) is None
    with pytest.raises(LoginFailed):
        auth.login("alice", "correct horse", "c")
    second = auth.login("alice", "new password!", "c")
    auth.delete_user("alice")
    assert auth.session_principal(second.id) is None


def test_tokens_scopes_revocation_and_expiry(tmp_path: Path) -> None:
    auth = store(tmp_path)
    secret = auth.create_token("ci", ["read", "ingest"], None, created_by="alice")
    who = auth.token_principal(secret)
    assert who is not None and who.kind == "token" and who.actor == "token:ci"
    assert who.scopes == {"read", "ingest"} and auth.accepts_ingest(secret)
    assert auth.token_principal(secret + "x") is None
    assert auth.token_principal("not-a-heron-token") is None
    auth.revoke_token("ci")
    assert auth.token_principal(secret) is None and not auth.accepts_ingest(secret)
    assert [t.active for t in auth.tokens()] == [False]
    soon = auth.create_token("short", ["read"], time.time_ns() + NS // 5)
    assert auth.token_principal(soon) is not None
    time.sleep(0.25)
    assert auth.token_principal(soon) is None
    with pytest.raises(AccountError):
        auth.create_token("bad", ["root"], None)
    with pytest.raises(AccountError):
        auth.create_token("../etc", ["read"], None)


def test_role_scopes_nest() -> None:
    assert expand_scopes({"admin"}) == {"admin", "analyst", "read", "ingest"}
    assert expand_scopes({"analyst"}) == {"analyst", "read"}
    assert expand_scopes({"ingest"}) == {"ingest"}


def test_setup_token_creates_the_first_admin_once(tmp_path: Path) -> None:
    auth = store(tmp_path)
    token = auth.create_setup_token()
    assert token is not None and auth.setup_pending()
    with pytest.raises(AccountError):
        auth.complete_setup("wrong", "root", "correct horse")
    auth.complete_setup(token, "root", "correct horse")
    assert [(u.name, u.role) for u in auth.users()] == [("root", "admin")]
    with pytest.raises(AccountError):
        auth.complete_setup(token, "root2", "correct horse")
    assert auth.create_setup_token() is None


def test_the_last_admin_stays(tmp_path: Path) -> None:
    auth = store(tmp_path)
    auth.create_user("root", "correct horse", "admin")
    with pytest.raises(AccountError, match="last admin"):
        auth.delete_user("root")
    with pytest.raises(AccountError, match="last admin"):
        auth.set_role("root", "read")
    auth.create_user("second", "correct horse", "admin")
    auth.set_role("root", "read")
    assert {u.name: u.role for u in auth.users()} == {"root": "read", "second": "admin"}


def test_names_and_passwords_are_checked(tmp_path: Path) -> None:
    auth = store(tmp_path)
    for name in ("", "../x", "a b", "x" * 65, "<script>"):
        with pytest.raises(AccountError):
            auth.create_user(name, "correct horse", "read")
    with pytest.raises(AccountError):
        auth.create_user("alice", "short", "read")
    with pytest.raises(AccountError):
        auth.create_user("alice", "correct horse", "root")
