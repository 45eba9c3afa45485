"""scripts/audit.py's verdict on pip-audit's JSON: a vulnerability fails, an unchecked pin never passes silently."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"
CLEAN = {"name": "jinja2", "version": "3.1.6", "vulns": []}
SKIPPED = {"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be audited: alembic (1.20.1)"}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"]}],
}


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails_and_names_the_fix() -> None:
    status, lines = _audit().verdict({"dependencies": [CLEAN, VULNERABLE, SKIPPED]}, "pypi", strict=False)
    assert status == 1
    assert "pip-audit: jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in lines
    assert any("NOT CHECKED — 1 of 3" in line for line in lines)


def test_unchecked_pins_are_said_plainly_and_fail_only_when_strict() -> None:
    audit = _audit()
    status, lines = audit.verdict({"dependencies": [SKIPPED, SKIPPED]}, "pypi", strict=False)
    assert status == 0 and lines[0].startswith("pip-audit: NOT CHECKED — 2 of 2 pinned packages")
    assert "NOT ruled out" in lines[0]
    assert audit.verdict({"dependencies": [CLEAN, SKIPPED]}, "pypi", strict=True)[0] == 2
    status, lines = audit.verdict("pip-audit exited 1 without a report: ConnectionError", "osv", strict=False)
    assert status == 0 and "NOT CHECKED" in lines[0] and "ConnectionError" in lines[0]


def test_a_clean_audit_says_how_many_pins_were_checked() -> None:
    status, lines = _audit().verdict({"dependencies": [CLEAN, CLEAN]}, "osv", strict=True)
    assert (status, lines) == (0, ["pip-audit: 2 pinned packages checked against osv: no known vulnerability"])
