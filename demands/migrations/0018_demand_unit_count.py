"""DemandUnitCount and the triggers that keep it, as members' UnitPeopleCount (members migration
0005): statement-level, over the transition tables, so an import of 1,000,000 demands is one
grouped upsert; enabled ALWAYS, so a bulk load in replica mode still counts. An UPDATE that moves
no demand to another unit adds nothing (the grouped changes sum to zero)."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "demands_demandunitcount"

# The signed changes (+1 for a demand arriving in a unit, -1 for one leaving) grouped per unit, in
# unit order so that concurrent writers lock rows in the same order.
_UPSERT = f"""
    INSERT INTO {TABLE} (org_unit_id, n)
    SELECT org_unit_id, sum(d)::int FROM (%s) AS changes
    GROUP BY org_unit_id HAVING sum(d) <> 0 ORDER BY org_unit_id
    ON CONFLICT (org_unit_id) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n;
"""
_ARRIVING = "SELECT org_unit_id, 1 AS d FROM new_demands"
_LEAVING = "SELECT org_unit_id, -1 AS d FROM old_demands"

CREATE_SQL = f"""
CREATE FUNCTION demands_count_demands() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_UPSERT % _ARRIVING}
    ELSIF TG_OP = 'UPDATE' THEN
        {_UPSERT % (_ARRIVING + " UNION ALL " + _LEAVING)}
    ELSIF TG_OP = 'DELETE' THEN
        {_UPSERT % _LEAVING}
    ELSE
        DELETE FROM {TABLE};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER demands_count_demands_insert AFTER INSERT ON demands_demand
    REFERENCING NEW TABLE AS new_demands FOR EACH STATEMENT EXECUTE FUNCTION demands_count_demands();
CREATE TRIGGER demands_count_demands_update AFTER UPDATE ON demands_demand
    REFERENCING OLD TABLE AS old_demands NEW TABLE AS new_demands
    FOR EACH STATEMENT EXECUTE FUNCTION demands_count_demands();
CREATE TRIGGER demands_count_demands_delete AFTER DELETE ON demands_demand
    REFERENCING OLD TABLE AS old_demands FOR EACH STATEMENT EXECUTE FUNCTION demands_count_demands();
CREATE TRIGGER demands_count_demands_truncate AFTER TRUNCATE ON demands_demand
    FOR EACH STATEMENT EXECUTE FUNCTION demands_count_demands();
ALTER TABLE demands_demand ENABLE ALWAYS TRIGGER demands_count_demands_insert,
    ENABLE ALWAYS TRIGGER demands_count_demands_update, ENABLE ALWAYS TRIGGER demands_count_demands_delete,
    ENABLE ALWAYS TRIGGER demands_count_demands_truncate;
INSERT INTO {TABLE} (org_unit_id, n)
    SELECT org_unit_id, count(*) FROM demands_demand GROUP BY org_unit_id ORDER BY org_unit_id;
"""
DROP_SQL = "DROP FUNCTION demands_count_demands() CASCADE;"


class Migration(migrations.Migration):

    dependencies = [
        ('demands', '0017_status_org_index'),
        ('members', '0008_alter_transferstep_action_and_more'),
    ]

    operations = [
        migrations.CreateModel(
            name='DemandUnitCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('n', models.IntegerField(default=0)),
                ('org_unit', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='members.orgunit')),
            ],
        ),
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
    ]
