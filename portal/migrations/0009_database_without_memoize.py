"""The portal's database plans without Memoize nodes (`ALTER DATABASE … SET enable_memoize = off`).

A page reads a few rows of a big table and their related records (a ledger page: 26 demands with
their unit, submitter, handler and category). PostgreSQL 14 and later put a Memoize node in front of
each such lookup and size its cache for the distinct keys of the whole unlimited join (100,000
people, 30,000 accounts), which it sets up on every execution, however few rows the page reads:
the ledger's query costs 5.8 ms from the client with them and 2.1 ms without. The KPI engine's
aggregates take the same time either way (docs/performance.md, "Memoize").

A setting of the database, not of the connection, so that it holds behind PgBouncer too (which
refuses connection options) and for every process: web, workers, `psql`. Changing a database's
settings takes its owner; a role that is not leaves the setting to the administrator
(docs/operations.md) and migrates all the same.
"""
from django.db import migrations


def _on_this_database(action: str, when_refused: str) -> str:
    """`ALTER DATABASE <this one> <action>` on PostgreSQL 14 and later (the setting is new there);
    `when_refused` runs instead when the role does not own the database."""
    return f"""
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE format('ALTER DATABASE %I {action}', current_database());
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  {when_refused};
END $$;
"""


SET_SQL = _on_this_database(
    "SET enable_memoize = off",
    "RAISE NOTICE 'Not the owner of the database: run ALTER DATABASE % SET enable_memoize = off as its owner.', "
    "current_database()",
)
RESET_SQL = _on_this_database("RESET enable_memoize", "NULL")


class Migration(migrations.Migration):
    dependencies = [("portal", "0008_drop_table_generation")]

    operations = [migrations.RunSQL(SET_SQL, RESET_SQL)]
