"""Charts drawn on the server as SVG: pledges per branch by stage, as stacked horizontal bars."""

from __future__ import annotations

from html import escape
from typing import Any

COLORS = {
    "proposing": "#9e9e9e",
    "reviewing": "#f0a020",
    "publicizing": "#5b8def",
    "practising": "#2e7d32",
    "appraising": "#8e44ad",
    "closed": "#8b0000",
    "withdrawn": "#5d4037",
}
LABEL_W, BAR_W, ROW_H = 150, 420, 26


def stage_chart(rows: list[dict[str, Any]], labels: dict[str, str]) -> str:
    """One bar per org, one segment per stage; a legend below; every figure also in a <title>."""
    widest = max((r["pledges"] for r in rows), default=0) or 1
    height = len(rows) * ROW_H + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {LABEL_W + BAR_W + 40} {height}" '
        f'width="100%" role="img" aria-label="各党组织承诺书阶段分布" font-size="12" font-family="sans-serif">'
    ]
    for n, row in enumerate(rows):
        y = 10 + n * ROW_H
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" fill="#222">{escape(row["name"])}</text>')
        x = float(LABEL_W)
        for state, count in row["pledges_by_state"].items():
            if not count:
                continue
            w = BAR_W * count / widest
            tip = f"{row['name']} {labels.get(state, state)}：{count}"
            parts.append(
                f'<rect class="seg" data-state="{state}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="18" '
                f'fill="{COLORS.get(state, "#777")}"><title>{escape(tip)}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}" fill="#222">{row["pledges"]}</text>')
    y = 20 + len(rows) * ROW_H
    for n, (state, label) in enumerate(labels.items()):
        lx = 10 + (n % 7) * 88
        parts.append(f'<rect x="{lx}" y="{y}" width="12" height="12" fill="{COLORS.get(state, "#777")}"/>')
        parts.append(f'<text x="{lx + 16}" y="{y + 11}" fill="#222">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
