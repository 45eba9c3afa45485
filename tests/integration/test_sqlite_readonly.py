"""The SQLite file turns read-only under a running `pledgeflow serve`, and back: writes answer 503
problem+json while it is read-only, change nothing, and succeed again without a restart (item 10 of
"Trust under load and attack").

The server runs as an unprivileged OS user, since root writes through `chmod 0444`: as ourselves when
the tests do not run as root, else (as scripts/with-postgres.sh runs PostgreSQL) as
`PLEDGEFLOW_TEST_UNPRIVILEGED_USER`, `postgres` or `nobody`, switched to with `setpriv`. Where that
user cannot reach the interpreter (a virtualenv under root's 0700 home), the server keeps one
capability, CAP_DAC_READ_SEARCH: it may read and traverse anything, but every write is checked against
the file's permissions as for any other user (no CAP_DAC_OVERRIDE, no CAP_FOWNER to chmod back).

The files are made read-only while the server holds connections opened before (their file descriptors
stay writable: permissions are checked when a file is opened), so a burst of concurrent writes makes the
pool open connections while the file is read-only. SQLite opens those read-only for good, and shares the
file's read-only `-shm` mapping with connections opened later: pooled, they kept writes failing after the
permissions came back, until services/persistence/db.py stopped keeping connections that cannot write
(see its docstring). Fails without that: the writes after the permissions are back answer 503 in turn."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, free_port, stop
from tests.e2e.test_deadlines import wait_for

pytestmark = pytest.mark.slow
PLEDGEFLOW = Path(sys.executable).parent / "pledgeflow"
SETPRIV = shutil.which("setpriv", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/bin"]))
CAP_DAC_OVERRIDE, CAP_FOWNER = 1, 3
BURST = 8


def _unprivileged() -> tuple[pwd.struct_passwd, list[str]]:
    """The user the server runs as, and the command prefix that switches to it (none when not root)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()), []
    if SETPRIV is None:
        pytest.skip("running as root, and setpriv (util-linux) is missing to switch to an unprivileged user")
    names = [os.environ.get("PLEDGEFLOW_TEST_UNPRIVILEGED_USER") or "", "postgres", "nobody"]
    user = next((u for u in map(_user, names) if u is not None and u.pw_uid != 0), None)
    if user is None:
        pytest.skip("running as root and no unprivileged user to switch to (postgres, nobody)")
    switch = [SETPRIV, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    if subprocess.run([*switch, sys.executable, "-c", "import services"], cwd="/", capture_output=True).returncode:
        switch += ["--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search"]
    return user, switch


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name) if name else None
    except KeyError:
        return None


@contextmanager
def _server(db: Path, user: pwd.struct_passwd, switch: list[str], log: Path) -> Iterator[httpx.Client]:
    port = free_port()
    env = os.environ | {
        "PLEDGEFLOW_DATABASE_URL": f"sqlite:///{db}",
        "PLEDGEFLOW_ADMIN_TOKEN": ADMIN,
        "PLEDGEFLOW_SECRET_KEY": uuid.uuid4().hex,  # the test run's key file is in a directory of root's
        "HOME": str(db.parent),
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*switch, str(PLEDGEFLOW), "serve", "--no-scheduler", "--port", str(port)],
            env=env,
            cwd=db.parent,
            stdout=out,
            stderr=out,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)

    def up() -> bool:
        try:
            return client.get("/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return proc.poll() is not None

    try:
        wait_for(up, timeout=90)
        assert proc.poll() is None, log.read_text()
        status = dict(line.split(":", 1) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines())
        assert int(status["Uid"].split()[1]) == user.pw_uid  # effective uid
        caps = int(status["CapEff"], 16)
        assert not caps & (1 << CAP_DAC_OVERRIDE | 1 << CAP_FOWNER), "the server could write past permissions"
        yield client
    finally:
        client.close()
        stop(proc, 30)


def _set_modes(directory: Path, files: int, folder: int) -> None:
    for f in directory.iterdir():
        if f.name.startswith("pledgeflow.db"):
            f.chmod(files)
    directory.chmod(folder)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses setpriv")
def test_writes_recover_after_the_sqlite_file_was_read_only(tmp_path: Path) -> None:
    user, switch = _unprivileged()
    base = Path(tempfile.mkdtemp(prefix="pledgeflow-ro-", dir="/tmp"))  # outside root's 0700 pytest dir
    try:
        os.chown(base, user.pw_uid, user.pw_gid)  # the user's own directory
        db = base / "pledgeflow.db"
        with _server(db, user, switch, tmp_path / "serve.log") as api:
            numbers = itertools.count()  # next() on it is atomic: the burst's threads share it

            def write() -> tuple[str, httpx.Response]:
                name = f"只读测试{next(numbers)}党支部"
                return name, api.post("/api/v1/orgs", json={"name": name, "kind": "committee"})

            def orgs() -> set[str]:
                answer = api.get("/api/v1/orgs")
                assert answer.status_code == 200, answer.text
                return {org["name"] for org in answer.json()}

            first, answer = write()
            assert answer.status_code == 201, answer.text
            assert {f.name for f in base.iterdir()} >= {"pledgeflow.db", "pledgeflow.db-wal", "pledgeflow.db-shm"}

            _set_modes(base, 0o444, 0o555)
            # Concurrent writes, so the pool opens connections while the file is read-only (see above);
            # a write through a connection opened before still lands, and is acknowledged (201).
            acknowledged, refusals = [first], dict[str, httpx.Response]()
            with ThreadPoolExecutor(BURST) as pool:
                for _ in range(5):
                    for name, answer in pool.map(lambda _: write(), range(BURST)):
                        assert answer.status_code in (201, 503), answer.text
                        if answer.status_code == 201:
                            acknowledged.append(name)
                        else:
                            refusals[name] = answer
                    if refusals:
                        break
            assert refusals, "no write was refused while the database file was read-only"
            for answer in refusals.values():
                assert answer.headers["content-type"] == "application/problem+json"
                assert int(answer.headers["retry-after"]) > 0
                assert answer.json()["type"] == "/problems/service-unavailable"
            assert orgs() == set(acknowledged), "a refused write changed the data"  # read through an older one

            _set_modes(base, 0o644, 0o755)
            # The very next write succeeds, and so do all after it, one at a time and at once (the pool
            # opening connections again).
            for _ in range(12):
                name, answer = write()
                assert answer.status_code == 201, answer.text
                acknowledged.append(name)
            for _ in range(3):
                with ThreadPoolExecutor(BURST) as pool:
                    for name, answer in pool.map(lambda _: write(), range(BURST)):
                        assert answer.status_code == 201, answer.text
                        acknowledged.append(name)
            assert orgs() == set(acknowledged)
    finally:
        shutil.rmtree(base, ignore_errors=True)
