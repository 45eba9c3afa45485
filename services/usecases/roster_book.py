"""The roster workbook (SPEC §7.2): its two sheets and their Chinese headers, the template the office
fills in, reading a filled one back (python-calamine), and the login cards of the users it made."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from python_calamine import CalamineError, load_workbook

from definitions.vocabulary import USER_ROLES, Coded, OrgKind, PersonStatus, Role
from services.errors import Invalid
from services.usecases.commands import EMAIL
from services.usecases.fields import Clean, Command, Name
from services.usecases.sheets import sheet_value

ROLE_SEPARATORS = "、,，;；/ "


def _choice(vocabulary: type[Coded], allowed: tuple[Coded, ...] | None = None) -> BeforeValidator:
    """A cell naming a code by its Chinese label (正式党员), its short form (正式) or its code (full)."""
    members = allowed or tuple(vocabulary)
    names = {}
    for m in members:
        short = m.label_zh.removeprefix("入党").removesuffix("党员") or m.label_zh
        names.update({m.value: m, m.label_zh: m, short: m})

    def read(value: Any) -> Any:
        if isinstance(value, str) and value.strip() in names:
            return names[value.strip()]
        choices = "、".join(m.label_zh for m in members)
        raise PydanticCustomError("roster_choice", "应为{choices}之一", {"choices": choices})

    return BeforeValidator(read)


def _roles(value: Any) -> Any:
    """角色: several, separated by 、 or a comma: 「支部书记、党员」."""
    if value is None:
        return []
    text = str(value)
    for sep in ROLE_SEPARATORS[1:]:
        text = text.replace(sep, ROLE_SEPARATORS[0])
    return [part for part in text.split(ROLE_SEPARATORS[0]) if part]


RosterCode = Annotated[Clean, Field(min_length=1, max_length=40)]
UserRole = Annotated[Role, _choice(Role, USER_ROLES)]


class RosterOrg(Command):
    """One row of the sheet 党组织."""

    code: Annotated[RosterCode, Field(title="编码")]
    name: Annotated[Clean, Field(min_length=1, max_length=100, title="名称")]
    kind: Annotated[OrgKind, _choice(OrgKind), Field(title="类型")]
    parent_code: Annotated[RosterCode | None, Field(title="上级编码")] = None


class RosterPerson(Command):
    """One row of the sheet 人员."""

    code: Annotated[RosterCode, Field(title="编码")]
    name: Annotated[Name, Field(title="姓名")]
    org_code: Annotated[RosterCode, Field(title="所在党组织编码")]
    status: Annotated[PersonStatus, _choice(PersonStatus), Field(title="身份")]
    position: Annotated[Clean | None, Field(max_length=50, title="职务")] = None
    email: Annotated[str | None, Field(max_length=200, pattern=EMAIL, title="邮箱")] = None
    roles: Annotated[list[UserRole], BeforeValidator(_roles), Field(default_factory=list, max_length=10, title="角色")]


@dataclass(frozen=True)
class Sheet:
    name: str
    code: str
    """The sheet in an error's field code: `people.5.name` is row 5 of 人员, its 姓名."""
    model: type[BaseModel]
    example: tuple[Any, ...]

    @property
    def headers(self) -> list[str]:
        return [str(f.title or name) for name, f in self.model.model_fields.items()]

    def column(self, field: str) -> str:
        """The column letter of a field, as the template lays the sheet out."""
        return str(get_column_letter(list(self.model.model_fields).index(field) + 1))


ORGS = Sheet("党组织", "orgs", RosterOrg, ("JY", "县教育工委", "教育工委", None))
PEOPLE = Sheet("人员", "people", RosterPerson, ("JY-0001", "王明", "JY", "正式", "书记", None, "教育工委领导、党员"))
SHEETS = (ORGS, PEOPLE)


@dataclass(frozen=True)
class Row:
    sheet: Sheet
    number: int
    """The row's number as the spreadsheet shows it (the header is row 1)."""
    values: dict[str, Any]
    """Field name → the cell's value, as text (a code typed as a number reads as the number's digits)."""
    columns: dict[str, str]
    """Field name → the column letter it was read from."""


TEMPLATE_NAME = "名册导入模板.xlsx"


def template() -> bytes:
    """The workbook to fill in: both sheets with bold headers, one example row each, and drop-down lists
    for 类型 and 身份."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        ws.append(sheet.headers)
        ws.append([sheet_value(v) for v in sheet.example])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for n in range(1, len(sheet.headers) + 1):
            ws.column_dimensions[get_column_letter(n)].width = 18
        ws.freeze_panes = "A2"
    _dropdown(wb[ORGS.name], ORGS.column("kind"), [k.label_zh for k in OrgKind])
    _dropdown(wb[PEOPLE.name], PEOPLE.column("status"), [s.label_zh for s in PersonStatus])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _dropdown(ws: Any, column: str, choices: list[str]) -> None:
    rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    rule.error, rule.errorTitle = "请从列表中选择", "无效的值"
    ws.add_data_validation(rule)
    rule.add(f"{column}2:{column}100000")


def read(data: bytes) -> Iterator[Row]:
    """Every filled row of both sheets, headers found by name (in any column order). A file that is no
    .xlsx, a missing sheet or a missing header is refused, naming what is missing."""
    try:
        book = load_workbook(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as exc:
        raise Invalid("file", "无法读取文件：请上传用模板填写的 .xlsx 文件") from exc
    missing = [s.name for s in SHEETS if s.name not in book.sheet_names]
    if missing:
        raise Invalid("file", f"文件中缺少工作表：{'、'.join(missing)}（请使用导入模板）")
    for sheet in SHEETS:
        yield from _rows(sheet, book.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False))


def _rows(sheet: Sheet, cells: list[list[Any]]) -> Iterator[Row]:
    header = [_text(c) for c in (cells[0] if cells else [])]
    fields = list(sheet.model.model_fields)
    absent = [h for h in sheet.headers if h not in header]
    if absent:
        raise Invalid(f"{sheet.code}.1", f"工作表「{sheet.name}」第1行缺少表头：{'、'.join(absent)}")
    at = {field: header.index(title) for field, title in zip(fields, sheet.headers, strict=True)}
    columns = {field: get_column_letter(i + 1) for field, i in at.items()}
    for number, line in enumerate(cells[1:], start=2):
        values = {field: _text(line[i]) if i < len(line) else None for field, i in at.items()}
        if any(v is not None for v in values.values()):
            yield Row(sheet, number, {k: v for k, v in values.items() if v is not None}, columns)


def _text(value: Any) -> str | None:
    """A cell as text: blank is None; 1001.0 (a code typed as a number) is "1001"; a date is ISO."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class Card:
    """A new user's login card: the token is shown here once and stored only as its hash."""

    name: str
    person_code: str
    org_name: str
    roles: str
    token: str


CARD_HEADERS = ("姓名", "人员编码", "所在党组织", "角色", "登录令牌")


def login_cards(cards: list[Card]) -> bytes:
    """The login cards as a sheet to print and hand out (or to mail merge)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("登录卡")
    ws.append(list(CARD_HEADERS))
    for c in cards:
        ws.append([sheet_value(v) for v in (c.name, c.person_code, c.org_name, c.roles, c.token)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
