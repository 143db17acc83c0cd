"""Raw access to a store's database below polystory, for either backend: what another tool
(or a damaged disk) could do to it.  Tests read the schema version, dump every row and
write SQL with it."""
from __future__ import annotations

import sqlite3

from polystory.store import is_postgres_url

__all__ = ["RawDB"]


class RawDB:
    """The database of the store at ``db`` (an SQLite path or a ``postgresql://`` URL)."""

    def __init__(self, db: str) -> None:
        self.db = str(db)
        self.postgres = is_postgres_url(self.db)

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one query (``%s`` placeholders on PostgreSQL, ``?`` on SQLite)."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.db, autocommit=True) as con:
                return con.execute(sql, args).fetchall()
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def execute(self, script: str) -> None:
        """Run SQL statements (``;``-separated) with foreign keys not enforced, as another
        tool would (SQLite: off by default; PostgreSQL: ``session_replication_role``)."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.db, autocommit=True) as con:
                con.execute("SET session_replication_role = replica")
                con.execute(script)
        else:
            con = sqlite3.connect(self.db)
            con.executescript(script)
            con.close()

    def version(self) -> int:
        """The schema version as stored (0: none)."""
        if not self.postgres:
            return self.query("PRAGMA user_version")[0][0]
        if self.query("SELECT to_regclass('polystory_meta')")[0][0] is None:
            return 0
        rows = self.query("SELECT value FROM polystory_meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def set_version(self, version: int) -> None:
        """Write ``version`` as the schema version, as another polystory would."""
        if self.postgres:
            self.execute(f"UPDATE polystory_meta SET value = '{int(version)}' "
                         "WHERE key = 'schema_version'")
        else:
            self.execute(f"PRAGMA user_version = {int(version)}")

    def dump(self) -> list[str]:
        """Every table's definition and rows, in a stable order (to compare two states)."""
        if not self.postgres:
            con = sqlite3.connect(self.db)
            try:
                return list(con.iterdump())
            finally:
                con.close()
        out = []
        tables = [r[0] for r in self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")]
        for table in tables:
            out += [repr(r) for r in self.query(
                "SELECT column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s ORDER BY ordinal_position", (table,))]
            out += sorted(f"{table}: {r!r}" for r in self.query(f'SELECT * FROM "{table}"'))
        return out
