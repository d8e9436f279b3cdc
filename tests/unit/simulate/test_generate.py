"""The generator: deterministic, parseable by Heron, and labelled so labels find events."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from heron.parsers import ParseContext
from heron.pipeline import transform
from heron.simulate import SimulationConfig, simulate, write_files
from heron.simulate.chains import CHAINS
from heron.simulate.records import SOURCES
from heron.sources.file import read_file

SMALL = SimulationConfig(days=4, seed=7, users=8, hosts=8, scale=0.3)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    write_files(simulate(SMALL), out)
    return out


def test_same_seed_same_bytes(written: Path, tmp_path: Path) -> None:
    write_files(simulate(SMALL), tmp_path)
    for name in [*(s.filename for s in SOURCES.values()), "labels.json"]:
        assert (tmp_path / name).read_bytes() == (written / name).read_bytes(), name


def test_another_seed_another_company() -> None:
    a = simulate(SimulationConfig(days=1, seed=1, users=8, hosts=8, scale=0.2))
    b = simulate(SimulationConfig(days=1, seed=2, users=8, hosts=8, scale=0.2))
    assert [r.text for r in a.records] != [r.text for r in b.records]


def test_every_record_is_accepted_by_heron(written: Path) -> None:
    """Each file through Heron's own readers and parsers: no dead letters at all."""
    total = 0
    for source in SOURCES.values():
        path = written / source.filename
        lines = path.read_text(encoding="utf-8").count("\n")
        events = 0
        for chunk in read_file(path, "auto"):
            result = transform(chunk, ParseContext(source=str(path)))
            reasons = [f"{d.location}: {d.reason}" for d in result.dead_letters]
            assert not reasons, (source.name, reasons[:3])
            events += result.event_count
            # Every event is the source's kind, never a generic fallback.
            for event in result.events:
                assert isinstance(event["@timestamp"], int)
        expected = (
            len(orjson.loads(path.read_bytes())["Records"])
            if source.name == "cloudtrail"
            else lines
        )
        assert events == expected, source.name
        total += events
    assert total > 5000


def test_sources_normalize_to_their_products(written: Path) -> None:
    modules: dict[str, Counter[str]] = {}
    for source in SOURCES.values():
        path = written / source.filename
        for chunk in read_file(path, "auto"):
            result = transform(chunk, ParseContext(source=str(path)))
            counts = modules.setdefault(source.name, Counter())
            counts.update(str(e.get("event.module")) for e in result.events)
    assert set(modules["windows"]) == {"windows"}
    assert set(modules["linux_auth"]) == {"system"}
    assert set(modules["linux_audit"]) == {"auditd"}
    assert set(modules["firewall_asa"]) == {"cisco"}
    assert set(modules["web"]) == {"web"}
    assert set(modules["cloudtrail"]) == {"aws"}
    assert set(modules["azure"]) == {"azure"}
    assert set(modules["genai"]) == {"otel"}


def test_labels_name_every_step_and_each_marker_is_unique(written: Path) -> None:
    labels = orjson.loads((written / "labels.json").read_bytes())
    assert [c["id"] for c in labels["chains"]] == [c.id for c in CHAINS]
    texts = {
        name: (written / s.filename).read_text(encoding="utf-8") for name, s in SOURCES.items()
    }
    for chain in labels["chains"]:
        assert chain["start"] <= chain["end"]
        assert chain["techniques"]
        for step in chain["steps"]:
            assert step["events"], (chain["id"], step["name"])
            for event in step["events"]:
                # The marker is in exactly one record of its source's file.
                assert texts[event["source"]].count(event["marker"]) == 1, event


def test_rhythm_weekdays_busier_than_weekends_and_days_than_nights() -> None:
    sim = simulate(SimulationConfig(days=7, seed=3, users=10, hosts=10, scale=0.3))
    day = 86_400 * 10**9
    per_day = Counter((r.time_ns - sim.config.start_ns) // day for r in sim.records)
    # 2026-03-02 is a Monday: days 5 and 6 are the weekend.
    assert max(per_day[5], per_day[6]) < min(per_day[d] for d in range(5))
    hours = Counter(
        ((r.time_ns - sim.config.start_ns) % day) // (3600 * 10**9) for r in sim.records
    )
    assert hours[10] > 3 * hours[3]


def test_compact_attacks_happen_in_the_first_two_hours() -> None:
    sim = simulate(
        SimulationConfig(days=1, seed=1, users=8, hosts=8, scale=0.2), compact_attacks=True
    )
    attack = [r.time_ns - sim.config.start_ns for r in sim.records if r.chain]
    assert attack and max(attack) < 2 * 3600 * 10**9
    assert {r.chain for r in sim.records if r.chain} == {c.id for c in CHAINS}
