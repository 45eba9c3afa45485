"""`pledgeflow simulate` replays 2010 deterministically, with the notices the calendar implies."""

from __future__ import annotations

import io

from click.testing import CliRunner

from services.entrypoints.cli import main
from services.rehearsal.simulate import simulate


def test_the_2010_rehearsal_is_deterministic_and_complete() -> None:
    first, second = io.StringIO(), io.StringIO()
    simulate(2010, first)
    simulate(2010, second)
    text = first.getvalue()
    assert text == second.getvalue()
    lines = text.splitlines()
    assert lines[0].startswith("2010年度创先争优活动演练")
    moved = (
        "- 完成公开：2010-10-31（星期日） → 提前到前一个工作日 2010-10-29（星期五）；"
        "顺延到下一个工作日 2010-11-01（星期一）"
    )
    assert moved in lines, "where each calendar policy moves the Sunday deadline"
    assert "本次演练按“按原定日期”进行。" in lines
    assert any(line.startswith("2010-10-25") and "【提醒】" in line and "2010年10月31日前完成公开" for line in lines)
    assert any(line.startswith("2010-11-01") and "【逾期】" in line for line in lines)
    assert any(line.startswith("2010-11-02") and "【督办】" in line and "工委" in line for line in lines)
    assert any("自查总结评估报告未在2010年11月20日前上报自查报告" in line for line in lines)
    assert any(line.startswith("2011-01-01") and "完成考评" in line for line in lines)
    summary = lines[lines.index("各支部情况汇总：") + 1 :]
    assert len(summary) == 4 and "延庆一中党支部" in summary[0] and "优秀" in summary[0]


def test_the_command_exits_zero() -> None:
    result = CliRunner().invoke(main, ["simulate", "--year", "2010"])
    assert result.exit_code == 0, result.output
    assert "各支部情况汇总" in result.output
