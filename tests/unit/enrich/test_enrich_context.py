"""Asset inventory and identities: import, then ``asset.*`` and ``user.*`` on events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from heron.cli.main import main
from heron.enrich.asset import AssetEnricher, AssetInventory
from heron.enrich.identity import IdentityDirectory, IdentityEnricher
from heron.enrich.records import parse_records
from heron.store.duckdb import DuckDBStore

ASSETS_CSV = b"""Name,IP,Criticality,Owner,Business Unit,Tags,OS
dc01.corp.example,10.0.0.10,critical,it-ops,Infrastructure,tier0;ad,Windows
web01.eu.example,10.1.0.5,medium,web-team,Shop,,Linux
web01.us.example,10.2.0.5,high,web-team,Shop,,Linux
kiosk7,10.9.9.9,2,facilities,Retail,,Windows
bad-crit,10.9.9.10,urgent,x,y,,z
badip,10.9.9.300,low,x,y,,z
short row
"""


def _import_assets(data_dir: Path) -> Any:
    with DuckDBStore(data_dir) as store:
        return AssetInventory(store).import_records(
            parse_records(ASSETS_CSV, "cmdb.csv"), where="cmdb.csv"
        )


def test_asset_import_refuses_bad_records_and_keeps_the_rest(data_dir: Path) -> None:
    summary = _import_assets(data_dir)
    assert summary.stored == 4
    reasons = sorted(str(e) for e in summary.errors)
    assert any("cmdb.csv:6" in r and "criticality" in r for r in reasons)
    assert any("cmdb.csv:7" in r and "10.9.9.300" in r for r in reasons)
    assert any("line 8" in r for r in reasons)
    assert summary.ignored_columns == ["os"]


def test_assets_by_fqdn_short_name_and_address(data_dir: Path) -> None:
    _import_assets(data_dir)
    enricher = AssetEnricher(data_dir=data_dir)
    events: list[dict[str, Any]] = [
        {"host.name": "DC01"},  # short name of dc01.corp.example
        {"host.name": "kiosk7.store.example"},  # FQDN of the short name in the inventory
        {"host.name": "web01"},  # two web01s: ambiguous, names neither
        {"host.name": "unknown", "host.ip": "10.2.0.5"},
        {"host.name": "web01.eu.example.", "asset.owner": "kept"},
    ]
    enricher.enrich(events)
    assert events[0]["asset.criticality"] == "critical"
    assert events[0]["asset.business_unit"] == "Infrastructure"
    assert events[0]["asset.tags"] == ["tier0", "ad"]
    assert events[1]["asset.criticality"] == "medium"  # 2 → medium
    assert "asset.criticality" not in events[2]
    assert events[3]["asset.name"] == "web01.us.example"
    assert events[4]["asset.owner"] == "kept"  # never overwrites what the event says
    assert events[4]["asset.criticality"] == "medium"


def test_replace_and_json_import(data_dir: Path) -> None:
    _import_assets(data_dir)
    records = parse_records(
        orjson.dumps(
            {"assets": [{"hostname": "new01", "ips": ["10.5.5.5"], "criticality": "high"}]}
        ),
        "api",
    )
    with DuckDBStore(data_dir) as store:
        inventory = AssetInventory(store)
        inventory.import_records(records, replace=True)
        assert inventory.all().column("name").to_pylist() == ["new01"]
    enricher = AssetEnricher(data_dir=data_dir)
    event: dict[str, Any] = {"host.ip": ["192.0.2.1", "10.5.5.5"]}
    enricher.enrich([event])
    assert event["asset.criticality"] == "high"


IDENTITIES = [
    {"name": "alice", "email": "alice@corp.example", "full_name": "Alice Liddell",
     "aliases": ["CORP\\alice", "a.liddell"], "roles": "admin;finance", "id": "u-1"},
    {"name": "bob", "email": "bob@corp.example", "upn": "bob@ad.corp.example", "domain": "CORP"},
    {"name": "bob2", "aliases": ["LAB\\bob"]},
    {"full_name": "No Name"},
]  # fmt: skip


def test_identity_aliases_resolve_to_one_user(data_dir: Path) -> None:
    with DuckDBStore(data_dir) as store:
        summary = IdentityDirectory(store).import_records(IDENTITIES, where="hr.json")
    assert summary.stored == 3 and len(summary.errors) == 1
    enricher = IdentityEnricher(data_dir=data_dir)
    events: list[dict[str, Any]] = [
        {"user.name": "CORP\\Alice"},
        {"user.name": "alice@corp.example", "user.id": "S-1-5-21-1-2-3-1104"},
        {"user.name": "A.Liddell"},
        {"user.name": "bob", "user.domain": "CORP"},
        {"user.name": "bob", "user.domain": "LAB"},
        {"user.name": "BOB@AD.CORP.EXAMPLE"},
        {"user.name": "mallory"},
        {"user.name": "svc", "user.target.name": "corp\\alice"},
    ]
    enricher.enrich(events)
    first = events[0]
    assert first["user.name"] == "alice"
    assert first["user.email"] == "alice@corp.example"
    assert first["user.full_name"] == "Alice Liddell"
    assert first["user.roles"] == ["admin", "finance"]
    assert first["user.id"] == "u-1"
    assert first["related.user"] == ["CORP\\Alice", "alice"]
    assert events[1]["user.id"] == "S-1-5-21-1-2-3-1104"  # a SID already there stays
    assert events[1]["user.name"] == "alice"
    assert events[2]["user.name"] == "alice"
    assert events[3]["user.email"] == "bob@corp.example"
    assert events[4]["user.name"] == "bob2"  # LAB\bob is bob2, not bob
    assert events[5]["user.name"] == "bob"
    assert "user.email" not in events[6]
    assert events[7]["user.target.name"] == "alice"
    assert events[7]["user.target.roles"] == ["admin", "finance"]


def test_assets_cli(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "cmdb.csv"
    path.write_bytes(ASSETS_CSV)
    runner = CliRunner()
    result = runner.invoke(
        main, ["assets", "load", str(path), "--json", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert (report["kind"], report["stored"], report["refused"]) == ("hosts", 4, 3)
    people = tmp_path / "people.json"
    people.write_bytes(orjson.dumps(IDENTITIES[:2]))
    result = runner.invoke(
        main, ["assets", "load", str(people), "--json", "--data-dir", str(data_dir)]
    )
    assert orjson.loads(result.stdout.strip().splitlines()[-1])["kind"] == "identities"
    strict = runner.invoke(
        main, ["assets", "load", str(path), "--strict", "--data-dir", str(data_dir)]
    )
    assert strict.exit_code != 0 and "nothing stored" in strict.output
    listed = runner.invoke(
        main, ["assets", "list", "--format", "json", "--data-dir", str(data_dir)]
    )
    assert len(listed.stdout.splitlines()) == 4
