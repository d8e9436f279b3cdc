"""Charts as inline SVG built on the server: stacked time bars, horizontal bars, heatmaps.

No JavaScript library is needed and the charts render in any test browser. Every piece
of text (labels, legends, tooltips) may come from logs, so all of it goes through
``markupsafe.escape``; tooltips are SVG ``<title>`` elements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from markupsafe import Markup, escape

__all__ = ["PALETTE", "bars", "heatmap", "nice_max", "step_label", "time_bars"]

#: Series colours (colour-blind friendly, Okabe-Ito order).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999")
_NS_PER_S = 1_000_000_000


def _e(value: object) -> str:
    return str(escape(str(value)))


def nice_max(value: float) -> float:
    """The smallest 1/2/5×10^k at or above ``value`` (the top of a y axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def step_label(step_ns: int) -> str:
    """A bucket length as people say it: ``5 min``, ``3 h``, ``1 d``."""
    seconds = step_ns // _NS_PER_S
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _fmt_number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    if value != int(value):
        return f"{value:.3g}" if value >= 0.01 else f"{value:.1e}"
    return str(int(value))


def _fmt_time(ns: int, step_ns: int) -> str:
    dt = datetime.fromtimestamp(ns / _NS_PER_S, tz=UTC)
    if step_ns >= 86_400 * _NS_PER_S:
        return dt.strftime("%Y-%m-%d")
    return dt.strftime("%m-%d %H:%M")


def _open(width: int, height: int, title: str, css: str) -> list[str]:
    return [
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
        f'<text class="chart-title" x="4" y="14">{_e(title)}</text>',
    ]


def time_bars(
    starts: Sequence[int],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    step_ns: int,
    unit: str = "",
    colours: Mapping[str, str] | None = None,
    width: int = 1000,
    height: int = 240,
) -> Markup:
    """Stacked bars over time: one bar per bucket start, one colour per series."""
    left, right, top, bottom = 52, 8, 24, 40
    legend_h = 16 if series else 0
    plot_w = width - left - right
    plot_h = height - top - bottom - legend_h
    n = len(starts)
    totals = [sum(float(values[i]) for values in series.values()) for i in range(n)]
    ymax = nice_max(max(totals, default=0.0))
    out = _open(width, height, title, "time-bars")
    # Axes and grid: four steps up the y axis.
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        out.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">'
            f"{_e(_fmt_number(ymax * k / 4))}</text>"
        )
    out.append(
        f'<line class="axis" x1="{left}" x2="{left + plot_w}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    if unit:
        out.append(
            f'<text class="tick" x="{width - right}" y="14" text-anchor="end">{_e(unit)}</text>'
        )
    if n:
        slot = plot_w / n
        bar_w = max(slot * 0.85, 0.5)
        names = list(series)
        for i, start in enumerate(starts):
            x = left + i * slot + (slot - bar_w) / 2
            base = float(top + plot_h)
            when = _fmt_time(start, step_ns)
            for j, name in enumerate(names):
                value = float(series[name][i])
                if value <= 0:
                    continue
                h = plot_h * value / ymax
                base -= h
                colour = (colours or {}).get(name, PALETTE[j % len(PALETTE)])
                out.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{_e(colour)}"><title>{_e(when)} — {_e(name)}: '
                    f"{_e(_fmt_number(value))}</title></rect>"
                )
        # About six time labels along the x axis.
        every = max(1, math.ceil(n / 6))
        for i in range(0, n, every):
            x = left + i * slot + slot / 2
            out.append(
                f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{_e(_fmt_time(starts[i], step_ns))}</text>'
            )
    else:
        out.append(
            f'<text class="empty" x="{left + plot_w / 2}" y="{top + plot_h / 2}" '
            'text-anchor="middle">no data in this range</text>'
        )
    x = left
    y = height - 6
    for j, name in enumerate(series):
        colour = (colours or {}).get(name, PALETTE[j % len(PALETTE)])
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{_e(colour)}"/>')
        label = name if len(name) <= 24 else name[:23] + "…"
        out.append(f'<text class="legend" x="{x + 14}" y="{y}">{_e(label)}</text>')
        x += 24 + 7 * len(label)
    out.append("</svg>")
    return Markup("".join(out))


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    href: Callable[[str], str] | None = None,
    detail: Callable[[str, float], str] | None = None,
    width: int = 480,
    row_h: int = 20,
) -> Markup:
    """Horizontal bars, largest first as given; each label links to ``href(label)``."""
    label_w = 180
    height = 24 + row_h * max(len(items), 1) + 6
    out = _open(width, height, title, "bars")
    top = max((v for _, v in items), default=0.0) or 1.0
    plot_w = width - label_w - 60
    for i, (label, value) in enumerate(items):
        y = 24 + i * row_h
        shown = label if len(label) <= 26 else label[:25] + "…"
        tip = detail(label, value) if detail else f"{label}: {_fmt_number(value)}"
        text = (
            f'<text class="label" x="{label_w - 6}" y="{y + row_h * 0.7:.1f}" '
            f'text-anchor="end">{_e(shown)}<title>{_e(tip)}</title></text>'
        )
        if href is not None:
            text = f'<a href="{_e(href(label))}">{text}</a>'
        w = max(plot_w * value / top, 1.0)
        out.append(text)
        out.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{PALETTE[0]}"><title>{_e(tip)}</title></rect>'
        )
        out.append(
            f'<text class="value" x="{label_w + w + 4:.1f}" y="{y + row_h * 0.7:.1f}">'
            f"{_e(_fmt_number(round(value, 1)))}</text>"
        )
    if not items:
        out.append(f'<text class="empty" x="{width / 2}" y="40" text-anchor="middle">none</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _shade(share: float) -> str:
    # White to deep red, by the cell's share of the largest count.
    lo, hi = (255, 247, 236), (179, 0, 0)
    rgb = [round(a + (b - a) * share) for a, b in zip(lo, hi, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Mapping[tuple[str, str], float],
    *,
    title: str,
    href: Callable[[str, str], str] | None = None,
    cell_w: int = 52,
    cell_h: int = 24,
) -> Markup:
    """A grid of counts (``cells[(row, column)]``), darker for more; empty cells stay pale."""
    label_w, head_h = 96, 96
    width = label_w + cell_w * len(columns) + 8
    height = 20 + head_h + cell_h * len(rows) + 8
    out = _open(width, height, title, "heatmap")
    top = max(cells.values(), default=0.0) or 1.0
    y0 = 20 + head_h
    for j, col in enumerate(columns):
        x = label_w + j * cell_w + cell_w / 2
        out.append(
            f'<text class="col-label" transform="translate({x:.1f},{y0 - 4}) rotate(-50)">'
            f"{_e(col)}</text>"
        )
    for i, row in enumerate(rows):
        y = y0 + i * cell_h
        out.append(
            f'<text class="label" x="{label_w - 6}" y="{y + cell_h * 0.68:.1f}" '
            f'text-anchor="end">{_e(row)}</text>'
        )
        for j, col in enumerate(columns):
            value = float(cells.get((row, col), 0.0))
            x = label_w + j * cell_w
            fill = _shade(value / top) if value else "#f4f4f4"
            cell = (
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"><title>{_e(row)} × {_e(col)}: {_e(_fmt_number(value))}'
                "</title></rect>"
            )
            if value:
                ink = "#fff" if value / top > 0.55 else "#222"
                cell += (
                    f'<text class="cell" x="{x + cell_w / 2 - 1}" y="{y + cell_h * 0.68:.1f}" '
                    f'text-anchor="middle" fill="{ink}">{_e(_fmt_number(value))}</text>'
                )
                if href is not None:
                    cell = f'<a href="{_e(href(row, col))}">{cell}</a>'
            out.append(cell)
    out.append("</svg>")
    return Markup("".join(out))
