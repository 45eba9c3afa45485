"""用户管理 for the office: every user with their person, roles and e-mail; a new user (for a person of
the directory, or for no one), disable or enable, change roles, replace a token — through the API's own
use cases (services.usecases.directory)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from definitions.vocabulary import USER_ROLES
from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.errors import Forbidden, NotFound
from services.persistence.tables import Org, Person
from services.persistence.uow import UnitOfWork
from services.usecases import directory
from services.usecases.commands import CreateUser, UpdateUser
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NO_STORE = {"Cache-Control": "no-store"}
"""A page that may show a new token is kept by no cache."""
TOKEN_FORM = "token"


def _shown(
    request: Request, actor: Any, users: list[dict[str, Any]], orgs: list[tuple[int, str]], **more: Any
) -> Response:
    roles = {r.value: r.label_zh for r in USER_ROLES}
    answer = page(request, "users.html", actor, users=users, orgs=orgs, role_labels=roles, **more)
    answer.headers.update(NO_STORE)
    return answer


@router.get("/office/users")
def users(request: Request, c: ContainerDep, actor: WebActor) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        listed = views.users(uow.session, actor)
    return _shown(request, actor, listed, [])


@router.get("/office/users/new")
def new_user(
    request: Request, c: ContainerDep, actor: WebActor, person_id: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    """A new user: for `person_id` (named and linked, a member's role offered), or for no one."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以建立用户")
    with UnitOfWork(c.db, write=False) as uow:
        person = uow.session.get(Person, person_id) if person_id else None
        if person_id and person is None:
            raise NotFound(f"人员 {person_id} 不存在")
        org = uow.session.get(Org, person.org_id) if person else None
        orgs = views.org_choices(uow.session)
    fresh = {
        "id": None,
        "name": person.name if person else "",
        "person_id": person_id,
        "person": f"{person.name}（{org.name if org else ''}）" if person else "",
        "roles": [{"role": "member", "org_id": None}] if person else [],
    }
    return _shown(request, actor, [], orgs, editing=fresh)


@router.post("/office/users/new")
def create_user(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """The new user's token is shown once on the next page, as a replaced token is."""
    cmd = parse(CreateUser, filled(form, "name", "person_id", "email") | {"roles": roles_of(form)})
    with UnitOfWork(c.db) as uow:
        user, token = directory.create_user(uow, actor, cmd, now)
    flash(request, TOKEN_FORM, f"已建立用户：{user.name}", values={"token": token})
    return RedirectResponse("/office/users", status_code=303)


@router.get("/office/users/{user_id}")
def one_user(request: Request, user_id: UserId, c: ContainerDep, actor: WebActor) -> Response:
    """One user's roles to change (a page of its own: the org list is long)."""
    with UnitOfWork(c.db, write=False) as uow:
        found = [u for u in views.users(uow.session, actor) if u["id"] == user_id]
        if not found:
            raise NotFound(f"用户 {user_id} 不存在")
        orgs = views.org_choices(uow.session)
    return _shown(request, actor, found, orgs, editing=found[0])


def roles_of(form: FormData) -> list[dict[str, Any]]:
    """The role rows filled in (a row left without a role is not sent), as the API's body has them."""
    pairs = zip(form.getlist("role"), form.getlist("org_id"), strict=False)
    return [{"role": str(r), **({"org_id": str(o)} if str(o) else {})} for r, o in pairs if str(r)]


@router.post("/office/users/{user_id}")
def update_user(request: Request, user_id: UserId, form: CheckedForm, c: ContainerDep, actor: WebActor) -> Response:
    """Enable or disable the user (`active`), or replace their roles (`role`/`org_id` rows)."""
    body = {"active": text(form, "active")} if "active" in form else {"roles": roles_of(form)}
    cmd = parse(UpdateUser, body)
    with UnitOfWork(c.db) as uow:
        user = directory.update_user(uow, actor, user_id, cmd)
    done = ("已启用" if user["active"] else "已停用") if cmd.active is not None else "角色已更新"
    flash(request, text(form, "form"), f"{user['name']}：{done}")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/office/users/{user_id}/token")
def replace_token(request: Request, user_id: UserId, form: CheckedForm, c: ContainerDep, actor: WebActor) -> Response:
    """A new token, shown once on the next page. It goes there as the page session's message, which
    the next page reads and clears in the same step (session.take_flash): it is kept nowhere after
    it is shown. The office's own token: its page session has just ended, so it is shown at once."""
    with UnitOfWork(c.db) as uow:
        name = next((u["name"] for u in directory.list_users(uow.session, actor) if u["id"] == user_id), "")
        token = directory.replace_token(uow, actor, user_id)
    told = f"已为{name}更换令牌，原令牌已立即失效"
    if user_id == actor.user_id:
        request.session.clear()
        shown = {"form": TOKEN_FORM, "ok": True, "messages": [told], "values": {"token": token, "own": True}}
        answer = page(request, "users.html", None, flash=shown, users=[], orgs=[], role_labels={})
        answer.headers.update(NO_STORE)
        return answer
    flash(request, TOKEN_FORM, told, values={"token": token})
    return RedirectResponse(back_to(form), status_code=303)
