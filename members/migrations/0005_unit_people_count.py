"""UnitPeopleCount and the triggers that keep it: statement-level, over the transition tables, so an
import of 100,000 people is one grouped upsert, not 100,000. Enabled ALWAYS, so a session in replica
mode (a bulk load that switches the other triggers off) still counts."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "members_unitpeoplecount"

# Adds the signed changes (+1 for an active person arriving in a unit and status, -1 for one
# leaving) grouped per key, in key order so that concurrent writers lock rows in the same order.
_UPSERT = f"""
    INSERT INTO {TABLE} (org_unit_id, political_status, n)
    SELECT org_unit_id, political_status, sum(d)::int FROM (%s) AS changes
    GROUP BY org_unit_id, political_status HAVING sum(d) <> 0 ORDER BY org_unit_id, political_status
    ON CONFLICT (org_unit_id, political_status) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n;
"""
_ARRIVING = "SELECT org_unit_id, political_status, 1 AS d FROM new_people WHERE is_active"
_LEAVING = "SELECT org_unit_id, political_status, -1 AS d FROM old_people WHERE is_active"

CREATE_SQL = f"""
CREATE FUNCTION members_count_people() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER members_count_people_insert AFTER INSERT ON members_person
    REFERENCING NEW TABLE AS new_people FOR EACH STATEMENT EXECUTE FUNCTION members_count_people();
CREATE TRIGGER members_count_people_update AFTER UPDATE ON members_person
    REFERENCING OLD TABLE AS old_people NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION members_count_people();
CREATE TRIGGER members_count_people_delete AFTER DELETE ON members_person
    REFERENCING OLD TABLE AS old_people FOR EACH STATEMENT EXECUTE FUNCTION members_count_people();
CREATE TRIGGER members_count_people_truncate AFTER TRUNCATE ON members_person
    FOR EACH STATEMENT EXECUTE FUNCTION members_count_people();
ALTER TABLE members_person ENABLE ALWAYS TRIGGER members_count_people_insert,
    ENABLE ALWAYS TRIGGER members_count_people_update, ENABLE ALWAYS TRIGGER members_count_people_delete,
    ENABLE ALWAYS TRIGGER members_count_people_truncate;
INSERT INTO {TABLE} (org_unit_id, political_status, n)
    SELECT org_unit_id, political_status, count(*) FROM members_person WHERE is_active
    GROUP BY org_unit_id, political_status ORDER BY org_unit_id, political_status;
"""
DROP_SQL = "DROP FUNCTION members_count_people() CASCADE;"


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0004_reveal_log_export_records'),
    ]

    operations = [
        migrations.CreateModel(
            name='UnitPeopleCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('political_status', models.CharField(choices=[('full_member', 'Party member'), ('probationary_member', 'Probationary party member'), ('activist', 'Party activist'), ('applicant', 'Party applicant'), ('league_member', 'Youth league member'), ('masses', 'Masses')], max_length=30)),
                ('n', models.IntegerField(default=0)),
                ('org_unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='members.orgunit')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('org_unit', 'political_status'), name='unit_people_count_key')],
            },
        ),
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
    ]
