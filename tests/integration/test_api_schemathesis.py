"""Schemathesis against ``/openapi.json`` with an admin token: no operation answers 500.

Generated requests go over real HTTP to a running server; a bounded number of examples
per operation keeps the run well under a minute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from .api_server import api_server

EXAMPLES = 12


def _fuzz(
    operation: Any,
    url: str,
    headers: dict[str, str],
    statuses: list[tuple[str, int]],
    failures: list[str],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=headers, timeout=30)
        statuses.append((operation.path, response.status_code))
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path}: {response.status_code} "
                f"{response.text[:200]} (query={case.query}, body={case.body!r:.200})"
            )
        elif response.status_code >= 400:
            assert set(response.json()) >= {"error"}, response.text

    check()


def test_no_operation_answers_500(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
        statuses: list[tuple[str, int]] = []
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            operations += 1
            _fuzz(result.ok(), server.url, server.bearer("admin"), statuses, failures)
        assert operations >= 25
        if failures:
            pytest.fail("\n".join(failures[:20]))
        # Generated requests got through: many were answered 2xx, and 401 only for
        # wrong passwords.
        assert sum(200 <= s < 300 for _, s in statuses) >= 3 * operations
        assert {p for p, s in statuses if s == 401} <= {"/api/login"}
        # The admin token was not revoked by a generated request along the way.
        assert server.client("admin").get("/api/me").status_code == 200
