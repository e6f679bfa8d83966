"""Drawings of cells in the conventions of the three benchmarks' papers, with matplotlib only.

* NB201: the 4-node cell, nodes 0..3 on a line, the op on each edge; ``none`` edges are left out and nodes off
  every input→output path are grey (:meth:`NB201Space.dead_nodes`), with their edges.
* NB101: the pruned DAG from ``input`` (top) to ``output`` (bottom), one op per vertex.
* DARTS: the normal and the reduce cell side by side: inputs c_{k-2} and c_{k-1}, intermediate nodes 0..3, the
  concatenated output c_{k}, the op on each edge.

The search-space semantics (edges, pruning, dead nodes) come from :mod:`archllm_hf.spaces`; this module only
places and draws. Placement is computed apart from rendering (:func:`cell_layout`), in inches: node boxes, edges
as quadratic arcs (matplotlib's ``arc3``: control point ``midpoint + rad * (dy, -dx)``) or, for NB101's edges that
skip ranks, smooth curves through slots kept free in the ranks between; edge-label boxes measured from the font.
NB201's arcs are fixed; elsewhere each edge's curvature and label place are chosen to avoid collisions (a cost
minimised edge by edge, then pair by pair). :func:`layout_problems` checks a layout's geometry (labels over labels
or nodes, edges through nodes or labels, edges along each other, crossings) without drawing it.

Figures are plain :class:`matplotlib.figure.Figure` objects on the Agg canvas, never registered with pyplot, so
nothing is left open. In SVG output the text stays text and the artists carry ids (``gid``): a node's label is
``node-K``, its shape ``shape-K`` (``shape-K-dead`` when dead), an edge ``edge-S-T`` (``edge-S-T-dead``), its
label ``label-S-T``; DARTS ids start with ``normal.`` or ``reduce.``, and node numbers there are the genotype's
(0 c_{k-2}, 1 c_{k-1}, 2..5 the intermediate nodes drawn as 0..3, 6 the output c_{k}).
"""

from __future__ import annotations

import io
import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidCellError
from .spaces import SearchSpace, resolve_space
from .spaces.darts import CELL_TYPES, CONCAT, INTERMEDIATE_NODES
from .spaces.nb201 import EDGES as NB201_EDGES
from .spaces.nb201 import NUM_CELL_NODES as NB201_NODES
from .utils import atomic_write_bytes, atomic_write_text

FONT_SIZE = 9.0
"""Points, for node and edge labels."""
TITLE_SIZE = 10.0
_LABEL_PAD = 2.0
"""Points of white box around an edge label (each side)."""
_MARGIN = 0.15
"""Inches of blank around a panel's contents."""
_CURVE_SAMPLES = 48

# DARTS node display names, by the genotype's node numbers (0, 1 inputs; 2..5 intermediate; 6 the output)
_DARTS_OUTPUT = INTERMEDIATE_NODES[-1] + 1
_DARTS_NAMES = {0: "c_{k-2}", 1: "c_{k-1}", _DARTS_OUTPUT: "c_{k}"}
"""As the DARTS paper's cell figures write them."""

_COLOURS = {
    "input": "#b7e1a1",
    "output": "#f7d18a",
    "op": "#cfe2f3",
    "node": "#cfe2f3",
    "dead": "#e6e6e6",
    "edge": "#333333",
    "concat": "#8c8c8c",
    "dead_edge": "#b3b3b3",
    "dead_text": "#8c8c8c",
}


# --- geometry -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """An axis-aligned box: centre ``x, y`` and size, in inches."""

    x: float
    y: float
    width: float
    height: float

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        """Whether the two boxes, each grown by ``gap`` on every side, intersect."""
        return (
            2 * abs(self.x - other.x) < self.width + other.width + 2 * gap
            and 2 * abs(self.y - other.y) < self.height + other.height + 2 * gap
        )

    def contains(self, points: np.ndarray, gap: float = 0.0) -> np.ndarray:
        """``bool [N]``: which of ``points [N, 2]`` lie inside the box grown by ``gap``."""
        return (np.abs(points[:, 0] - self.x) < self.width / 2 + gap) & (
            np.abs(points[:, 1] - self.y) < self.height / 2 + gap
        )


@dataclass(frozen=True)
class NodeDrawing:
    """A node: its number (``key``), label, box, ``shape`` (``circle`` or ``box``), ``role`` (``input``,
    ``output``, ``op`` or ``node``) and whether it is dead (NB201)."""

    key: int
    label: str
    box: Box
    shape: str
    role: str
    dead: bool = False


@dataclass(frozen=True)
class EdgeDrawing:
    """An edge ``source -> target`` (node numbers): an ``arc3`` curve of curvature ``rad`` between the node
    centres (or a smooth curve through ``via``), its label (None for none) centred on the curve at parameter
    ``label_at`` in ``label_box``."""

    source: int
    target: int
    label: str | None
    rad: float = 0.0
    label_at: float = 0.5
    label_box: Box | None = None
    dead: bool = False
    concat: bool = False
    via: tuple[tuple[float, float], ...] = ()
    """Points the edge passes through instead (a smooth curve through them; ``rad`` unused): NB101's edges that
    skip ranks go through slots kept free for them."""


@dataclass(frozen=True)
class PanelLayout:
    """One cell graph in inches, from ``(0, 0)`` to ``(width, height)``; ``name`` prefixes the SVG ids."""

    name: str | None
    title: str | None
    nodes: tuple[NodeDrawing, ...]
    edges: tuple[EdgeDrawing, ...]
    width: float
    height: float

    def node(self, key: int) -> NodeDrawing:
        return next(node for node in self.nodes if node.key == key)


