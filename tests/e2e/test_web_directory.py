"""党组织和人员 on the office's pages: an org added under another, a person registered in it, a refusal beside its
field with what was typed kept; nobody but the office reaches the page."""

from __future__ import annotations

from tests.conftest import Served
from tests.county import County
from tests.web import form_on, signed_in


def test_the_office_adds_orgs_and_people_on_its_page(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["office"]) as office:
        page = office.get("/office/orgs").text
        assert "延庆一中党支部（党支部）· 3 人" in page
        refused = office.post(
            "/office/orgs", data=form_on(page, "/office/orgs") | {"name": "", "kind": "general_branch"}
        )
        assert refused.status_code == 303
        shown = office.get("/office/orgs").text
        assert "名称：" in shown and '<option value="general_branch" selected>' in shown
        body = {"name": "第三中学党支部", "kind": "branch", "parent_id": str(county.orgs["committee"])}
        assert office.post("/office/orgs", data=form_on(shown, "/office/orgs") | body).status_code == 303
        page = office.get("/office/orgs").text
        assert "已建立党组织：第三中学党支部" in page
        org = next(o for o in county.as_("office").get("/api/v1/orgs").json() if o["name"] == "第三中学党支部")
        assert org["parent_id"] == county.orgs["committee"] and org["kind"] == "branch"
        n = page.count('action="/office/people"')
        person = {"name": "周老师", "org_id": str(org["id"]), "status": "probationary", "position": "班主任"}
        assert office.post("/office/people", data=form_on(page, "/office/people", n - 1) | person).status_code == 303
        assert "周老师（预备党员，班主任）" in office.get("/office/orgs").text
    with signed_in(served, county.tokens["sec_a"]) as sec:
        assert sec.get("/office/orgs").status_code == 403
