"""`pledgeflow import roster FILE.xlsx [--dry-run]`: the same import as the API, from the command line,
with the new users' login cards written to a workbook only its owner can read."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from services.entrypoints.cli import main
from services.usecases import roster_book


def _roster(tmp_path: Path, *people: list[object]) -> Path:
    book = openpyxl.load_workbook(io.BytesIO(roster_book.template()))
    book["党组织"].append(["B1", "县一中党支部", "党支部", "JY"])
    for row in people:
        book["人员"].append(row)
    path = tmp_path / "名册.xlsx"
    book.save(path)
    return path


def test_the_import_command(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", db_url)
    path = _roster(tmp_path, ["B1-01", "李书记", "B1", "正式", "书记", None, "支部书记"])
    runner = CliRunner()
    checked = runner.invoke(main, ["import", "roster", str(path), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "党组织：检查通过，将新增 2，更新 0，未变 0" in checked.output
    assert not (tmp_path / "名册-登录卡.xlsx").exists()

    done = runner.invoke(main, ["import", "roster", str(path)])
    assert done.exit_code == 0, done.output
    assert "人员：已新增 2，更新 0，未变 0" in done.output and "用户：已新增 2" in done.output
    cards = tmp_path / "名册-登录卡.xlsx"
    assert stat.S_IMODE(cards.stat().st_mode) == 0o600
    sheet = openpyxl.load_workbook(cards)["登录卡"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == roster_book.CARD_HEADERS and {r[0] for r in rows[1:]} == {"王明", "李书记"}
    assert all(len(str(r[4])) >= 40 for r in rows[1:])

    again = runner.invoke(main, ["import", "roster", str(path)])
    assert "党组织：已新增 0，更新 0，未变 2" in again.output and "用户：已新增 0，更新 0，未变 2" in again.output

    bad = _roster(tmp_path, ["B1-02", "张老师", "B9", "正式", None, None, None])
    refused = runner.invoke(main, ["import", "roster", str(bad)])
    assert refused.exit_code != 0
    assert "「人员」第3行C列：所在党组织编码：找不到编码为 B9 的党组织" in refused.output
