"""The secret kept outside the database: made once with mode 0600, read back the same, one key per purpose."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.config import Settings
from services.secret_key import load_secret_key


def test_the_key_file_is_made_once_private_and_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    first = load_secret_key(Settings(secret_key_file=str(path)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(Settings(secret_key_file=str(path))) == first
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # nothing left aside


def test_the_environment_wins_and_no_file_is_made(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    key = load_secret_key(Settings(secret_key=SecretStr("s3cret"), secret_key_file=str(path)))
    assert key.value == b"s3cret"
    assert not path.exists()


def test_each_purpose_has_its_own_key(tmp_path: Path) -> None:
    key = load_secret_key(Settings(secret_key_file=str(tmp_path / "k")))
    assert key.derive("session") != key.derive("history")
    assert key.derive("session") == key.derive("session")
    assert load_secret_key(Settings(secret_key_file=str(tmp_path / "other"))).derive("session") != key.derive("session")


def test_an_empty_key_file_stops_the_service(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        load_secret_key(Settings(secret_key_file=str(path)))
