"""Lifecycle diagrams drawn from the definitions: Mermaid text, and a self-contained SVG."""

from __future__ import annotations

from html import escape

from definitions import Lifecycle

BOX_W, BOX_H, GAP, LEFT = 150, 40, 36, 200


def mermaid(lc: Lifecycle, current: str | None = None) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {lc.initial}"]
    for st in lc.states:
        lines.append(f"    {st.code} : {st.label_zh}")
    for ev in lc.events:
        for src in lc.sources(ev):
            lines.append(f"    {src} --> {ev.dest} : {ev.label_zh}（{ev.name}）")
    for st in lc.states:
        if st.final:
            lines.append(f"    {st.code} --> [*]")
    if current:
        lines += ["    classDef current fill:#c0392b,color:#fff", f"    class {current} current"]
    return "\n".join(lines) + "\n"


def svg(lc: Lifecycle, current: str | None = None) -> str:
    """States top to bottom in definition order; forward moves arc right, returns arc left."""
    order = {st.code: i for i, st in enumerate(lc.states)}
    height = len(lc.states) * (BOX_H + GAP) + GAP
    width = LEFT * 2 + BOX_W
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="18" role="img" '
        f'aria-label="{escape(lc.label_zh)}流程图">',
        '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for ev in lc.events:
        for src in lc.sources(ev):
            parts.append(_edge(order[src], order[ev.dest], ev.label_zh))
    for st in lc.states:
        y = GAP + order[st.code] * (BOX_H + GAP)
        fill, color = ("#c0392b", "#fff") if st.code == current else ("#fdf6e3", "#222")
        stroke = 3 if st.final else 1
        parts.append(
            f'<g class="state" data-state="{st.code}"><rect x="{LEFT}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{fill}" stroke="#8b0000" stroke-width="{stroke}"/>'
            f'<text x="{LEFT + BOX_W / 2}" y="{y + BOX_H / 2 + 6}" text-anchor="middle" fill="{color}">'
            f"{escape(st.label_zh)}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(src: int, dest: int, label: str) -> str:
    y1 = GAP + src * (BOX_H + GAP) + BOX_H / 2
    y2 = GAP + dest * (BOX_H + GAP) + BOX_H / 2
    forward = dest > src
    x = LEFT + BOX_W if forward else LEFT
    bulge = 30 + 18 * abs(dest - src)
    cx = x + bulge if forward else x - bulge
    tx = cx + (4 if forward else -4)
    anchor = "start" if forward else "end"
    return (
        f'<path d="M{x},{y1} C{cx},{y1} {cx},{y2} {x},{y2}" fill="none" stroke="#555" marker-end="url(#a)"/>'
        f'<text x="{tx}" y="{(y1 + y2) / 2}" font-size="16" fill="#333" text-anchor="{anchor}">{escape(label)}</text>'
    )
