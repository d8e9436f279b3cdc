"""The SVG charts: well-formed XML, escaped text, sensible shapes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from heron.web import charts

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>\"&'"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_time_bars_stack_series_with_axes_and_tooltips() -> None:
    step = 60_000_000_000
    starts = [1_709_251_200_000_000_000 + i * step for i in range(4)]
    svg = _parse(
        charts.time_bars(
            starts, {"sshd": [1, 2, 0, 4], EVIL: [3, 0, 0, 1]}, title="Events", step_ns=step
        )
    )
    assert svg.tag == f"{SVG}svg"
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 5  # zero values draw nothing
    tips = [r.find(f"{SVG}title").text for r in bars]  # type: ignore[union-attr]
    assert any(EVIL in (t or "") for t in tips)  # the text survives, as text
    texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
    assert "Events" in texts
    assert {"0", "2.5", "5"} <= set(texts)  # y axis up to the nice maximum over 4 + 1
    assert any(t.startswith(EVIL[:20]) for t in texts)  # legend, shortened, as text


def test_time_bars_without_data_say_so() -> None:
    svg = _parse(charts.time_bars([], {}, title="Nothing", step_ns=1))
    assert "no data in this range" in [t.text for t in svg.iter(f"{SVG}text")]


def test_bars_link_each_label_and_escape_it() -> None:
    markup = charts.bars(
        [(f"user: {EVIL}", 80.5), ("host: web01", 10.0)],
        title="Risk",
        href=lambda label: "/ui/entity/x?v=" + label,
    )
    assert "<script>" not in str(markup)
    svg = _parse(markup)
    links = list(svg.iter(f"{SVG}a"))
    assert len(links) == 2
    assert links[0].get("href", "").endswith(EVIL)  # escaped in the attribute, intact here


def test_heatmap_shades_by_count() -> None:
    cells = {("high", "execution"): 10.0, ("low", "execution"): 1.0}
    svg = _parse(charts.heatmap(["high", "low"], ["execution", "impact"], cells, title="ATT&CK"))
    fills = [r.get("fill") for r in svg.iter(f"{SVG}rect")]
    assert len(fills) == 4
    assert fills.count("#f4f4f4") == 2  # empty cells stay pale
    assert len(set(fills)) == 3  # two distinct shades for 10 and 1
    assert svg.find(f"{SVG}title").text == "ATT&CK"  # type: ignore[union-attr]


def test_nice_max() -> None:
    assert charts.nice_max(0) == 1.0
    assert charts.nice_max(7) == 10.0
    assert charts.nice_max(120) == 200.0
    assert charts.nice_max(0.3) == 0.5
