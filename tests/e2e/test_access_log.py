"""The access log of the real server (uvicorn, logging as `pledgeflow serve` sets it up) keeps no token."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import uvicorn

from services.config import Settings
from services.entrypoints.api.access_log import masked
from services.entrypoints.api.app import create_app
from services.entrypoints.cli import _log_config
from tests.conftest import ADMIN, Clock, free_port


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_token_in_the_query_string_is_masked_in_the_access_log(db_url: str, clock: Clock) -> None:
    app = create_app(Settings(database_url=db_url, admin_token=ADMIN, scheduler=False), clock=clock)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", log_config=_log_config())
    kept = Kept()
    logging.getLogger("uvicorn.access").addHandler(kept)  # after the config: its dictConfig replaces handlers
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        secret = "s3cr3t-T0ken-value"
        for query in (f"token={secret}", f"next=/me&TOKEN={secret}", f"%74oken={secret}", f"password={secret}"):
            httpx.get(f"http://127.0.0.1:{port}/login?{query}")
        httpx.get(f"http://127.0.0.1:{port}/login?year=2030")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        logging.getLogger("uvicorn.access").removeHandler(kept)
    assert len(kept.lines) == 5, kept.lines
    assert not [line for line in kept.lines if secret in line], kept.lines
    assert '"GET /login?token=*** HTTP/1.1" 200' in kept.lines[0]
    assert "/login?next=/me&TOKEN=***" in kept.lines[1] and "/login?year=2030" in kept.lines[4]


def test_masking_keeps_the_rest_of_the_target() -> None:
    assert masked("/pledges/3?year=2030") == "/pledges/3?year=2030"
    assert masked("/x?a=1&access_token=abc&b=2&token") == "/x?a=1&access_token=***&b=2&token"
    assert masked("/x") == "/x"
