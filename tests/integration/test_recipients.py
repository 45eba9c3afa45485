"""The sweep's recipient directory: staff read once, members' accounts only for the people a chunk reaches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from services.access import admin_actor
from services.config import Settings
from services.container import build_container
from services.enforcement.recipients import Subject, add_people, load_directory
from services.persistence.uow import UnitOfWork
from services.rehearsal import demo
from services.usecases import directory
from services.usecases.commands import CreateUser

NOW = dt.datetime(2030, 9, 10, 9, tzinfo=dt.UTC)


def test_members_are_read_only_for_the_people_asked_for(tmp_path: Path) -> None:
    c = build_container(Settings(database_url=f"sqlite:///{tmp_path}/d.db", scheduler=False), lambda: NOW)
    try:
        seeded = demo.seed(c, NOW, accounts_for_all=True, with_pledges=False)
        member = demo.pledgers(seeded)[0]
        cmd = CreateUser.model_validate(
            {"name": "另一账号", "person_id": member.id, "roles": [{"role": "member"}], "email": "m@example.org"}
        )
        user, _ = demo.do(c, directory.create_user, admin_actor(), cmd, NOW)
        with UnitOfWork(c.db, write=False) as uow:
            d = load_directory(uow.session)
            assert d.office and d.supervisors and d.secretaries
            assert not d.users_of_person  # no member was asked for yet
            owner = Subject("pledge", 1, member.name, member.org_id, "proposing", member.id)
            assert d.actor("owner", owner) == d.branch_secretaries(member.org_id)

            add_people(uow.session, d, [member.id])
            mine = d.users_of_person[member.id]
            assert user.id in mine and len(mine) == 2  # the seeded account and the one made here
            assert d.emails[user.id] == "m@example.org"
            assert d.actor("owner", owner) == mine
            assert set(d.users_of_person) == {member.id}  # nobody else's accounts were read
    finally:
        c.db.dispose()
