"""``POST /api/rules/backtest``: Sigma rules run over the node's stored history (SQL).

The rules come in the request (``heron rules backtest`` sends the files it was given);
the node writes them to a folder of its spool, named as sent, and runs the same
backtest as the command does on a store of its own.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, StringConstraints

from heron.api.access import audit, needs, principal
from heron.api.limits import MAX_RULE_BYTES
from heron.detect.sigma.ir import LoadError

__all__ = ["MAX_BACKTEST_BYTES", "router"]

router = APIRouter(tags=["rules"])

#: Largest backtest request: a folder of rules (the SigmaHQ Windows rules are 10 MB).
MAX_BACKTEST_BYTES = 64 * 1024 * 1024
MAX_BACKTEST_RULES = 10_000
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


class RuleText(BaseModel):
    name: str = Field(min_length=1, max_length=4096, description="Shown in load errors")
    text: Annotated[str, StringConstraints(max_length=MAX_RULE_BYTES)]


class BacktestIn(BaseModel):
    rules: list[RuleText] = Field(min_length=1, max_length=MAX_BACKTEST_RULES)
    start: int | None = Field(None, description="ns since the epoch (inclusive)")
    end: int | None = Field(None, description="ns since the epoch (exclusive)")
    limit: int = Field(1000, ge=0, le=100_000, description="Detections returned")
    alert: bool = Field(False, description="Also store the detections as alerts (analyst)")


def _write(folder: Path, rules: list[RuleText]) -> dict[str, str]:
    """Each rule file in ``folder`` under a safe name; written path → name as sent."""
    names: dict[str, str] = {}
    for i, rule in enumerate(rules):
        stem = _UNSAFE.sub("_", Path(rule.name.replace("\\", "/")).name)[-100:] or "rule"
        path = folder / f"{i:05d}-{stem}"
        if path.suffix not in (".yml", ".yaml"):
            path = path.with_name(path.name + ".yml")
        path.write_text(rule.text, encoding="utf-8")
        names[str(path)] = rule.name
    return names


def _named(error: LoadError, names: dict[str, str]) -> LoadError:
    """A load error naming the file as sent, not as written in the spool."""
    name = names.get(error.path, error.path)
    return error._replace(path=name, reason=error.reason.replace(error.path, name))


@router.post(
    "/rules/backtest",
    response_model=dict[str, Any],
    summary="Run Sigma rules over stored events (a retro-hunt); with alert, store alerts",
    **needs("read"),
)
def backtest_rules(body: BacktestIn, request: Request) -> dict[str, Any]:
    from heron.detect.rulestate import rule_placeholders
    from heron.detect.sigma.cache import default_cache_dir
    from heron.errors import HeronError
    from heron.rules.backtest import backtest, report

    if body.alert and not principal(request).allows("analyst"):
        raise HTTPException(403, "forbidden: storing alerts needs the 'analyst' role or scope")
    node = request.app.state.node
    spool = node.data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="backtest-", dir=spool))
    try:
        names = _write(folder, body.rules)
        try:
            result = backtest(
                node.store,
                [folder],
                start=body.start,
                end=body.end,
                cache_dir=default_cache_dir(node.data_dir) if body.alert else None,
                placeholders=rule_placeholders(node.data_dir),
            )
        except HeronError as exc:
            raise HTTPException(422, str(exc)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result.errors = [_named(e, names) for e in result.errors]
    found = report(result, body.limit)
    if body.alert:
        alerts = node.alerts
        if alerts is None:
            from heron.alerts import AlertStore

            alerts = AlertStore(node.store)
        stored = alerts.add(result.detections)
        found["stored"] = {"created": stored.created, "grouped": stored.grouped}
    audit(
        request,
        "rule.backtest",
        None,
        {"rules": result.rules, "detections": len(result.detections), "alert": body.alert},
    )
    return found
