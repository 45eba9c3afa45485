"""The pages' router: every page module's routes, mounted by create_app beside the API."""

from __future__ import annotations

from fastapi import APIRouter

from services.entrypoints.web import (
    auth,
    ballot,
    branch,
    directory_page,
    evaluation_pages,
    inbox_pages,
    list_pages,
    overview,
    pledge_editor,
    pledge_pages,
    print_pages,
    public_pages,
    record_pages,
    roster_page,
    tasks_page,
    users_page,
)

router = APIRouter(include_in_schema=False)
PAGES = (auth, pledge_editor, pledge_pages, branch, evaluation_pages, overview, ballot, inbox_pages, tasks_page)
for module in (*PAGES, print_pages, public_pages, users_page, roster_page, record_pages, list_pages, directory_page):
    router.include_router(module.router)
