"""The roster import's answer (SPEC §7.2)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CountsOut(BaseModel):
    created: int = Field(title="新增")
    updated: int = Field(title="更新")
    unchanged: int = Field(title="未变")


class LoginCardOut(BaseModel):
    name: str = Field(title="姓名")
    person_code: str = Field(title="人员编码")
    org_name: str = Field(title="所在党组织")
    roles: str = Field(title="角色")
    token: str = Field(title="登录令牌")


class RosterErrorOut(BaseModel):
    sheet: str | None = Field(title="工作表")
    row: int | None = Field(title="行")
    column: str | None = Field(title="列")
    message: str = Field(title="说明")


class RosterOut(BaseModel):
    dry_run: bool = Field(title="仅检查")
    orgs: CountsOut = Field(title="党组织")
    people: CountsOut = Field(title="人员")
    users: CountsOut = Field(title="用户")
    login_cards: list[LoginCardOut] = Field(
        title="登录卡", description="新用户的登录令牌，只在这一次回答中出现（库中只存其哈希）；仅检查时为空"
    )
    errors: list[RosterErrorOut] = Field(title="错误", description="成功时为空；失败时以 422 返回")
