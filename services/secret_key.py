"""The service's one secret, kept outside the database: `PLEDGEFLOW_SECRET_KEY`, or else
`var/secret.key` (mode 0600) made on first start. Every signing and keyed-hash key is derived
from it for one named purpose, so a copy of the database alone forges nothing."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.config import Settings


@dataclass(frozen=True)
class SecretKey:
    value: bytes

    def derive(self, purpose: str) -> bytes:
        """A key for one purpose (`session`, `history`, …): knowing one says nothing of another."""
        return hmac.new(self.value, f"pledgeflow:{purpose}".encode(), hashlib.sha256).digest()


def load_secret_key(settings: Settings) -> SecretKey:
    if settings.secret_key is not None:
        return SecretKey(settings.secret_key.get_secret_value().encode())
    return SecretKey(_kept_file(Path(settings.secret_key_file)))


def _kept_file(path: Path) -> bytes:
    """Read the key file, making it first (0600) if absent: written aside and linked into place,
    so two workers starting at once both read the one that won, never a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    value = path.read_text().strip()
    if not value:
        raise RuntimeError(f"secret key file {path} is empty; delete it or set PLEDGEFLOW_SECRET_KEY")
    return value.encode()
