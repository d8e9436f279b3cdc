"""``heron users`` and ``heron tokens`` on a data directory, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from heron.audit import AuditLog
from heron.auth import AuthStore
from heron.cli.main import main


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def test_users_lifecycle(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    code, out = run(
        "users", "create", "root", "--admin", "--password-stdin", *d, stdin="a long password\n"
    )
    assert code == 0 and "root (admin)" in out
    code, out = run(
        "users",
        "create",
        "ana",
        "--role",
        "analyst",
        "--password-stdin",
        *d,
        stdin="another password\n",
    )
    assert code == 0
    code, out = run("users", "create", "ana", "--password-stdin", *d, stdin="another password\n")
    assert code == 1 and "already exists" in out
    code, out = run("users", "create", "bad", "--password-stdin", *d, stdin="short\n")
    assert code == 1 and "password" in out
    code, out = run("users", "list", "--format", "json", *d)
    assert [orjson.loads(line)["role"] for line in out.splitlines()] == ["analyst", "admin"]
    assert run("users", "passwd", "ana", "--password-stdin", *d, stdin="third password\n")[0] == 0
    auth = AuthStore(tmp_path)
    assert auth.login("ana", "third password", "cli").user == "ana"
    auth.close()
    assert run("users", "role", "ana", "read", *d)[0] == 0
    code, out = run("users", "delete", "root", *d)
    assert code == 1 and "last admin" in out
    assert run("users", "delete", "ana", *d)[0] == 0
    actions = [r.action for r in AuditLog(tmp_path).records()]
    assert actions == ["user.create", "user.create", "user.update", "user.update", "user.delete"]


def test_tokens_lifecycle(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    code, out = run(
        "tokens", "create", "ci", "--scope", "read", "--scope", "ingest", "--expires", "30d", *d
    )
    assert code == 0
    secret = out.splitlines()[0]
    assert secret.startswith("heron_")
    auth = AuthStore(tmp_path)
    who = auth.token_principal(secret)
    assert who is not None and who.scopes == {"read", "ingest"}
    code, out = run("tokens", "list", "--format", "json", *d)
    row = orjson.loads(out.splitlines()[0])
    assert row["name"] == "ci" and row["active"] is True and secret not in out
    assert run("tokens", "create", "x", "--scope", "read", "--expires", "soon", *d)[0] == 2
    assert run("tokens", "revoke", "ci", *d)[0] == 0
    assert auth.token_principal(secret) is None
    assert run("tokens", "revoke", "ci", *d)[0] == 1
    auth.close()
