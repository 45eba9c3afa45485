"""Cells of the spreadsheets the service writes (the progress report, the roster template, login
cards): text that can never run as a formula."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (or, for tab and CR, hide one behind them)."""


def text_cell(value: Any) -> Any:
    """Text as an export may carry it: one starting like a formula (an org named `=cmd|' /C calc'!A0`) gets a
    leading single quote, so Excel, LibreOffice and WPS show it as text and never run it (OWASP's advice for
    CSV injection; the same in the workbook, whichever program later opens or re-saves it). Numbers stay
    numbers: a negative count is not text."""
    if isinstance(value, str) and value.startswith(FORMULA_FIRST):
        return "'" + value
    return value


def sheet_value(value: Any) -> Any:
    """Stored text as a sheet can hold it: without the control characters a cell refuses, escaped as above."""
    return text_cell(ILLEGAL_CHARACTERS_RE.sub("", value)) if isinstance(value, str) else value
