"""The office's 用户管理 page: every user with person, roles and e-mail; disable and enable, change
roles (a refusal beside the rows, what was chosen kept), replace a token — shown once, kept nowhere."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa
from sqlmodel import col

from services.persistence.tables import WebSession
from services.persistence.uow import UnitOfWork
from tests.conftest import Served
from tests.county import County
from tests.web import form_on, post_form, signed_in


def me(served: Served, token: str) -> int:
    with httpx.Client(base_url=served.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
        return c.get("/api/v1/me").status_code


def flashes(served: Served) -> list[object]:
    with UnitOfWork(served.container.db, write=False) as uow:
        return list(uow.session.execute(sa.select(col(WebSession.flash))).scalars())


def test_the_office_lists_disables_and_enables_users(served: Served, county: County) -> None:
    body = {"name": "王老师", "roles": [{"role": "appraiser", "org_id": county.orgs["b"]}], "email": "wang@example.cn"}
    county.post("/api/v1/users", body)
    with signed_in(served, county.tokens["office"]) as office:
        assert 'href="/office/users"' in office.get("/office").text
        r = office.get("/office/users")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        row = re.search(r'<tr id="user-(\d+)"[^>]*><th scope="row">王老师</th>(.*?)</tr>', r.text, re.S)
        assert row is not None and "wang@example.cn" in row.group(2) and "评议人（延庆二中党支部）" in row.group(2)
        sec_row = re.search(rf'<tr id="user-{county.user_ids["sec_a"]}".*?</tr>', r.text, re.S)
        assert sec_row is not None
        assert "支部书记（延庆一中党支部）" in sec_row.group(0) and "sec_a老师（延庆一中党支部）" in sec_row.group(0)

        m2 = county.user_ids["m2"]
        assert post_form(office, "/office/users", f"/office/users/{m2}", {}).status_code == 303
        assert me(served, county.tokens["m2"]) == 401, "a disabled user is refused by the very next request"
        page = office.get("/office/users").text
        assert "m2：已停用" in page and form_on(page, f"/office/users/{m2}")["active"] == "true"
        assert post_form(office, "/office/users", f"/office/users/{m2}", {}).status_code == 303
        assert me(served, county.tokens["m2"]) == 200

    with signed_in(served, county.tokens["sec_a"]) as sec:
        refused = sec.get("/office/users")
        assert refused.status_code == 403 and "只有创先争优活动办公室可以查看用户" in refused.text


def test_the_office_changes_roles_and_a_refusal_keeps_the_rows(served: Served, county: County) -> None:
    uid = county.user_ids["appraiser"]
    with signed_in(served, county.tokens["office"]) as office:
        page = office.get(f"/office/users/{uid}").text
        assert "评议人" in page and f'<option value="{county.orgs["a"]}" selected>' in page
        bad = {"role": ["appraiser", "secretary", ""], "org_id": [str(county.orgs["b"]), "", ""]}
        refused = post_form(office, f"/office/users/{uid}", f"/office/users/{uid}", bad)
        assert refused.status_code == 303
        shown = office.get(refused.headers["location"]).text
        assert re.search(r'class="field-error"[^>]*>支部书记须指定所属党组织', shown)
        assert f'<option value="{county.orgs["b"]}" selected>' in shown, "the org chosen is kept"
        assert re.search(r'name="role">.*?<option value="secretary" selected>', shown, re.S)
        kept = {u["id"]: u for u in county.as_("office").get("/api/v1/users").json()}[uid]
        assert kept["roles"] == [{"role": "appraiser", "org_id": county.orgs["a"]}], "nothing was written"

        good = {"role": ["appraiser", "", ""], "org_id": [str(county.orgs["b"]), "", ""]}
        done = post_form(office, f"/office/users/{uid}", f"/office/users/{uid}", good)
        assert done.status_code == 303 and "appraiser：角色已更新" in office.get(done.headers["location"]).text
        users = {u["id"]: u for u in county.as_("office").get("/api/v1/users").json()}
        assert users[uid]["roles"] == [{"role": "appraiser", "org_id": county.orgs["b"]}]
        assert me(served, county.tokens["appraiser"]) == 200, "the token still works; only the roles changed"


def test_a_replaced_token_is_shown_once_and_kept_nowhere(served: Served, county: County) -> None:
    m1, old = county.user_ids["m1"], county.tokens["m1"]
    with signed_in(served, county.tokens["office"]) as office:
        replaced = post_form(office, "/office/users", f"/office/users/{m1}/token", {})
        assert replaced.status_code == 303
        assert me(served, old) == 401, "the old token stops at once"
        assert [f for f in flashes(served) if f] != [], "the message waits in the page session for the next page"
        page = office.get(replaced.headers["location"])
        assert page.headers["cache-control"] == "no-store"
        found = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', page.text)
        assert found is not None and "只显示这一次" in page.text and "已为m1更换令牌" in page.text
        token = found.group(1)
        assert me(served, token) == 200
        assert all(f is None for f in flashes(served)), "shown once: the page session keeps it no longer"
        again = office.get("/office/users").text
        assert token not in again and "new-token" not in again

    with signed_in(served, county.tokens["office"]) as office:
        own = post_form(office, "/office/users", f"/office/users/{county.user_ids['office']}/token", {})
        assert own.status_code == 200, "the office's own session has ended: the token is shown at once"
        found = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', own.text)
        assert found is not None and "本次登录已结束" in own.text
        assert me(served, found.group(1)) == 200 and me(served, county.tokens["office"]) == 401
        assert all(f is None for f in flashes(served))
        signed_out = office.get("/office/users")
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"


def test_the_office_makes_a_user_for_a_person_and_sees_the_token_once(served: Served, county: County) -> None:
    person = county.post("/api/v1/people", {"name": "赵老师", "org_id": county.orgs["b"], "status": "full"})["id"]
    with signed_in(served, county.tokens["office"]) as office:
        listed = office.get("/office/orgs").text
        assert f'href="/office/users/new?person_id={person}"' in listed
        path = f"/office/users/new?person_id={person}"
        page = office.get(path).text
        assert 'value="赵老师"' in page and "赵老师（延庆二中党支部）" in page
        assert '<option value="member" selected>' in page, "a person's user is offered the member's role"
        bad = {"name": "赵老师", "email": "not-an-address", "role": ["member", ""], "org_id": ["", ""]}
        refused = post_form(office, path, "/office/users/new", bad)
        assert refused.status_code == 303 and refused.headers["location"] == path
        page = office.get(path).text
        error = re.search(r'<p class="field-error" id="err-user-new-email">([^<]+)</p>', page)
        assert error and "邮箱" in error[1] and 'value="not-an-address"' in page, "told beside it, what was typed kept"
        assert county.admin.get("/api/v1/users").json()[-1]["name"] != "赵老师", "nothing made"

        good = bad | {"email": "zhao@example.cn"}
        made = post_form(office, path, "/office/users/new", good)
        assert made.status_code == 303 and made.headers["location"] == "/office/users"
        shown = office.get("/office/users")
        assert shown.headers["cache-control"] == "no-store" and "已建立用户：赵老师" in shown.text
        token = re.search(r'<input id="new-token" type="text" readonly value="([^"]+)">', shown.text)
        assert token, "the token, once"
        assert 'id="new-token"' not in office.get("/office/users").text, "and never again"
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token[1]}"}, timeout=30) as zhao:
        me_now = zhao.get("/api/v1/me").json()
    assert me_now["person"]["id"] == person and [r["role"] for r in me_now["roles"]] == ["member"]
    with signed_in(served, county.tokens["sec_a"]) as sec:
        refused = sec.get(f"/office/users/new?person_id={person}")
        assert refused.status_code == 403 and "只有创先争优活动办公室可以建立用户" in refused.text
