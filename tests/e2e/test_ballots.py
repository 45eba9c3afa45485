"""Secret ballots (issue 14 item 2): who has voted and what was voted are kept apart with nothing linking
them, a subject's results show only from `min_ballots` (default 5), and a person votes once per subject
whichever of their accounts they use."""

from __future__ import annotations

import re
from typing import Any

import httpx
import sqlalchemy as sa

from tests.conftest import Served
from tests.county import YEAR, County
from tests.web import form_on, signed_in

NEXT = YEAR + 1  # a campaign with the default min_ballots


def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def _round(county: County, year: int) -> int:
    sec = county.as_("sec_a")
    rid = int(_ok(sec.post("/api/v1/appraisal-rounds", json={"year": year, "org_id": county.orgs["a"]}), 201)["id"])
    _ok(sec.post(f"/api/v1/appraisal-rounds/{rid}/events", json={"event": "open"}))
    return rid


def _vote(county: County, who: str, rid: int, subject: dict[str, Any], rating: str = "satisfied") -> httpx.Response:
    return county.as_(who).post(f"/api/v1/appraisal-rounds/{rid}/ballots", json={"subject": subject, "rating": rating})


def test_a_subject_shows_its_results_only_from_five_ballots(served: Served, county: County) -> None:
    assert _ok(county.admin.post("/api/v1/campaigns", json={"year": NEXT}), 201)["min_ballots"] == 5
    person = _ok(
        county.admin.post("/api/v1/people", json={"name": "新老师", "org_id": county.orgs["a"], "status": "full"}), 201
    )
    county.people["m3"] = person["id"]
    county.user("m3", [{"role": "member"}], person="m3")
    rid = _round(county, NEXT)
    org, m1 = {"type": "org", "id": county.orgs["a"]}, {"type": "person", "id": county.people["m1"]}
    for who in ("m1", "m2", "sec_a", "appraiser", "m3"):
        assert _vote(county, who, rid, org).status_code == 201
    for who in ("m2", "sec_a", "appraiser", "m3"):
        assert _vote(county, who, rid, m1, "dissatisfied").status_code == 201
    _ok(county.as_("sec_a").post(f"/api/v1/appraisal-rounds/{rid}/events", json={"event": "close"}))
    results = {
        r["subject"]["type"]: r
        for r in _ok(county.as_("sec_a").get(f"/api/v1/appraisal-rounds/{rid}/results"))["subjects"]
    }
    assert results["org"]["total"] == 5 and results["org"]["satisfaction_rate"] == 1.0
    assert results["person"]["total"] == 4
    assert results["person"].get("counts") is None and results["person"].get("satisfaction_rate") is None


def test_one_person_votes_once_whatever_account(served: Served, county: County) -> None:
    county.user("m1_second", [{"role": "member"}], person="m1")
    rid = _round(county, YEAR)
    org = {"type": "org", "id": county.orgs["a"]}
    assert _vote(county, "m1", rid, org).status_code == 201
    again = _vote(county, "m1_second", rid, org, "dissatisfied")
    assert again.status_code == 409 and "只能投一票" in again.json()["detail"]


def test_nothing_links_a_voter_to_a_rating(served: Served, county: County) -> None:
    rid = _round(county, YEAR)
    org, m1 = {"type": "org", "id": county.orgs["a"]}, {"type": "person", "id": county.people["m1"]}
    for who, subject, rating in (("m2", org, "satisfied"), ("sec_a", org, "dissatisfied"), ("m2", m1, "basic")):
        assert _vote(county, who, rid, subject, rating).status_code == 201
    inspector = sa.inspect(served.container.db)
    tables = set(inspector.get_table_names())
    assert "ballot" not in tables and "app_secret" not in tables
    for table in tables:
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert not ({"voter", "voter_hash"} & columns and "rating" in columns), table
    with served.container.db.connect() as conn:
        voted = conn.execute(
            sa.text("SELECT voter FROM voted WHERE round_id = :r ORDER BY voter"), {"r": rid}
        ).scalars()
        tally = conn.execute(sa.text("SELECT * FROM tally WHERE round_id = :r"), {"r": rid}).mappings().all()
    assert sorted(voted) == sorted([f"person:{county.people['m2']}"] * 2 + [f"person:{county.people['sec_a']}"])
    assert {c for row in tally for c in row} == {"round_id", "subject_type", "subject_id", "rating", "ballots"}
    assert sorted((r["subject_type"], r["rating"], r["ballots"]) for r in tally) == [
        ("org", "dissatisfied", 1),
        ("org", "satisfied", 1),
        ("person", "basic", 1),
    ]


