"""Sessions and tokens end when they should: at logout, at a token's replacement, when a user is
disabled or deleted — on the very next request, through the caller cache (issue 14 items 3 and 4)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from services.entrypoints.cli import main
from tests.conftest import ADMIN, Served
from tests.county import County
from tests.e2e.test_web_refusals import signed_in


def _me(served: Served, token: str) -> httpx.Response:
    with served.client(token) as client:
        return client.get("/api/v1/me")


def test_a_replaced_token_is_refused_by_the_next_request(served: Served, county: County) -> None:
    old = county.tokens["m1"]
    assert _me(served, old).status_code == 200  # now cached
    replaced = county.admin.post(f"/api/v1/users/{county.user_ids['m1']}/token")
    assert replaced.status_code == 201 and replaced.headers["cache-control"] == "no-store"
    new = replaced.json()["token"]
    refused = _me(served, old)
    assert refused.status_code == 401 and refused.json()["detail"] == "令牌无效或已停用"
    assert _me(served, new).json()["name"] == "m1"


def test_a_disabled_user_is_refused_and_enabled_again(served: Served, county: County) -> None:
    token, uid = county.tokens["m2"], county.user_ids["m2"]
    assert _me(served, token).status_code == 200
    disabled = county.admin.patch(f"/api/v1/users/{uid}", json={"active": False})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert _me(served, token).status_code == 401
    county.admin.patch(f"/api/v1/users/{uid}", json={"active": True})
    assert _me(served, token).status_code == 200


def test_changed_roles_are_seen_by_the_next_request(served: Served, county: County) -> None:
    token, uid = county.tokens["appraiser"], county.user_ids["appraiser"]
    assert _me(served, token).json()["roles"] == [{"role": "appraiser", "org_id": county.orgs["a"]}]
    changed = county.admin.patch(f"/api/v1/users/{uid}", json={"roles": [{"role": "supervisor"}]})
    assert changed.status_code == 200
    assert _me(served, token).json()["roles"] == [{"role": "supervisor", "org_id": None}]
    listed = {u["id"]: u for u in county.admin.get("/api/v1/users").json()}
    assert listed[uid]["roles"] == [{"role": "supervisor", "org_id": None}] and listed[uid]["active"] is True


def test_a_bad_change_is_refused_by_field_and_changes_nothing(served: Served, county: County) -> None:
    uid = county.user_ids["m1"]
    refused = county.admin.patch(f"/api/v1/users/{uid}", json={"roles": [{"role": "secretary"}]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "roles[0].org_id"
    assert _me(served, county.tokens["m1"]).json()["roles"] == [{"role": "member", "org_id": None}]
    assert county.admin.patch("/api/v1/users/999999", json={"active": False}).status_code == 404


def test_a_user_deleted_in_the_database_is_refused_at_once(served: Served, county: County) -> None:
    token, uid = county.tokens["mb"], county.user_ids["mb"]
    assert _me(served, token).status_code == 200
    with served.container.db.begin() as conn:
        conn.execute(sa.text("DELETE FROM role_grant WHERE user_id = :u"), {"u": uid})
        conn.execute(sa.text('DELETE FROM "user" WHERE id = :u'), {"u": uid})
    assert _me(served, token).status_code == 401


def _cookie_values(client: httpx.Client) -> str:
    """The signed session cookie's readable part (starlette: base64 JSON, then the signature)."""
    raw = client.cookies["pledgeflow_session"].split(".")[0]
    return base64.b64decode(raw + "=" * (-len(raw) % 4)).decode()


def test_logout_ends_the_session_even_for_a_copied_cookie(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as member:
        assert member.get("/me").status_code == 200
        copied = dict(member.cookies)
        csrf = member.get("/me").text.split('name="csrf_token" value="')[1].split('"')[0]
        assert member.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with httpx.Client(base_url=served.url, cookies=copied, timeout=30) as replay:
        answer = replay.get("/me")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_a_replaced_token_ends_the_page_sessions(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["sec_a"]) as secretary:
        assert secretary.get("/branch").status_code == 200
        county.admin.post(f"/api/v1/users/{county.user_ids['sec_a']}/token")
        assert secretary.get("/branch").headers["location"] == "/login"


def test_the_cookie_carries_nothing_the_database_holds(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as member:
        cookie = _cookie_values(member)
    with served.container.db.connect() as conn:
        held = [*conn.execute(sa.text("SELECT key_hash FROM web_session")).scalars()]
        held += [*conn.execute(sa.text('SELECT token_hash FROM "user"')).scalars()]
    assert held and not [h for h in held if h in cookie]
    assert set(json.loads(cookie)) == {"s", "csrf"}


def test_the_settings_admin_token_cannot_sign_in_to_the_pages(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        csrf = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post("/login", data={"csrf_token": csrf, "token": ADMIN})
    assert answer.status_code == 401 and "令牌无效或已停用" in answer.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_users_revoke_on_the_command_line(served: Served, county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", str(served.container.db.url.render_as_string(hide_password=False)))
    result = CliRunner().invoke(main, ["users", "revoke", "--id", str(county.user_ids["m1"])])
    assert result.exit_code == 0, result.output
    assert "已停用" in result.output
    assert _me(served, county.tokens["m1"]).status_code == 401
    assert CliRunner().invoke(main, ["users", "revoke", "--id", "999999"]).exit_code == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_users_on_the_command_line(served: Served, county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """list, roles, token, enable: each refused or taken at once by the very next request."""
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", str(served.container.db.url.render_as_string(hide_password=False)))
    runner, uid = CliRunner(), str(county.user_ids["m2"])
    listed = runner.invoke(main, ["users", "list"])
    assert listed.exit_code == 0 and any(
        line.split()[0] == uid and "启用" in line for line in listed.output.splitlines()
    )
    replaced = runner.invoke(main, ["users", "token", "--id", uid])
    assert replaced.exit_code == 0, replaced.output
    new = replaced.output.split("new token ")[1].strip()
    assert _me(served, county.tokens["m2"]).status_code == 401 and _me(served, new).status_code == 200
    org = str(county.orgs["a"])
    roles = runner.invoke(main, ["users", "roles", "--id", uid, "--role", "member", "--role", f"appraiser:{org}"])
    assert roles.exit_code == 0, roles.output
    assert {r["role"] for r in _me(served, new).json()["roles"]} == {"member", "appraiser"}
    bad = runner.invoke(main, ["users", "roles", "--id", uid, "--role", "appraiser"])
    assert bad.exit_code == 1 and "评议人须指定所属党组织" in bad.output
    assert runner.invoke(main, ["users", "revoke", "--id", uid]).exit_code == 0
    assert _me(served, new).status_code == 401
    assert runner.invoke(main, ["users", "enable", "--id", uid]).output.strip().endswith("已启用")
    assert _me(served, new).status_code == 200
