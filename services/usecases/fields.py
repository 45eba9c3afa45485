"""The field types every command shares, and the one way a refused field is told: its code for
programs, a Chinese message that names it by its label for people — the same from the API and
from a page's form."""

from __future__ import annotations

import datetime as dt
import math
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from services.errors import Invalid

PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
"""Text holds no control character but tab and line breaks: PostgreSQL cannot store NUL in a text
column, and a spreadsheet cell (the .xlsx report) cannot hold the others."""
STATE_CODE = r"^[a-z_]*$"
"""A `state` query filter is a state code such as `proposing`."""

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
YearNumber = Annotated[int, Field(ge=2000, le=2100)]
Clean = Annotated[str, Field(pattern=PLAIN_TEXT)]
"""Every text field: no control character but tab and line breaks; each field adds its own length limit."""
Text = Annotated[Clean, Field(min_length=1, max_length=2000)]
Name = Annotated[Clean, Field(min_length=1, max_length=50)]
Code = Annotated[Clean, Field(min_length=1, max_length=50)]
"""A short machine word: a deadline name, a score item code, a key in an event's `data`."""

DATA_TEXT_MAX, DATA_ITEMS_MAX, DATA_DEPTH_MAX = 10000, 200, 10
PLAIN = re.compile(PLAIN_TEXT)


class Command(BaseModel):
    """What a caller asks a use case to do: every field typed and bounded, nothing unknown accepted."""

    model_config = ConfigDict(extra="forbid")


def _data_error(where: str, problem: str) -> PydanticCustomError:
    return PydanticCustomError("data_invalid", "{where} {problem}", {"where": where, "problem": problem})


def bounded_json(value: Any, where: str = "", depth: int = 0) -> Any:
    """An event's `data` before its event's payload model reads it: only its shape is bounded here —
    text (no control characters, at most 10000 characters), finite numbers, the size of lists and
    objects, nesting."""
    if depth > DATA_DEPTH_MAX:
        raise _data_error(where, f"嵌套过深（最多 {DATA_DEPTH_MAX} 层）")
    if isinstance(value, str):
        if len(value) > DATA_TEXT_MAX:
            raise _data_error(where, f"过长（最多 {DATA_TEXT_MAX} 个字符）")
        if not PLAIN.match(value):
            raise _data_error(where, "不能包含控制字符（如 \\x00）")
    elif isinstance(value, float) and not math.isfinite(value):
        raise _data_error(where, "应为有限的数字")
    elif isinstance(value, list):
        if len(value) > DATA_ITEMS_MAX:
            raise _data_error(where, f"过多（最多 {DATA_ITEMS_MAX} 项）")
        for n, item in enumerate(value):
            bounded_json(item, f"{where}[{n}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > DATA_ITEMS_MAX:
            raise _data_error(where, f"字段过多（最多 {DATA_ITEMS_MAX} 个）")
        for key, item in value.items():
            if not 1 <= len(key) <= 50 or not PLAIN.match(key):
                raise _data_error(where or "data", f"含无效的字段名（1 至 50 个字符，不含控制字符）：{key[:50]!r}")
            bounded_json(item, f"{where}.{key}" if where else key, depth + 1)
    return value


EventData = Annotated[dict[Code, Any], Field(max_length=50), AfterValidator(bounded_json)]


PYDANTIC_ZH = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "too_long": "过多（最多 {max_length} 项）",
    "too_short": "过少（至少 {min_length} 项）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "string_type": "应为文本",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "value_error": "{error}",
    "string_pattern_mismatch": "格式不正确",
    "url_too_long": "过长（最多 {max_length} 个字符）",
    "url_parsing": "不是有效的网址",
    "url_scheme": "网址应以 http:// 或 https:// 开头",
    "finite_number": "应为有限的数字",
    "date_future": "不能晚于今天",
}
PATTERN_ZH = {PLAIN_TEXT: "不能包含控制字符（如 \\x00）", STATE_CODE: "应为状态代码（小写字母和下划线）"}


def _message(err: Any) -> str:
    if err["type"] == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") in PATTERN_ZH:
        return PATTERN_ZH[err["ctx"]["pattern"]]
    template = PYDANTIC_ZH.get(err["type"])
    if template is None:
        return str(err.get("msg", "无效"))
    try:
        return template.format(**err.get("ctx", {}))
    except (KeyError, IndexError):
        return template


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, through Optional, list and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType, list, Annotated):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def where(model: type[BaseModel] | None, loc: Sequence[Any]) -> tuple[str, bool]:
    """A location as a person reads it — "承诺事项第1项的承诺内容" — and whether its last part is a
    field the model does not have (then named as it was sent: that is what the person typed)."""
    text, current, unknown = "", model, False
    for part in loc:
        if isinstance(part, int):
            text += f"第{part + 1}项"
            continue
        field = current.model_fields.get(part) if current is not None else None
        label = (field.title if field is not None else None) or str(part)
        unknown = current is not None and field is None
        text += ("的" if text else "") + label
        current = _model_in(field.annotation) if field is not None else None
    return text, unknown


def message_of(model: type[BaseModel] | None, err: Any, loc: Sequence[Any]) -> str:
    """One refused field as a person reads it, e.g. "践诺情况：过长（最多 2000 个字符）"."""
    if err["type"] == "extra_forbidden":
        parent, _ = where(model, loc[:-1])
        return f"{parent + '中' if parent else ''}不允许的字段：{loc[-1]}"
    place, _ = where(model, loc)
    return f"{place}：{_message(err)}" if place else _message(err)


def dotted(loc: Sequence[Any]) -> str:
    """A request body's field code, as FastAPI locates it: `items.0.content`."""
    return ".".join(str(p) for p in loc) or "body"


def bracketed(prefix: str, loc: Sequence[Any]) -> str:
    """An event data field's code: `data.outcomes[0].item`."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def as_json(value: Any) -> Any:
    """A parsed value as a JSON column keeps it (dates as ISO text)."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: Any, prefix: str | None = None) -> M:
    """`raw` (a JSON body, a form's values) as `model`, or an Invalid naming every refused field:
    codes dotted as the API's body (`items.0.content`), or bracketed under `prefix` (`data.x[0]`)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {
                "field": bracketed(prefix, e["loc"]) if prefix else dotted(e["loc"]),
                "message": message_of(model, e, e["loc"]),
            }
            for e in exc.errors()
        ]
        raise Invalid.of(errors) from None
