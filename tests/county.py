"""A small county built through the real API: two branches, their people, one user per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import httpx

YEAR = 2030
GOOD_ITEMS = [
    {"content": "认真备好每一节课，所教班级成绩稳步提高", "measure": "每周参加集体备课"},
    {"content": "主动联系三名学困生，每月家访一次", "due_date": "2030-12-20"},
]
MEETING = {"meeting": {"held_on": "2030-09-20", "attendees": 12}}
PUBLISH = {"channel": "notice_board", "published_on": "2030-10-08"}
REPORT = "本支部认真开展创先争优活动。" * 20
TODAY = dt.datetime(2030, 10, 9, 2, tzinfo=dt.UTC)
"""The county's clock when a test publishes or records progress: 10:00 in Beijing the day after
PUBLISH's date and before the campaign's October deadline (no date may be after today)."""


@dataclass
class County:
    admin: httpx.Client
    url: str
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def as_(self, who: str) -> httpx.Client:
        if who not in self.clients:
            headers = {"Authorization": f"Bearer {self.tokens[who]}"}
            self.clients[who] = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        return self.clients[who]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.admin.close()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.admin.post(path, json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def user(self, who: str, roles: list[dict[str, Any]], person: str | None = None) -> None:
        body = {"name": who, "roles": roles, "person_id": self.people[person] if person else None}
        created = self.post("/api/v1/users", body)
        self.tokens[who], self.user_ids[who] = created["token"], created["id"]


def build_county(
    admin: httpx.Client, url: str, deadlines: dict[str, str] | None = None, backfill: bool = False
) -> County:
    """The small county through the API; `backfill`: deadlines already past are intended (补录)."""
    c = County(admin, url)
    c.orgs["committee"] = c.post("/api/v1/orgs", {"name": "县委教育工委", "kind": "committee"})["id"]
    for key, name in (("a", "延庆一中党支部"), ("b", "延庆二中党支部")):
        c.orgs[key] = c.post("/api/v1/orgs", {"name": name, "kind": "branch", "parent_id": c.orgs["committee"]})["id"]
    for who, org, status in (
        ("sec_a", "a", "full"),
        ("m1", "a", "full"),
        ("m2", "a", "probationary"),
        ("sec_b", "b", "full"),
        ("mb", "b", "full"),
    ):
        c.people[who] = c.post("/api/v1/people", {"name": f"{who}老师", "org_id": c.orgs[org], "status": status})["id"]
    c.user("office", [{"role": "office"}])
    c.user("supervisor", [{"role": "supervisor"}])
    c.user("sec_a", [{"role": "secretary", "org_id": c.orgs["a"]}, {"role": "member"}], person="sec_a")
    c.user("sec_b", [{"role": "secretary", "org_id": c.orgs["b"]}, {"role": "member"}], person="sec_b")
    c.user("m1", [{"role": "member"}], person="m1")
    c.user("m2", [{"role": "member"}], person="m2")
    c.user("mb", [{"role": "member"}], person="mb")
    c.user("appraiser", [{"role": "appraiser", "org_id": c.orgs["a"]}])
    calendar = {"deadlines": deadlines, "notify_past_deadlines": backfill} if deadlines else None
    # three members a branch: results from a single ballot (the default of 5 is tested in test_ballots.py)
    campaign = {"year": YEAR, "min_ballots": 1} | ({"calendar": calendar} if calendar else {})
    c.post("/api/v1/campaigns", campaign)
    return c
