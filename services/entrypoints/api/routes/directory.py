"""Directory routes: orgs, people, users, and the caller (`/me`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from services.entrypoints.api.params import RecordId
from services.entrypoints.api.schemas import (
    MeOut,
    OrgOut,
    OrgUpdated,
    PersonOut,
    TokenOut,
    UpdateOrg,
    UserCreated,
    UserOut,
)
from services.entrypoints.deps import CurrentActor, Now, ReadUow, WriteUow
from services.usecases import directory
from services.usecases.commands import CreateOrg, CreatePerson, CreateUser, UpdateUser

router = APIRouter(prefix="/api/v1", tags=["directory"])


@router.post("/orgs", status_code=201, response_model=OrgOut, name="create_org", summary="新建党组织")
def create_org(body: CreateOrg, actor: CurrentActor, uow: WriteUow) -> Any:
    return directory.org_view(directory.create_org(uow, actor, body))


@router.get("/orgs", response_model=list[OrgOut], name="list_orgs", summary="党组织列表")
def list_orgs(actor: CurrentActor, uow: ReadUow) -> Any:
    return [directory.org_view(o) for o in directory.list_orgs(uow.session)]


@router.patch(
    "/orgs/{org_id}", response_model=OrgUpdated, name="update_org", summary="开启或关闭党组织的公示页面（办公室）"
)
def update_org(org_id: RecordId, body: UpdateOrg, actor: CurrentActor, uow: WriteUow) -> Any:
    return directory.set_public_page(uow, actor, org_id, body.public_page)


@router.post("/people", status_code=201, response_model=PersonOut, name="create_person", summary="新建人员")
def create_person(body: CreatePerson, actor: CurrentActor, uow: WriteUow) -> Any:
    return directory.person_view(directory.create_person(uow, actor, body))


@router.post(
    "/users", status_code=201, response_model=UserCreated, name="create_user", summary="新建用户（令牌只显示一次）"
)
def create_user(body: CreateUser, actor: CurrentActor, uow: WriteUow, now: Now, response: Response) -> Any:
    roles = [r.model_dump(mode="json") for r in body.roles]
    user, token = directory.create_user(uow, actor, body, now)
    response.headers["Cache-Control"] = "no-store"  # the token is shown once: kept by no cache, no replay
    return {"id": user.id, "name": user.name, "token": token, "roles": roles}


@router.get("/users", response_model=list[UserOut], name="list_users", summary="用户列表（办公室）")
def list_users(actor: CurrentActor, uow: ReadUow) -> Any:
    return directory.list_users(uow.session, actor)


@router.patch("/users/{user_id}", response_model=UserOut, name="update_user", summary="启用、停用用户或更换其角色")
def update_user(user_id: RecordId, body: UpdateUser, actor: CurrentActor, uow: WriteUow) -> Any:
    return directory.update_user(uow, actor, user_id, body)


@router.post(
    "/users/{user_id}/token",
    status_code=201,
    response_model=TokenOut,
    name="replace_token",
    summary="更换用户令牌（新令牌只显示一次，旧令牌立即失效）",
)
def replace_token(user_id: RecordId, actor: CurrentActor, uow: WriteUow, response: Response) -> Any:
    token = directory.replace_token(uow, actor, user_id)
    response.headers["Cache-Control"] = "no-store"
    return {"token": token}


@router.get("/me", response_model=MeOut, name="read_me", summary="当前登录者及其角色")
def me(actor: CurrentActor, uow: ReadUow) -> Any:
    return directory.me_view(uow.session, actor)
