"""A table of per-table write generations and the trigger function that counted them, for a
whole-page cache the portal no longer has (dropped again by 0006_drop_table_generation). The SQL is
kept here as it was so that a database migrated from scratch passes through the same states."""
from django.db import migrations

CREATE_SQL = """
CREATE TABLE IF NOT EXISTS portal_table_generation (
    id bigserial PRIMARY KEY,
    tbl text NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_table_generation_tbl ON portal_table_generation (tbl);

-- Once per transaction and table (a transaction-local setting remembers it): add one to a shard of
-- the table's generation that no other open transaction holds, or start a new shard.
CREATE OR REPLACE FUNCTION portal_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    flag text := 'portal_generation.' || TG_TABLE_NAME;
    shard bigint;
BEGIN
    IF current_setting(flag, true) = '1' THEN
        RETURN NULL;
    END IF;
    SELECT id INTO shard FROM portal_table_generation WHERE tbl = TG_TABLE_NAME
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF shard IS NULL THEN
        INSERT INTO portal_table_generation (tbl, n) VALUES (TG_TABLE_NAME, 1);
    ELSE
        UPDATE portal_table_generation SET n = n + 1 WHERE id = shard;
    END IF;
    PERFORM set_config(flag, '1', true);
    RETURN NULL;
END $$;
"""
DROP_SQL = "DROP TABLE IF EXISTS portal_table_generation; DROP FUNCTION IF EXISTS portal_bump_generation() CASCADE;"


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_notification_emailed_at")]

    operations = [migrations.RunSQL(CREATE_SQL, DROP_SQL)]