@dataclass(frozen=True)
class CellLayout:
    """A cell's drawing: one panel (NB101, NB201) or two side by side (DARTS normal, reduce)."""

    space: str
    panels: tuple[PanelLayout, ...]

    @property
    def width(self) -> float:
        return sum(panel.width for panel in self.panels)

    @property
    def height(self) -> float:
        return max(panel.height for panel in self.panels)


@lru_cache(maxsize=256)
def text_size(text: str, size: float = FONT_SIZE) -> tuple[float, float]:
    """Width and height in inches of ``text`` set in matplotlib's default font at ``size`` points (measured from
    the glyphs, nothing is drawn); the height spans the font's ascent and descent."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size)
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    _, height, descent = TextToPath().get_text_width_height_descent("Ag_|", prop, ismath=False)
    return width / 72, (height + descent) / 72


def _label_box(label: str, at: tuple[float, float]) -> Box:
    width, height = text_size(label)
    pad = 2 * _LABEL_PAD / 72
    return Box(at[0], at[1], width + pad, height + pad)


def _control(a: tuple[float, float], b: tuple[float, float], rad: float) -> tuple[float, float]:
    """The control point of matplotlib's ``arc3`` connection from ``a`` to ``b``."""
    (x1, y1), (x2, y2) = a, b
    return (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)


def _bezier(a: tuple[float, float], b: tuple[float, float], rad: float, t: np.ndarray | float) -> np.ndarray:
    """Points of the ``arc3`` curve from ``a`` to ``b`` at parameters ``t``."""
    t = np.asarray(t, dtype=float)[..., None]
    c = np.asarray(_control(a, b, rad))
    return (1 - t) ** 2 * np.asarray(a) + 2 * t * (1 - t) * c + t**2 * np.asarray(b)


def _point_at(a: tuple[float, float], b: tuple[float, float], rad: float, t: float) -> tuple[float, float]:
    """The point of the ``arc3`` curve from ``a`` to ``b`` at parameter ``t`` (plain floats, for one point)."""
    cx, cy = _control(a, b, rad)
    u = 1 - t
    return u * u * a[0] + 2 * t * u * cx + t * t * b[0], u * u * a[1] + 2 * t * u * cy + t * t * b[1]


def _spline(points: Sequence[tuple[float, float]], samples: int) -> np.ndarray:
    """About ``samples`` points of the Catmull-Rom curve through ``points`` (first and last included)."""
    p = np.asarray(points, dtype=float)
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    per = max(2, samples // (len(p) - 1))
    t = np.linspace(0, 1, per, endpoint=False)[:, None]
    parts = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        parts.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
        )
    return np.vstack([*parts, p[-1:]])


def _curve(
    a: tuple[float, float],
    b: tuple[float, float],
    rad: float,
    via: tuple[tuple[float, float], ...],
    samples: int,
) -> np.ndarray:
    """``[samples, 2]``-ish points from ``a`` to ``b``: the ``arc3`` curve, or the smooth curve through ``via``."""
    if via:
        return _spline([a, *via, b], samples)
    return _bezier(a, b, rad, np.linspace(0, 1, samples))


@lru_cache(maxsize=4096)
def _extent(
    a: tuple[float, float], b: tuple[float, float], rad: float, via: tuple[tuple[float, float], ...] = ()
) -> tuple[float, float, float, float]:
    """``x0, x1, y0, y1`` around the edge curve from ``a`` to ``b``."""
    points = _curve(a, b, rad, via, 17)
    return points[:, 0].min(), points[:, 0].max(), points[:, 1].min(), points[:, 1].max()


def edge_curve(panel: PanelLayout, edge: EdgeDrawing, samples: int = _CURVE_SAMPLES) -> np.ndarray:
    """``[samples, 2]`` points along ``edge`` from its source's centre to its target's."""
    a, b = panel.node(edge.source).box, panel.node(edge.target).box
    return _curve((a.x, a.y), (b.x, b.y), edge.rad, edge.via, samples)


def _visible(points: np.ndarray, a: Box, b: Box, gap: float = 0.02) -> np.ndarray:
    """The points of a curve outside its two end nodes' boxes (what is drawn)."""
    return points[~(a.contains(points, gap) | b.contains(points, gap))]


def _crossings(p: np.ndarray, q: np.ndarray) -> int:
    """Number of proper intersections between the polylines ``p`` and ``q`` (``[N, 2]`` each)."""
    if len(p) < 2 or len(q) < 2:
        return 0
    a, b = p[:-1, None, :], p[1:, None, :]
    c, d = q[None, :-1, :], q[None, 1:, :]

    def orient(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        return (v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1]) - (v[..., 1] - u[..., 1]) * (
            w[..., 0] - u[..., 0]
        )

    hit = (orient(a, b, c) * orient(a, b, d) < 0) & (orient(c, d, a) * orient(c, d, b) < 0)
    return int(hit.sum())


def _min_distance(p: np.ndarray, q: np.ndarray) -> float:
    if len(p) == 0 or len(q) == 0:
        return math.inf
    return float(np.sqrt(((p[:, None, :] - q[None, :, :]) ** 2).sum(-1)).min())


def _near(points: np.ndarray, box: Box, radius: float) -> np.ndarray:
    return np.hypot(points[:, 0] - box.x, points[:, 1] - box.y) < radius


@lru_cache(maxsize=8192)
def _arc(a: Box, b: Box, rad: float, via: tuple[tuple[float, float], ...] = ()) -> np.ndarray:
    """The visible points of the ``arc3`` curve between the centres of boxes ``a`` and ``b`` (read-only; memoized,
    since the layouts of many cells share their curves)."""
    points = _visible(_curve((a.x, a.y), (b.x, b.y), rad, via, _CURVE_SAMPLES), a, b)
    points.flags.writeable = False
    return points