def test_sqlite_keeps_no_order_of_ballots(served: Served, county: County) -> None:
    if served.container.db.dialect.name != "sqlite":
        return  # PostgreSQL's physical order is README's "Security" caveat
    with served.container.db.connect() as conn:
        for table in ("voted", "tally"):
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar_one()
            assert "WITHOUT ROWID" in sql.upper()


def test_the_progress_report_reads_a_round_whose_subjects_are_below_the_minimum(served: Served, county: County) -> None:
    _ok(county.admin.post("/api/v1/campaigns", json={"year": NEXT}), 201)
    rid = _round(county, NEXT)
    assert _vote(county, "m1", rid, {"type": "org", "id": county.orgs["a"]}, "dissatisfied").status_code == 201
    _ok(county.as_("sec_a").post(f"/api/v1/appraisal-rounds/{rid}/events", json={"event": "close"}))
    rows = _ok(county.as_("office").get(f"/api/v1/reports/{NEXT}/progress"))["orgs"]
    branch = next(r for r in rows if r["org_id"] == county.orgs["a"])
    assert branch["appraisal"]["satisfaction_rate"] is None


def test_no_one_votes_on_herself_and_the_page_marks_what_was_voted(served: Served, county: County) -> None:
    rid = _round(county, YEAR)
    me, org = {"type": "person", "id": county.people["m1"]}, {"type": "org", "id": county.orgs["a"]}
    refused = _vote(county, "m1", rid, me)
    assert refused.status_code == 403 and "不能评议本人" in refused.json()["detail"]
    assert _vote(county, "m1", rid, org).status_code == 201
    with signed_in(served, county.tokens["m1"]) as m1:
        ballot = m1.get("/ballot").text
        assert "m1老师" not in ballot.split('<main id="main">', 1)[1].split("</main>", 1)[0], "never herself"
        assert re.search(r'id="s-\d+-org-\d+"><strong>延庆一中党支部</strong>：已投票', ballot)
        assert f'value="/ballot#s-{rid}-person-{county.people["m2"]}"' in ballot, "a vote returns to its place"


def test_a_vote_refused_on_the_page_is_told_beside_its_subject(served: Served, county: County) -> None:
    rid = _round(county, YEAR)
    action, anchor = f"/rounds/{rid}/ballots", f"s-{rid}-org-{county.orgs['a']}"
    with signed_in(served, county.tokens["m1"]) as m1:
        first, stale = (form_on(m1.get("/ballot").text, action) for _ in range(2))  # two tabs, two forms
        vote = {"subject_type": "org", "subject_id": str(county.orgs["a"]), "rating": "satisfied"}
        assert m1.post(action, data=first | vote).status_code == 303
        again = m1.post(action, data=stale | vote)
        assert again.status_code == 303 and again.headers["location"] == f"/ballot#{anchor}"
        page = m1.get("/ballot").text
    told = re.search(rf'<div class="error" role="alert" id="msg-{anchor}">\s*<ul><li>([^<]+)</li>', page)
    assert told and told[1] == "您已对该对象投过票，每人每个对象只能投一票"
    assert re.search(rf'id="{anchor}"><strong>延庆一中党支部</strong>：已投票', page)
    sec = county.as_("sec_a")
    _ok(sec.post(f"/api/v1/appraisal-rounds/{rid}/events", json={"event": "close"}))
    results = _ok(sec.get(f"/api/v1/appraisal-rounds/{rid}/results"))["subjects"]
    assert [r["total"] for r in results if r["subject"]["type"] == "org"] == [1], "the stale form counted once"
