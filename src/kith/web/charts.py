"""Charts drawn on the server as SVG: bar charts, line charts, a heat map, and the
community map's network (positions from :mod:`kith.web.layout`).

Why on the server (docs/web.md): the figures are small (dozens of points), the pages must
work under a strict Content Security Policy and without JavaScript, and an SVG drawn here
is testable without a browser. Every chart is a ``<figure>`` with a title, an SVG with
``role="img"`` and a text description, and a table of the same numbers (the text
alternative). Colours come from CSS classes (``kith.css``), never inline styles, so the
light and dark schemes both apply. All text is escaped (``markupsafe``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

W, H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 44


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None
    note: str = ""  # shown in the tooltip and the table


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: tuple[float | None, ...]  # one per x label; None is a gap
    css: str = "s0"


@dataclass(frozen=True, slots=True)
class Chart:
    """What a chart needs besides its numbers: an id, a title, a description."""

    key: str
    title: str
    description: str
    unit: Callable[[float], str] = field(default=lambda v: f"{v:g}")


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return float(step * exp)
    return float(10 * exp)


def _axes(ymax: float, unit: Callable[[float], str], ticks: int = 4) -> list[str]:
    plot_h = H - TOP - BOTTOM
    out = []
    for i in range(ticks + 1):
        value = ymax * i / ticks
        y = TOP + plot_h - plot_h * i / ticks
        out.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end">'
            f"{escape(unit(value))}</text>"
        )
    return out


def _x_labels(labels: Sequence[str], xs: Sequence[float], every: int) -> list[str]:
    return [
        f'<text class="tick" x="{_f(x)}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % every == 0
    ]


def _svg(chart: Chart, body: list[str], kind: str, points: int) -> str:
    return (
        f'<svg class="chart-svg" viewBox="0 0 {W} {H}" role="img" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{chart.key}-title {chart.key}-desc" data-chart="{kind}" data-points="{points}">'
        f'<desc id="{chart.key}-desc">{escape(chart.description)}</desc>' + "".join(body) + "</svg>"
    )


def _figure(chart: Chart, svg: str, table: str, extra_class: str = "") -> Markup:
    return Markup(  # noqa: S704 - every piece of text in it went through escape()
        f'<figure class="chart {extra_class}" id="{chart.key}">'
        f'<figcaption id="{chart.key}-title" class="chart-title">{escape(chart.title)}</figcaption>'
        f"{svg}"
        f'<details class="chart-data"><summary>The numbers<span class="visually-hidden"> of '
        f"{escape(chart.title)}</span></summary>{table}</details></figure>"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(r[0])}</th>'
        + "".join(f"<td>{escape(c)}</td>" for c in r[1:])
        + "</tr>"
        for r in rows
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def bar_chart(
    chart: Chart,
    bars: Sequence[Bar],
    *,
    threshold: float | None = None,
    threshold_label: str = "",
    label_every: int = 1,
    value_header: str = "value",
) -> Markup:
    """Vertical bars, one per label; an optional horizontal threshold line."""
    values = [b.value or 0.0 for b in bars]
    ymax = _nice_max(max([*values, threshold or 0.0, 0.0]))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / max(len(bars), 1)
    width = max(step * 0.72, 1.0)
    body = _axes(ymax, chart.unit)
    xs = []
    drawn = 0
    for i, b in enumerate(bars):
        x = LEFT + step * i + (step - width) / 2
        xs.append(x + width / 2)
        if b.value is None:
            continue
        h = plot_h * (b.value / ymax)
        tip = f"{b.label}: {chart.unit(b.value)}" + (f" ({b.note})" if b.note else "")
        body.append(
            f'<rect class="bar" x="{_f(x)}" y="{_f(TOP + plot_h - h)}" width="{_f(width)}" '
            f'height="{_f(max(h, 0.0))}" data-value="{b.value:g}"><title>{escape(tip)}</title></rect>'
        )
        drawn += b.value > 0  # data-points: the bars that show something
    if threshold is not None:
        y = TOP + plot_h - plot_h * (threshold / ymax)
        body.append(f'<line class="threshold" x1="{LEFT}" x2="{W - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        body.append(
            f'<text class="tick threshold-label" x="{W - RIGHT}" y="{_f(y - 4)}" text-anchor="end">'
            f"{escape(threshold_label)}</text>"
        )
    body += _x_labels([b.label for b in bars], xs, label_every)
    rows = [[b.label, chart.unit(b.value) if b.value is not None else "–", b.note] for b in bars]
    table = _table(["", value_header, ""], rows)
    return _figure(chart, _svg(chart, body, "bar", drawn), table)


def line_chart(
    chart: Chart,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    ymax: float | None = None,
    guides: Sequence[tuple[float, str]] = (),
    label_every: int = 1,
) -> Markup:
    """Lines over categorical x labels (equally spaced), with optional horizontal guides."""
    values = [v for s in series for v in s.points if v is not None]
    top = ymax if ymax is not None else _nice_max(max([*values, 0.0]))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(labels), 1)
    xs = [LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    body = _axes(top, chart.unit)
    for value, text in guides:
        y = TOP + plot_h - plot_h * (value / top)
        body.append(f'<line class="threshold" x1="{LEFT}" x2="{W - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        body.append(
            f'<text class="tick threshold-label" x="{LEFT + 4}" y="{_f(y - 4)}">{escape(text)}</text>'
        )
    drawn = 0
    for s in series:
        path: list[str] = []
        pen = "M"
        for x, v in zip(xs, s.points, strict=True):
            if v is None:
                pen = "M"
                continue
            y = TOP + plot_h - plot_h * (min(v, top) / top)
            path.append(f"{pen}{_f(x)},{_f(y)}")
            pen = "L"
            body.append(
                f'<circle class="dot {s.css}" cx="{_f(x)}" cy="{_f(y)}" r="3.5">'
                f"<title>{escape(s.name)}: {escape(chart.unit(v))}</title></circle>"
            )
            drawn += 1
        if path:
            body.append(f'<path class="line {s.css}" d="{" ".join(path)}"/>')
    body += _x_labels(labels, xs, label_every)
    if len(series) > 1:
        for i, s in enumerate(series):
            x = LEFT + 8 + i * 150
            body.append(f'<rect class="key {s.css}" x="{x}" y="{H - 14}" width="12" height="4"/>')
            body.append(f'<text class="tick" x="{x + 16}" y="{H - 9}">{escape(s.name)}</text>')

    def cell(value: float | None) -> str:
        return chart.unit(value) if value is not None else "–"

    rows = [[label, *(cell(s.points[i]) for s in series)] for i, label in enumerate(labels)]
    table = _table(["", *(s.name for s in series)], rows)
    return _figure(chart, _svg(chart, body, "line", drawn), table)


def heat_map(
    chart: Chart, names: Sequence[str], cells: dict[tuple[int, int], float], *, row_header: str
) -> Markup:
    """A square matrix (rows: from, columns: to) with values in [0, 1] as shades."""
    n = len(names)
    size = 26
    left, top = 40, 40
    width, height = left + n * size + 8, top + n * size + 8
    body = []
    for i in range(n):
        body.append(
            f'<text class="tick" x="{left - 6}" y="{top + i * size + size / 2 + 4}" text-anchor="end">'
            f"{escape(names[i])}</text>"
        )
        body.append(
            f'<text class="tick" x="{left + i * size + size / 2}" y="{top - 8}" text-anchor="middle">'
            f"{escape(names[i])}</text>"
        )
    drawn = 0
    for (i, j), value in cells.items():
        shade = min(max(int(value * 5), 0), 4)
        body.append(
            f'<rect class="cell shade-{shade}" x="{left + j * size}" y="{top + i * size}" width="{size - 2}" '
            f'height="{size - 2}" data-value="{value:g}"><title>{escape(names[i])} → {escape(names[j])}: '
            f"{escape(chart.unit(value))}</title></rect>"
        )
        drawn += 1
    svg = (
        f'<svg class="chart-svg heat" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart.key}-title {chart.key}-desc" data-chart="heat" data-points="{drawn}">'
        f'<desc id="{chart.key}-desc">{escape(chart.description)}</desc>' + "".join(body) + "</svg>"
    )
    rows = [
        [names[i], *(chart.unit(cells[(i, j)]) if (i, j) in cells else "–" for j in range(n))]
        for i in range(n)
    ]
    return _figure(chart, svg, _table([row_header, *names], rows), "heat-figure")


def share_bars(title: str, key: str, table: dict[str, object], size: int) -> Markup:
    """A suppressed table row (``{"cells": {...}, "suppressed": {...}}``) as horizontal
    share bars, in a list (readable as text too)."""
    cells: dict[str, int] = dict(table.get("cells") or {})  # type: ignore[call-overload]
    suppressed: dict[str, Any] = table.get("suppressed") or {}  # type: ignore[assignment]
    items = []
    for name, count in cells.items():
        share = count / size if size else 0.0
        items.append(
            f'<li><span class="share-name">{escape(name)}</span>'
            f'<meter min="0" max="1" value="{share:.3f}" aria-hidden="true"></meter>'
            f'<span class="share-value">{count} ({share:.0%})</span></li>'
        )
    if suppressed:
        people = suppressed.get("people")
        groups = suppressed.get("groups")
        text = (
            f"{people} people in {groups} smaller groups" if people else f"{groups} small groups (not shown)"
        )
        items.append(
            '<li class="muted"><span class="share-name">Others</span>'
            f'<span class="share-value">{escape(text)}</span></li>'
        )
    return Markup(  # noqa: S704 - every piece of text in it went through escape()
        f'<div class="shares" id="{key}"><h3>{escape(title)}</h3>'
        f'<ul class="share-list">{"".join(items)}</ul></div>'
    )


def hours(seconds: float) -> str:
    """A duration, short: ``45 min``, ``3.5 h``, ``2.1 d``."""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def percent(value: float) -> str:
    return f"{value:.0%}"