@lru_cache(maxsize=65536)
def _arc_hits(a: Box, b: Box, rad: float, via: tuple[tuple[float, float], ...], box: Box) -> bool:
    """Whether the visible edge curve between ``a`` and ``b`` enters ``box``."""
    return bool(box.contains(_arc(a, b, rad, via)).any())


@lru_cache(maxsize=65536)
def _arcs_meet(
    a: Box,
    b: Box,
    rad: float,
    via: tuple[tuple[float, float], ...],
    c: Box,
    d: Box,
    rad2: float,
    via2: tuple[tuple[float, float], ...],
    shared: Box | None,
) -> bool:
    """Whether two visible arcs run along each other (come within 0.04 inch away from their ``shared`` end node)
    or, without a shared node, cross."""
    p, q = _arc(a, b, rad, via), _arc(c, d, rad2, via2)
    if shared is None:
        return _crossings(p, q) > 0
    radius = max(shared.width, shared.height) / 2 + 0.12
    return _min_distance(p[~_near(p, shared, radius)], q[~_near(q, shared, radius)]) < 0.04


def layout_problems(layout: CellLayout, crossings: bool = True) -> list[str]:
    """What makes a layout hard to read, one line each (empty when nothing): edge labels overlapping each other
    or a node, edges through a node they do not join or through another edge's label, edges running along
    each other, and (with ``crossings``) edges crossing. Pure geometry: nothing is drawn."""
    problems = []
    for panel in layout.panels:
        where = f"{panel.name} cell: " if panel.name else ""
        ends = [
            (panel.node(edge.source).box, panel.node(edge.target).box, edge.rad, edge.via)
            for edge in panel.edges
        ]
        labelled = [edge for edge in panel.edges if edge.label_box is not None]
        for e, f in itertools.combinations(labelled, 2):
            if e.label_box.overlaps(f.label_box):
                problems.append(f"{where}labels of {_name(e)} and {_name(f)} overlap")
        for edge in labelled:
            for node in panel.nodes:
                if edge.label_box.overlaps(node.box):
                    problems.append(f"{where}label of {_name(edge)} overlaps node {node.key}")
        for edge, arc in zip(panel.edges, ends):
            for node in panel.nodes:
                if node.key not in (edge.source, edge.target) and _arc_hits(*arc, node.box):
                    problems.append(f"{where}{_name(edge)} passes through node {node.key}")
            for other in labelled:
                if other is not edge and _arc_hits(*arc, other.label_box):
                    problems.append(f"{where}{_name(edge)} passes through the label of {_name(other)}")
        for (i, e), (j, f) in itertools.combinations(enumerate(panel.edges), 2):
            shared = {e.source, e.target} & {f.source, f.target}
            if shared:
                if _arcs_meet(*ends[i], *ends[j], panel.node(next(iter(shared))).box):
                    problems.append(f"{where}{_name(e)} and {_name(f)} run along each other")
            elif crossings and _arcs_meet(*ends[i], *ends[j], None):
                problems.append(f"{where}{_name(e)} and {_name(f)} cross")
    return problems


def _name(edge: EdgeDrawing) -> str:
    return f"edge {edge.source}->{edge.target}"


# --- routing: curvature and label place of each edge, by coordinate descent on a cost -------------------------
_RADS = (0.0, 0.15, -0.15, 0.3, -0.3, 0.5, -0.5)
_WIDE_RADS = (0.75, -0.75, 1.0, -1.0)
"""Further curvatures tried for unlabelled edges (NB101's long skips around a chain of vertices)."""
_LABEL_ATS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)


