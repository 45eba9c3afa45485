"""Shared by the benchmark scripts: rewrite one section of BENCHMARKS.md between its markers."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = "# Pledgeflow benchmarks\n"


def write_section(name: str, title: str, body: str, path: Path = BENCHMARKS, header: str = HEADER) -> None:
    """Replace what lies between `<!-- name:start -->` and `<!-- name:end -->`, or append the section
    under `## title`; every other section is left as it is."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else header
    if start in text and end in text and text.index(start) < text.index(end):
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {title}\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
