"""`pledgeflow definitions check` passes on the shipped files and names file and line when broken."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from services.entrypoints.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "definitions"


def test_the_shipped_definitions_pass() -> None:
    result = CliRunner().invoke(main, ["definitions", "check"])
    assert result.exit_code == 0, result.output
    for name in ("pledge", "self_evaluation", "appraisal_round", "demo_site", "rectification"):
        assert name in result.output


def test_a_broken_definition_fails_naming_file_and_line() -> None:
    result = CliRunner().invoke(main, ["definitions", "check", "--root", str(FIXTURES / "unreachable_state")])
    assert result.exit_code == 1
    assert "lifecycle.yaml:" in result.output and "unreachable" in result.output