@dataclass
class _Option:
    rad: float
    at: float
    points: np.ndarray  # visible part of the curve
    label: Box | None
    own_cost: float  # what does not depend on the other edges
    extent: Box | None = None  # around the points and the label, grown by 0.1 inch

    def __post_init__(self) -> None:
        boxes = [self.label] if self.label is not None else []
        xs = [v for b in boxes for v in (b.x - b.width / 2, b.x + b.width / 2)] + self.points[:, 0].tolist()
        ys = [v for b in boxes for v in (b.y - b.height / 2, b.y + b.height / 2)] + self.points[:, 1].tolist()
        if xs:
            x0, x1, y0, y1 = min(xs) - 0.1, max(xs) + 0.1, min(ys) - 0.1, max(ys) + 0.1
            self.extent = Box((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)


def _options(nodes: dict[int, NodeDrawing], edge: EdgeDrawing) -> list[_Option]:
    a, b = nodes[edge.source].box, nodes[edge.target].box
    ats = _LABEL_ATS if edge.label else (0.5,)
    rads = _RADS if edge.label else _RADS + _WIDE_RADS
    if edge.via:  # the curve is fixed
        ats, rads = (0.5,), (0.0,)
    options = []
    for rad, at in itertools.product(rads, ats):
        points = _arc(a, b, rad, edge.via)
        label = None
        if edge.label:
            if edge.via:
                full = _curve((a.x, a.y), (b.x, b.y), rad, edge.via, _CURVE_SAMPLES)
                label = _label_box(edge.label, tuple(full[round(at * (len(full) - 1))]))
            else:
                label = _label_box(edge.label, _point_at((a.x, a.y), (b.x, b.y), rad, at))
        cost = 0.3 * abs(rad) + 1.0 * abs(at - 0.5)
        for node in nodes.values():
            if node.key not in (edge.source, edge.target) and node.box.contains(points, 0.06).any():
                cost += 60
            if label is not None and label.overlaps(node.box, 0.03):
                cost += 60
        options.append(_Option(rad, at, points, label, cost))
    return options


def _pair_cost(
    e: EdgeDrawing, x: _Option, f: EdgeDrawing, y: _Option, nodes: dict[int, NodeDrawing]
) -> float:
    if x.extent is None or y.extent is None or not x.extent.overlaps(y.extent):
        return 0.0
    cost = 0.0
    if x.label is not None and y.label is not None and x.label.overlaps(y.label, 0.03):
        cost += 60
    if x.label is not None and x.label.contains(y.points, 0.02).any():
        cost += 25
    if y.label is not None and y.label.contains(x.points, 0.02).any():
        cost += 25
    shared = {e.source, e.target} & {f.source, f.target}
    if shared:
        box = nodes[next(iter(shared))].box
        radius = max(box.width, box.height) / 2 + 0.3  # edges into one node converge near it
        p, q = x.points[~_near(x.points, box, radius)], y.points[~_near(y.points, box, radius)]
        if _min_distance(p, q) < 0.08:
            cost += 40
    else:
        cost += 8 * min(_crossings(x.points, y.points), 2)
    return cost


def _route(nodes: Sequence[NodeDrawing], edges: Sequence[EdgeDrawing], rounds: int = 6) -> list[EdgeDrawing]:
    """The edges with the curvature and label place that make the layout cheapest: edge by edge until nothing
    improves, then two edges at a time for the pairs that still cost (e.g. an edge through another's label)."""
    by_key = {node.key: node for node in nodes}
    options = [_options(by_key, edge) for edge in edges]
    n = len(edges)
    chosen = [0] * n
    pair: dict[tuple[int, int, int, int], float] = {}

    def cost(i: int, k: int, j: int, m: int) -> float:
        key = (i, k, j, m) if i < j else (j, m, i, k)
        if key not in pair:
            pair[key] = _pair_cost(
                edges[key[0]], options[key[0]][key[1]], edges[key[2]], options[key[2]][key[3]], by_key
            )
        return pair[key]

    def alone(i: int, k: int, skip: int = -1) -> float:
        """Cost of edge ``i`` with option ``k`` against the chosen options of the others (but ``skip``)."""
        return options[i][k].own_cost + sum(cost(i, k, j, chosen[j]) for j in range(n) if j not in (i, skip))

    for _ in range(rounds):
        changed = False
        for _sweep in range(6):
            moved = False
            for i in range(n):
                totals = [alone(i, k) for k in range(len(options[i]))]
                best = int(np.argmin(totals))
                if totals[best] < totals[chosen[i]] - 1e-9:
                    chosen[i], moved = best, True
            changed |= moved
            if not moved:
                break
        for i, j in itertools.combinations(range(n), 2):
            if cost(i, chosen[i], j, chosen[j]) < 20:
                continue
            left = [alone(i, k, j) for k in range(len(options[i]))]
            right = [alone(j, m, i) for m in range(len(options[j]))]
            current = left[chosen[i]] + right[chosen[j]] + cost(i, chosen[i], j, chosen[j])
            best_pair, best = (chosen[i], chosen[j]), current
            for k, m in itertools.product(range(len(left)), range(len(right))):
                if left[k] + right[m] < best - 1e-9:
                    total = left[k] + right[m] + cost(i, k, j, m)
                    if total < best - 1e-9:
                        best_pair, best = (k, m), total
            if best_pair != (chosen[i], chosen[j]):
                chosen[i], chosen[j] = best_pair
                changed = True
        if not changed:
            break
    return [
        replace(edge, rad=options[i][k].rad, label_at=options[i][k].at, label_box=options[i][k].label)
        for i, (edge, k) in enumerate(zip(edges, chosen))
    ]


def _fit(
    name: str | None, title: str | None, nodes: Sequence[NodeDrawing], edges: Sequence[EdgeDrawing]
) -> PanelLayout:
    """A panel holding the nodes, the edges' curves and labels (and the title), moved to start at the origin."""
    boxes = [node.box for node in nodes] + [edge.label_box for edge in edges if edge.label_box is not None]
    xs = [v for box in boxes for v in (box.x - box.width / 2, box.x + box.width / 2)]
    ys = [v for box in boxes for v in (box.y - box.height / 2, box.y + box.height / 2)]
    by_key = {node.key: node for node in nodes}
    for edge in edges:
        a, b = by_key[edge.source].box, by_key[edge.target].box
        x0, x1, y0, y1 = _extent((a.x, a.y), (b.x, b.y), edge.rad, edge.via)
        xs += (x0, x1)
        ys += (y0, y1)
    title_space = text_size(title, TITLE_SIZE)[1] + 0.1 if title else 0.0
    dx, dy = _MARGIN - min(xs), _MARGIN - min(ys)
    width = max(xs) - min(xs) + 2 * _MARGIN
    if title:
        width = max(width, text_size(title, TITLE_SIZE)[0] + 2 * _MARGIN)
        dx += (width - (max(xs) - min(xs) + 2 * _MARGIN)) / 2

    def move(box: Box | None) -> Box | None:
        return None if box is None else replace(box, x=box.x + dx, y=box.y + dy)

    return PanelLayout(
        name=name,
        title=title,
        nodes=tuple(replace(node, box=move(node.box)) for node in nodes),
        edges=tuple(
            replace(
                edge,
                label_box=move(edge.label_box),
                via=tuple((x + dx, y + dy) for x, y in edge.via),
            )
            for edge in edges
        ),
        width=width,
        height=max(ys) - min(ys) + 2 * _MARGIN + title_space,
    )


def _node(
    key: int, label: str, x: float, y: float, role: str, shape: str = "box", dead: bool = False
) -> NodeDrawing:
    width, height = text_size(label)
    if shape == "circle":
        side = max(width, height) + 0.16
        return NodeDrawing(key, label, Box(x, y, side, side), shape, role, dead)
    return NodeDrawing(key, label, Box(x, y, max(width + 0.16, 0.34), height + 0.14), shape, role, dead)


# --- the three spaces ---------------------------------------------------------------------------------------
_NB201_STEP = 1.75
"""Inches between consecutive NB201 nodes."""
_NB201_RADS = {(0, 1): 0.0, (1, 2): 0.0, (2, 3): 0.0, (0, 2): -0.32, (1, 3): 0.32, (0, 3): -0.42}
"""Fixed curvature of each NB201 edge: neighbours straight, 0→2 and 0→3 nested above, 1→3 below."""


def _nb201_layout(space: Any, cell: Any) -> CellLayout:
    dead = set(space.dead_nodes(cell))
    roles = {0: "input", NB201_NODES - 1: "output"}
    nodes = [
        _node(k, str(k), k * _NB201_STEP, 0.0, roles.get(k, "node"), "circle", k in dead)
        for k in range(NB201_NODES)
    ]
    edges = []
    for (src, dst), op in zip(NB201_EDGES, cell.ops):
        if op == "none":
            continue
        rad = _NB201_RADS[(src, dst)]
        a, b = nodes[src].box, nodes[dst].box
        at = _point_at((a.x, a.y), (b.x, b.y), rad, 0.5)
        edges.append(EdgeDrawing(src, dst, op, rad, 0.5, _label_box(op, at), src in dead or dst in dead))
    return CellLayout(space.name, (_fit(None, None, nodes, edges),))


def _ranks(preds: dict[int, Sequence[int]], order: Sequence[int]) -> dict[int, int]:
    """Longest-path rank of each node (``order`` topological, sources first)."""
    rank: dict[int, int] = {}
    for v in order:
        rank[v] = 1 + max((rank[u] for u in preds[v]), default=-1)
    return rank


def _arrange(
    rows: dict[int, list[int]], edges: Sequence[tuple[int, int]], place: Any, fixed: Sequence[int] = ()
) -> dict[int, tuple[float, float]]:
    """Positions with the fewest straight-line crossings over the orders of the nodes within each rank (ties:
    the first order tried, nodes in number order). ``place(rank, row) -> {node: (x, y)}``."""
    ranks = sorted(rows)
    choices = [
        [list(p) for p in itertools.permutations(rows[r])] if r not in fixed else [rows[r]] for r in ranks
    ]
    best, best_cost = None, math.inf
    for combo in itertools.product(*choices):
        pos: dict[int, tuple[float, float]] = {}
        for r, row in zip(ranks, combo):
            pos.update(place(r, row))
        cost = 0
        for (a, b), (c, d) in itertools.combinations(edges, 2):
            if len({a, b, c, d}) == 4:
                p = np.array([pos[a], pos[b]])
                q = np.array([pos[c], pos[d]])
                cost += _crossings(p, q)
        if cost < best_cost:
            best, best_cost = pos, cost
            if cost == 0:
                break
    assert best is not None
    return best


def _layer_crossings(layers: list[list[Any]], links: Sequence[tuple[Any, Any]]) -> int:
    """Crossings of the links between consecutive layers, drawn straight (items placed by their index)."""
    where = {item: (r, i) for r, layer in enumerate(layers) for i, item in enumerate(layer)}
    by_layer: dict[int, list[tuple[int, int]]] = {}
    for u, v in links:
        (r, i), (_, j) = where[u], where[v]
        by_layer.setdefault(r, []).append((i, j))
    return sum(
        (i1 - i2) * (j1 - j2) < 0
        for pairs in by_layer.values()
        for (i1, j1), (i2, j2) in itertools.combinations(pairs, 2)
    )


def _order_layers(
    layers: list[list[Any]], links: Sequence[tuple[Any, Any]], sweeps: int = 6
) -> list[list[Any]]:
    """Orders within the layers with few crossings: barycentre sweeps down and up, keeping the best seen."""
    ups: dict[Any, list[Any]] = {}
    downs: dict[Any, list[Any]] = {}
    for u, v in links:
        downs.setdefault(u, []).append(v)
        ups.setdefault(v, []).append(u)
    best, best_count = [list(layer) for layer in layers], _layer_crossings(layers, links)
    current = [list(layer) for layer in layers]
    for sweep in range(sweeps):
        order = range(1, len(current)) if sweep % 2 == 0 else range(len(current) - 2, -1, -1)
        for r in order:
            ref = current[r - 1] if sweep % 2 == 0 else current[r + 1]
            place = {item: i for i, item in enumerate(ref)}
            neighbours = ups if sweep % 2 == 0 else downs
            keys = []
            for i, item in enumerate(current[r]):
                near = [place[other] for other in neighbours.get(item, ()) if other in place]
                keys.append((sum(near) / len(near) if near else float(i), i))
            current[r] = [current[r][i] for _, i in sorted(keys)]
        count = _layer_crossings(current, links)
        if count < best_count:
            best, best_count = [list(layer) for layer in current], count
    return best


def _straighten(
    pos: dict[Any, tuple[float, float]],
    widths: dict[int, float],
    long_edges: Sequence[tuple[int, int]],
    rank: dict[int, int],
) -> None:
    """Line up the slots of each edge that passes several ranks at one x where that stays clear of the nodes and
    the other slots of those ranks (the outermost of its slots' x first), so it runs straight instead of weaving."""
    for i, j in long_edges:
        mine = [("pass", i, j, r) for r in range(rank[i] + 1, rank[j])]
        ranks = {r for *_, r in mine}
        others = [
            (item, xy) for item, xy in pos.items() if item not in mine and _rank_of(item, rank) in ranks
        ]
        for x in sorted({pos[slot][0] for slot in mine}, key=lambda x: -abs(x)):
            clear = all(
                abs(x - ox) >= (widths[item] / 2 if isinstance(item, int) else _NB101_SLOT / 2) + _NB101_GAP
                for item, (ox, _) in others
            )
            if clear:
                for slot in mine:
                    pos[slot] = (x, pos[slot][1])
                break


def _rank_of(item: Any, rank: dict[int, int]) -> int:
    return rank[item] if isinstance(item, int) else item[3]


_NB101_ROW = 0.8
_NB101_GAP = 0.3
_NB101_SLOT = 0.2
"""Width kept free in a rank for each edge that passes it."""


def _nb101_layout(space: Any, cell: Any) -> CellLayout:
    pruned = space.prune(cell)
    n = pruned.num_vertices
    matrix = pruned.matrix
    edges = [(i, j) for i in range(n) for j in range(n) if matrix[i][j]]
    rank = _ranks({v: [u for u in range(n) if matrix[u][v]] for v in range(n)}, range(n))
    layers: list[list[Any]] = [[] for _ in range(rank[n - 1] + 1)]
    for v in range(n):
        layers[rank[v]].append(v)
    links: list[tuple[Any, Any]] = []
    for i, j in edges:  # an edge skipping ranks gets a slot ("pass", i, j, r) in each rank between
        chain = [i, *(("pass", i, j, r) for r in range(rank[i] + 1, rank[j])), j]
        for slot in chain[1:-1]:
            layers[slot[3]].append(slot)
        links += itertools.pairwise(chain)
    layers = _order_layers(layers, links)
    widths = {v: _node(v, pruned.ops[v], 0, 0, "op").box.width for v in range(n)}
    pos: dict[Any, tuple[float, float]] = {}
    for r, layer in enumerate(layers):
        sizes = [widths[item] if isinstance(item, int) else _NB101_SLOT for item in layer]
        x = -(sum(sizes) + _NB101_GAP * (len(layer) - 1)) / 2
        for item, size in zip(layer, sizes):
            pos[item] = (x + size / 2, -r * _NB101_ROW)
            x += size + _NB101_GAP
    _straighten(pos, widths, [(i, j) for i, j in edges if rank[j] - rank[i] > 2], rank)
    roles = {0: "input", n - 1: "output"}
    nodes = [_node(v, pruned.ops[v], *pos[v], roles.get(v, "op")) for v in range(n)]
    drawn = [
        EdgeDrawing(i, j, None, via=tuple(pos[("pass", i, j, r)] for r in range(rank[i] + 1, rank[j])))
        for i, j in edges
    ]
    return CellLayout(space.name, (_fit(None, None, nodes, _route(nodes, drawn)),))


_DARTS_COLUMN = 3.0
_DARTS_ROW = 1.2
_DARTS_INPUT_Y = 1.5


def _darts_panel(kind: str, pairs: Sequence[tuple[str, int]]) -> PanelLayout:
    targets = [INTERMEDIATE_NODES[i // 2] for i in range(len(pairs))]
    preds = {0: [], 1: []} | {
        k: [node for (_, node), t in zip(pairs, targets) if t == k] for k in INTERMEDIATE_NODES
    }
    rank = _ranks(preds, [0, 1, *INTERMEDIATE_NODES])
    last = max(rank.values()) + 1
    rank[_DARTS_OUTPUT] = last
    rows: dict[int, list[int]] = {}
    for k in [0, 1, *INTERMEDIATE_NODES, _DARTS_OUTPUT]:
        rows.setdefault(rank[k], []).append(k)
    edges = [(node, t) for (_, node), t in zip(pairs, targets)] + [(k, _DARTS_OUTPUT) for k in CONCAT]

    def place(r: int, row: Sequence[int]) -> dict[int, tuple[float, float]]:
        if r == 0:
            return {0: (0.0, _DARTS_INPUT_Y), 1: (0.0, -_DARTS_INPUT_Y)}
        return {k: (r * _DARTS_COLUMN, _DARTS_ROW * ((len(row) - 1) / 2 - i)) for i, k in enumerate(row)}

    pos = _arrange(rows, edges, place, fixed=(0, last))
    nodes = []
    for k, (x, y) in sorted(pos.items()):
        label = _DARTS_NAMES.get(k, str(k - INTERMEDIATE_NODES[0]))
        role = "input" if k in (0, 1) else "output" if k == _DARTS_OUTPUT else "node"
        nodes.append(_node(k, label, x, y, role))
    drawn = [EdgeDrawing(node, t, op) for (op, node), t in zip(pairs, targets)]
    drawn += [EdgeDrawing(k, _DARTS_OUTPUT, None, concat=True) for k in CONCAT]
    return _fit(kind, f"{kind} cell", nodes, _route(nodes, drawn))


def _darts_layout(space: Any, cell: Any) -> CellLayout:
    return CellLayout(
        space.name, tuple(_darts_panel(kind, pairs) for kind, pairs in zip(CELL_TYPES, cell.cells()))
    )


_LAYOUTS = {"nb201": _nb201_layout, "nb101": _nb101_layout, "darts": _darts_layout}


def cell_layout(space: SearchSpace | str, cell: Any) -> CellLayout:
    """Where everything of ``cell``'s drawing goes, in inches (no drawing). Raises :class:`InvalidCellError`
    for a cell ``space`` rejects."""
    space = resolve_space(space)
    if space.name not in _LAYOUTS:
        raise ValueError(f"no drawing for the {space.name!r} space; drawable: {', '.join(_LAYOUTS)}")
    result = space.validate(cell)
    if not result.valid:
        raise InvalidCellError(f"cannot draw an invalid {space.name} cell: {result.reason}")
    return _LAYOUTS[space.name](space, result.cell)


# --- rendering ----------------------------------------------------------------------------------------------
def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _draw_panel(
    figure: Any, panel: PanelLayout, left: float, bottom: float, title: str | None = None
) -> None:
    """Draw ``panel`` with its lower-left corner at ``(left, bottom)`` inches of ``figure``."""
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    fig_w, fig_h = figure.get_size_inches()
    ax = figure.add_axes((left / fig_w, bottom / fig_h, panel.width / fig_w, panel.height / fig_h))
    ax.set_xlim(0, panel.width)
    ax.set_ylim(0, panel.height)
    ax.set_aspect("equal")
    ax.set_axis_off()
    prefix = f"{panel.name}." if panel.name else ""
    title = title or panel.title
    if title:
        ax.text(panel.width / 2, panel.height - 0.05, title, ha="center", va="top", fontsize=TITLE_SIZE)
    patches = {}
    for node in panel.nodes:
        box = node.box
        face = _COLOURS["dead" if node.dead else node.role]
        edge_colour = _COLOURS["dead_text"] if node.dead else "#333333"
        gid = f"{prefix}shape-{node.key}" + ("-dead" if node.dead else "")
        if node.shape == "circle":
            patch = Circle((box.x, box.y), box.width / 2, fc=face, ec=edge_colour, lw=1.0, zorder=3, gid=gid)
        else:
            pad = 0.05
            patch = FancyBboxPatch(
                (box.x - box.width / 2 + pad, box.y - box.height / 2 + pad),
                box.width - 2 * pad,
                box.height - 2 * pad,
                boxstyle=f"round,pad={pad}",
                fc=face,
                ec=edge_colour,
                lw=1.0,
                zorder=3,
                gid=gid,
            )
        ax.add_patch(patch)
        patches[node.key] = patch
        _centred_text(ax, box, node.label, node.dead, zorder=4, gid=f"{prefix}node-{node.key}")
    for edge in panel.edges:
        a, b = panel.node(edge.source).box, panel.node(edge.target).box
        colour = _COLOURS["dead_edge" if edge.dead else "concat" if edge.concat else "edge"]
        style = {
            "arrowstyle": "-|>,head_length=0.5,head_width=0.22",
            "mutation_scale": 14,
            "lw": 1.0 if edge.concat else 1.2,
            "linestyle": "--" if edge.concat else "-",
            "color": colour,
            "zorder": 1,
            "gid": f"{prefix}edge-{edge.source}-{edge.target}" + ("-dead" if edge.dead else ""),
        }
        if edge.via:  # drawn as the visible part of its curve, already clear of the end nodes
            arrow = FancyArrowPatch(path=Path(_arc(a, b, edge.rad, edge.via)), shrinkA=0, shrinkB=0, **style)
        else:
            arrow = FancyArrowPatch(
                (a.x, a.y),
                (b.x, b.y),
                connectionstyle=f"arc3,rad={edge.rad}",
                patchA=patches[edge.source],
                patchB=patches[edge.target],
                shrinkA=0,
                shrinkB=1,
                **style,
            )
        ax.add_patch(arrow)
        if edge.label is not None and edge.label_box is not None:
            _centred_text(
                ax,
                edge.label_box,
                edge.label,
                edge.dead,
                zorder=2,
                gid=f"{prefix}label-{edge.source}-{edge.target}",
                bbox={"boxstyle": f"square,pad={_LABEL_PAD / FONT_SIZE}", "fc": "white", "ec": "none"},
            )


def _centred_text(ax: Any, box: Box, text: str, dead: bool, **style: Any) -> None:
    """A node's or an edge's label, centred on ``box``, greyed when what it names is dead."""
    ax.text(
        box.x,
        box.y,
        text,
        ha="center",
        va="center",
        fontsize=FONT_SIZE,
        color=_COLOURS["dead_text"] if dead else "black",
        **style,
    )


def _draw_layout(
    figure: Any, layout: CellLayout, left: float, bottom: float, title: str | None = None
) -> None:
    if title:
        figure.text(
            (left + layout.width / 2) / figure.get_size_inches()[0],
            (bottom + layout.height + 0.05) / figure.get_size_inches()[1],
            title,
            ha="center",
            va="bottom",
            fontsize=TITLE_SIZE,
            fontweight="bold",
        )
    x = left
    for panel in layout.panels:
        _draw_panel(figure, panel, x, bottom + layout.height - panel.height)
        x += panel.width


def draw_cell(space: SearchSpace | str, cell: Any, title: str | None = None) -> Any:
    """A :class:`matplotlib.figure.Figure` of ``cell`` (Agg canvas, not registered with pyplot; see the module
    docstring for the conventions). ``space`` is a space or its name. Raises :class:`InvalidCellError` for a
    cell the space rejects."""
    layout = cell_layout(space, cell)
    top = text_size(title, TITLE_SIZE)[1] + 0.15 if title else 0.0
    figure = _new_figure(layout.width, layout.height + top)
    _draw_layout(figure, layout, 0.0, 0.0, title)
    return figure


def contact_sheet(
    space: SearchSpace | str,
    cells: Sequence[Any],
    titles: Sequence[str] | None = None,
    columns: int | None = None,
) -> Any:
    """One figure of many cells in a grid (``columns`` default: about square), each under its title (default:
    its position ``#i``). Raises :class:`InvalidCellError` naming the first cell the space rejects."""
    space = resolve_space(space)
    if not cells:
        raise ValueError("a contact sheet needs at least one cell")
    if titles is None:
        titles = [f"#{i}" for i in range(len(cells))]
    if len(titles) != len(cells):
        raise ValueError(f"got {len(titles)} titles for {len(cells)} cells")
    layouts = []
    for i, cell in enumerate(cells):
        try:
            layouts.append(cell_layout(space, cell))
        except InvalidCellError as err:
            raise InvalidCellError(f"cell {i} of the contact sheet: {err}") from None
    if columns is None:
        columns = max(1, math.ceil(math.sqrt(len(cells))))
    rows = math.ceil(len(cells) / columns)
    head = max(text_size(title, TITLE_SIZE)[1] for title in titles) + 0.15
    cell_w = max(layout.width for layout in layouts) + 0.2
    cell_h = max(layout.height for layout in layouts) + head + 0.2
    figure = _new_figure(columns * cell_w, rows * cell_h)
    for i, (layout, title) in enumerate(zip(layouts, titles)):
        row, column = divmod(i, columns)
        left = column * cell_w + (cell_w - layout.width) / 2
        bottom = (rows - 1 - row) * cell_h + 0.1 + (cell_h - head - 0.2 - layout.height)
        _draw_layout(figure, layout, left, bottom, title)
    return figure


def figure_svg(figure: Any) -> str:
    """SVG text of ``figure``, its text kept as ``<text>`` elements (so labels can be read back) and no date."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "archllm"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def figure_png(figure: Any, dpi: float = 150, metadata: dict[str, str] | None = None) -> bytes:
    """PNG bytes of ``figure``: no ``Software`` entry (no matplotlib version) and no date, so the same figure gives
    the same bytes; ``metadata`` adds PNG text entries (``{"Description": ...}``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None, **(metadata or {})})
    return buffer.getvalue()


def cell_to_svg(space: SearchSpace | str, cell: Any, title: str | None = None) -> str:
    """SVG text of :func:`draw_cell`; see the module docstring for the ids of its nodes and edges."""
    return figure_svg(draw_cell(space, cell, title))


def cell_to_png(space: SearchSpace | str, cell: Any, title: str | None = None, dpi: float = 150) -> bytes:
    """PNG bytes of :func:`draw_cell`."""
    return figure_png(draw_cell(space, cell, title), dpi)


def cell_to_image(space: SearchSpace | str, cell: Any, title: str | None = None, dpi: float = 150) -> Any:
    """:func:`draw_cell` as a ``PIL.Image.Image`` (RGBA). Pillow is always there: matplotlib requires it and writes
    its PNGs with it."""
    from PIL import Image

    image = Image.open(io.BytesIO(cell_to_png(space, cell, title, dpi)))
    image.load()
    return image


_WRITERS = {".svg", ".png"}


def save_figure(
    figure: Any, path: str | os.PathLike[str], dpi: float = 150, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``figure`` atomically as SVG or PNG, chosen by the suffix of ``path``; ``metadata``: PNG text entries
    (PNG only)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        if metadata:
            raise ValueError("metadata is written into PNG drawings only")
        return atomic_write_text(path, figure_svg(figure))
    if suffix == ".png":
        return atomic_write_bytes(path, figure_png(figure, dpi, metadata))
    raise ValueError(f"cannot tell the drawing format of {str(path)!r}: name it *.svg or *.png")


def save_cell_drawing(
    space: SearchSpace | str, cell: Any, path: str | os.PathLike[str], title: str | None = None
) -> Path:
    """Write :func:`draw_cell` of ``cell`` to ``path`` (``.svg`` or ``.png``), atomically."""
    if Path(path).suffix.lower() not in _WRITERS:
        raise ValueError(f"cannot tell the drawing format of {str(path)!r}: name it *.svg or *.png")
    return save_figure(draw_cell(space, cell, title), path)


def draw_samples(
    space: SearchSpace | str,
    samples: Sequence[dict[str, Any]],
    out_dir: str | os.PathLike[str],
    sheet_limit: int = 64,
) -> dict[str, Any]:
    """Draw generated sample records (``archllm generate``): ``sample_<i>.svg`` per valid sample (``i`` its
    position) and ``contact_sheet.png`` of the first ``sheet_limit`` valid ones, into ``out_dir``. Invalid samples
    have no cell to draw and are skipped. Returns ``{"svgs": [...], "contact_sheet": path or None, "skipped": n}``."""
    space = resolve_space(space)
    out_dir = Path(out_dir)
    width = len(str(max(len(samples) - 1, 0)))
    drawn, svgs, skipped = [], [], 0
    for i, sample in enumerate(samples):
        if not sample.get("valid"):
            skipped += 1
            continue
        cell = space.from_native(sample["cell"])
        svgs.append(atomic_write_text(out_dir / f"sample_{i:0{width}d}.svg", cell_to_svg(space, cell)))
        drawn.append((i, cell))
    sheet = None
    if drawn:
        shown = drawn[:sheet_limit]
        figure = contact_sheet(space, [cell for _, cell in shown], titles=[f"#{i}" for i, _ in shown])
        sheet = save_figure(figure, out_dir / "contact_sheet.png", dpi=100)
    return {"svgs": svgs, "contact_sheet": sheet, "skipped": skipped}


__all__ = [
    "Box",
    "CellLayout",
    "EdgeDrawing",
    "NodeDrawing",
    "PanelLayout",
    "cell_layout",
    "cell_to_image",
    "cell_to_png",
    "cell_to_svg",
    "contact_sheet",
    "draw_cell",
    "draw_samples",
    "edge_curve",
    "figure_png",
    "figure_svg",
    "layout_problems",
    "save_cell_drawing",
    "save_figure",
    "text_size",
]
