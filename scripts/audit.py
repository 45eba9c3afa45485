"""`make audit`: pip-audit over the lock files; a known vulnerability fails, and so does nothing pass silently.

pip-audit asks a vulnerability database about each pinned package (PyPI's JSON API by default, or OSV).
When it gets no answer for a package it only says "could not be audited" and exits 0 — the same as a clean
audit. This script reads pip-audit's JSON and says which it was:

- a known vulnerability in any pin: listed with its fix versions, exit 1;
- every pin checked, none known: one line, exit 0;
- pins NOT checked (no database answered, as on a machine that reaches only package registries): a loud
  NOT CHECKED line with the count, exit 0, or exit 2 with AUDIT_STRICT=1 (for a machine that should reach it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT = 300
"""Seconds the whole audit may take before it counts as not checked (an unreachable service times out per pin)."""


def run(locks: list[str], service: str) -> dict[str, Any] | str:
    """pip-audit's JSON report, or why there is none."""
    command = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--progress-spinner", "off"]
    command += ["--vulnerability-service", service, "--timeout", "10", "--format", "json"]
    for lock in locks:
        command += ["-r", lock]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return f"pip-audit took more than {TIMEOUT} s"
    try:
        return dict(json.loads(done.stdout))
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"pip-audit exited {done.returncode} without a report: {last}"


def verdict(report: dict[str, Any] | str, service: str, strict: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print for one audit."""
    if isinstance(report, str):
        return (2 if strict else 0), [f"pip-audit: NOT CHECKED — {report}; known vulnerabilities are NOT ruled out"]
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    lines = [
        f"pip-audit: {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})"
        for d in vulnerable
        for v in d["vulns"]
    ]
    if skipped:
        lines.append(
            f"pip-audit: NOT CHECKED — {len(skipped)} of {len(deps)} pinned packages could not be audited "
            f"(the {service} vulnerability service gave no answer for them, e.g. {skipped[0]['skip_reason']!r}); "
            "known vulnerabilities in them are NOT ruled out"
        )
    if vulnerable:
        return 1, lines
    if skipped:
        return (2 if strict else 0), lines
    return 0, [f"pip-audit: {len(deps)} pinned packages checked against {service}: no known vulnerability"]


def main() -> int:
    locks = sorted(p.name for p in Path.cwd().glob("requirements*.lock"))
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    status, lines = verdict(run(locks, service), service, os.environ.get("AUDIT_STRICT") == "1")
    print(f"pip-audit over {', '.join(locks)}:")
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
