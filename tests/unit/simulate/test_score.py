"""Scoring definitions on hand-made labels and alerts."""

from __future__ import annotations

from heron.model.alert import Alert
from heron.simulate.score import score_alerts

LABELS = {
    "days": 2,
    "chains": [
        {
            "id": "c1",
            "name": "chain one",
            "steps": [
                {"name": "a", "events": [{"marker": "m1"}, {"marker": "m2"}]},
                {"name": "b", "events": [{"marker": "m3"}]},
                {"name": "c", "events": [{"marker": "m4"}]},
            ],
        },
        {"id": "c2", "name": "chain two", "steps": [{"name": "x", "events": [{"marker": "m5"}]}]},
    ],
}
FOUND = {"m1": ["e1"], "m2": ["e2"], "m3": ["e3"], "m5": ["e5"]}  # m4 never stored


def alert(rule: str, *ids: str) -> Alert:
    return Alert(
        id=f"{rule}-{ids}",
        rule_id=rule,
        rule_name=rule.upper(),
        rule_level="high",
        timestamp=0,
        event_ids=list(ids),
    )


def test_precision_recall_and_benign_rate() -> None:
    alerts = [
        alert("r1", "e2", "noise1"),  # covers c1.a: one labelled event is enough
        alert("r2", "noise2"),  # benign
        alert("r2", "noise3"),  # benign
        alert("r3", "e3"),  # c1.b
    ]
    score = score_alerts(LABELS, alerts, FOUND)
    assert score.alerts == 4 and score.true_positives == 2
    assert score.precision == 0.5
    assert score.benign_per_day == 1.0
    c1, c2 = score.chains
    assert c1.covered == ["a", "b"] and round(c1.recall, 3) == 0.667
    assert c1.missing_events == 1  # m4 is not in the store
    assert c2.recall == 0.0
    rules = {r.rule_id: r for r in score.rules}
    assert rules["r2"].precision == 0.0 and rules["r1"].chains == {"c1"}
    out = score.to_dict()
    assert out["chains"][0]["missed_steps"] == ["c"]
    assert out["labelled_events"] == 5 and out["labelled_events_found"] == 4


def test_no_alerts() -> None:
    score = score_alerts(LABELS, [], FOUND)
    assert score.precision == 0.0 and all(c.recall == 0.0 for c in score.chains)
