"""The community map: communities as circles (area = members), ties between them as
lines (width = tie strength), placed by a small force-directed layout, drawn as SVG.

The layout is Fruchterman & Reingold's (1991), weighted, from a deterministic start (the
communities on a circle, largest first), so the same run always draws the same map. A
run has tens of communities, not thousands: a few hundred iterations in plain Python take
milliseconds. Colours are CSS classes: ``d<i>`` (the dominant department's colour) and
``o<i>`` (the dominant office's); the page's toggle switches which of the two applies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 960, 600
PAD = 70
PALETTE = 10  # colours c0..c8, and c9 for "other"


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    name: str
    size: int
    department: str  # dominant, or "" when every cell is suppressed
    office: str
    cross_boundary: bool
    href: str
    mine: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    a: int
    b: int
    strength: float
    ties: int
    silo: bool  # far fewer ties than expected


@dataclass(frozen=True, slots=True)
class Placed:
    node: Node
    x: float
    y: float
    r: float


def layout(nodes: Sequence[Node], links: Sequence[Link], *, iterations: int = 300) -> list[Placed]:
    """Positions inside the map's box, deterministic; circles kept apart."""
    n = len(nodes)
    if n == 0:
        return []
    biggest = max(node.size for node in nodes)
    radius = [10 + 34 * math.sqrt(node.size / biggest) for node in nodes]
    index = {node.id: i for i, node in enumerate(nodes)}
    pos = [
        [
            math.cos(2 * math.pi * i / n) * (0.2 + 0.8 * i / n),
            math.sin(2 * math.pi * i / n) * (0.2 + 0.8 * i / n),
        ]
        for i in range(n)
    ]
    top = max((link.strength for link in links), default=1.0) or 1.0
    edges = [
        (index[link.a], index[link.b], 0.2 + math.log1p(link.strength) / math.log1p(top))
        for link in links
        if link.a in index and link.b in index
    ]
    k = math.sqrt(1.0 / n)
    temperature = 0.1
    for _ in range(iterations):
        disp = [[0.0, 0.0] for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                dx, dy = pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]
                d = math.hypot(dx, dy) or 1e-6
                force = k * k / d
                disp[i][0] += dx / d * force
                disp[i][1] += dy / d * force
                disp[j][0] -= dx / d * force
                disp[j][1] -= dy / d * force
        for i, j, w in edges:
            dx, dy = pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]
            d = math.hypot(dx, dy) or 1e-6
            force = w * d * d / k
            disp[i][0] -= dx / d * force
            disp[i][1] -= dy / d * force
            disp[j][0] += dx / d * force
            disp[j][1] += dy / d * force
        for i in range(n):
            # a weak pull to the centre keeps unconnected communities on the map
            disp[i][0] -= pos[i][0] * 0.05
            disp[i][1] -= pos[i][1] * 0.05
            d = math.hypot(*disp[i]) or 1e-6
            step = min(d, temperature)
            pos[i][0] += disp[i][0] / d * step
            pos[i][1] += disp[i][1] / d * step
        temperature = max(temperature * 0.985, 0.002)
    return _fit(nodes, pos, radius)


def _fit(nodes: Sequence[Node], pos: list[list[float]], radius: list[float]) -> list[Placed]:
    xs, ys = [p[0] for p in pos], [p[1] for p in pos]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    placed = [[WIDTH / 2 + (p[0] - cx) * scale, HEIGHT / 2 + (p[1] - cy) * scale] for p in pos]
    # Push overlapping circles apart (labels need a little room too).
    for _ in range(60):
        moved = False
        for i in range(len(placed)):
            for j in range(i + 1, len(placed)):
                dx, dy = placed[i][0] - placed[j][0], placed[i][1] - placed[j][1]
                d = math.hypot(dx, dy) or 1e-6
                need = radius[i] + radius[j] + 18
                if d < need:
                    push = (need - d) / 2
                    placed[i][0] += dx / d * push
                    placed[i][1] += dy / d * push
                    placed[j][0] -= dx / d * push
                    placed[j][1] -= dy / d * push
                    moved = True
        if not moved:
            break
    return [
        Placed(
            node,
            min(max(p[0], PAD / 2 + r), WIDTH - PAD / 2 - r),
            min(max(p[1], PAD / 2 + r), HEIGHT - PAD / 2 - r),
            r,
        )
        for node, p, r in zip(nodes, placed, radius, strict=True)
    ]


def colour_index(names: Sequence[str]) -> dict[str, int]:
    """The first PALETTE-1 names (most common first, as given) get their own colour."""
    return {name: i for i, name in enumerate(names[: PALETTE - 1])}


def _short(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def draw(
    placed: Sequence[Placed],
    links: Sequence[Link],
    departments: dict[str, int],
    offices: dict[str, int],
) -> Markup:
    """The map as SVG: links first, then one focusable link per community."""
    at = {p.node.id: p for p in placed}
    top = max((link.strength for link in links), default=1.0) or 1.0
    body = []
    for link in links:
        a, b = at.get(link.a), at.get(link.b)
        if a is None or b is None:
            continue
        width = 0.8 + 7 * math.log1p(link.strength) / math.log1p(top)
        css = "tie silo" if link.silo else "tie"
        body.append(
            f'<line class="{css}" x1="{a.x:.1f}" y1="{a.y:.1f}" x2="{b.x:.1f}" y2="{b.y:.1f}" '
            f'stroke-width="{width:.1f}" data-a="{link.a}" data-b="{link.b}"><title>'
            f"{escape(a.node.name)} – {escape(b.node.name)}: {link.ties} ties"
            f"{' (a silo: far fewer than expected)' if link.silo else ''}</title></line>"
        )
    for p in placed:
        node = p.node
        d = departments.get(node.department, PALETTE - 1)
        o = offices.get(node.office, PALETTE - 1)
        label = (
            f"{node.name}: {node.size} people; mostly {node.department or 'mixed departments'}, "
            f"{node.office or 'mixed offices'}"
            + ("; crosses the formal structure" if node.cross_boundary else "")
        )
        ring = (
            f'<circle class="ring" cx="{p.x:.1f}" cy="{p.y:.1f}" r="{p.r + 5:.1f}"/>'
            if node.cross_boundary
            else ""
        )
        badge = (
            f'<text class="badge-text" x="{p.x:.1f}" y="{p.y + 5:.1f}" text-anchor="middle" '
            'aria-hidden="true">⇄</text>'
            if node.cross_boundary
            else ""
        )
        mine = " mine" if node.mine else ""
        body.append(
            f'<a class="node d{d} o{o}{mine}" href="{escape(node.href)}" data-community="{node.id}" '
            f'aria-label="{escape(label)}">{ring}'
            f'<circle class="body" cx="{p.x:.1f}" cy="{p.y:.1f}" r="{p.r:.1f}"/>{badge}'
            f'<text class="node-label" x="{p.x:.1f}" y="{p.y + p.r + 14:.1f}" text-anchor="middle">'
            f"{escape(_short(node.name))} ({node.size})</text></a>"
        )
    return Markup(  # noqa: S704 - every piece of text in it went through escape()
        f'<svg class="netmap" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-label="Community map" '
        f'data-communities="{len(placed)}" data-links="{len(links)}">{"".join(body)}</svg>'
    )
