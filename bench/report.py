"""Shared by the benchmark scripts: the machine and command a figure came from, and rewriting one section of
BENCHMARKS.md between its markers."""

from __future__ import annotations

import os
import platform
import shlex
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa

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


def machine_info(**versions: str) -> dict[str, Any]:
    """The machine, Python and the given library versions a figure was measured with, and the load at the start."""
    cpu_model = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "processor": platform.processor(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions,
        "loadavg_at_start": list(os.getloadavg()),
    }


def command() -> str:
    """How this script was run: a PostgreSQL URL is never shown (it may hold a password), and the wrapper that
    started the throwaway PostgreSQL is named when one did."""
    exe = Path(sys.executable)
    with suppress(ValueError):
        exe = exe.relative_to(Path.cwd())
    args, hide = [], False
    for arg in sys.argv:
        args.append("URL" if hide else "--pg-url=URL" if arg.startswith("--pg-url=") else arg)
        hide = arg == "--pg-url"
    line = shlex.join([str(exe), *args])
    return f"bash scripts/with-postgres.sh {line}" if os.environ.get("PLEDGEFLOW_TEST_PG_URL") else line


@contextmanager
def pg_schema_url(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at `base` (the URL to use it), dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
