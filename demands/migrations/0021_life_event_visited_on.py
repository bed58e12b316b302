"""LifeEvent.visited_on, the first visit's date, and the trigger on demands_visit that keeps it.

Statement-level over the transition tables, as the demand counts of migration 0018, so that an
import of many visits is one UPDATE; enabled ALWAYS, so that a load in replica mode keeps it too.
A new visit can only move the date earlier (LEAST ignores the empty date): two visits of the same
event written at once still leave the earlier one. A visit moved or deleted makes the dates of the
events it touched counted again; emptying the visits' table (TRUNCATE, which fires no DELETE
trigger) empties every date. The events are filled in before their history triggers are put back:
the first dates are not a change anybody made."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

# The events whose visits changed, given as "touched" (id, plus first for new visits).
_SET = ("UPDATE demands_lifeevent AS event SET visited_on = {date} FROM ({touched}) AS touched "
        "WHERE event.id = touched.id AND event.visited_on IS DISTINCT FROM {date}")
_ARRIVED = ("SELECT life_event_id AS id, min(visited_on) AS first FROM new_visits "
            "WHERE life_event_id IS NOT NULL GROUP BY life_event_id")
_NEW = "SELECT life_event_id AS id FROM new_visits WHERE life_event_id IS NOT NULL"
_OLD = "SELECT life_event_id AS id FROM old_visits WHERE life_event_id IS NOT NULL"
_EARLIER = "LEAST(event.visited_on, touched.first)"
_RECOUNTED = "(SELECT min(visit.visited_on) FROM demands_visit AS visit WHERE visit.life_event_id = event.id)"

CREATE_SQL = f"""
CREATE FUNCTION demands_mark_visited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_SET.format(date=_EARLIER, touched=_ARRIVED)};
    ELSIF TG_OP = 'UPDATE' THEN
        {_SET.format(date=_RECOUNTED, touched=_NEW + " UNION " + _OLD)};
    ELSIF TG_OP = 'DELETE' THEN
        {_SET.format(date=_RECOUNTED, touched=_OLD)};
    ELSE
        UPDATE demands_lifeevent SET visited_on = NULL WHERE visited_on IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER demands_mark_visited_insert AFTER INSERT ON demands_visit
    REFERENCING NEW TABLE AS new_visits FOR EACH STATEMENT EXECUTE FUNCTION demands_mark_visited();
CREATE TRIGGER demands_mark_visited_update AFTER UPDATE ON demands_visit
    REFERENCING OLD TABLE AS old_visits NEW TABLE AS new_visits
    FOR EACH STATEMENT EXECUTE FUNCTION demands_mark_visited();
CREATE TRIGGER demands_mark_visited_delete AFTER DELETE ON demands_visit
    REFERENCING OLD TABLE AS old_visits FOR EACH STATEMENT EXECUTE FUNCTION demands_mark_visited();
CREATE TRIGGER demands_mark_visited_truncate AFTER TRUNCATE ON demands_visit
    FOR EACH STATEMENT EXECUTE FUNCTION demands_mark_visited();
ALTER TABLE demands_visit ENABLE ALWAYS TRIGGER demands_mark_visited_insert,
    ENABLE ALWAYS TRIGGER demands_mark_visited_update, ENABLE ALWAYS TRIGGER demands_mark_visited_delete,
    ENABLE ALWAYS TRIGGER demands_mark_visited_truncate;
UPDATE demands_lifeevent AS event SET visited_on = visits.first
    FROM (SELECT life_event_id, min(visited_on) AS first FROM demands_visit
          WHERE life_event_id IS NOT NULL GROUP BY life_event_id) AS visits
    WHERE event.id = visits.life_event_id;
"""
DROP_SQL = "DROP FUNCTION demands_mark_visited() CASCADE;"


class Migration(migrations.Migration):

    dependencies = [
        ('demands', '0020_faster_title_bigrams'),
        ('members', '0009_person_unit_cover'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='lifeevent',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='lifeevent',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='lifeevent',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='lifeevent',
            name='visited_on',
            field=models.DateField(blank=True, editable=False, null=True, verbose_name='first visited on'),
        ),
        migrations.AddField(
            model_name='lifeeventhistory',
            name='visited_on',
            field=models.DateField(blank=True, editable=False, null=True, verbose_name='first visited on'),
        ),
        migrations.AddIndex(
            model_name='lifeevent',
            index=models.Index(condition=models.Q(('visited_on__isnull', True)), fields=['visit_due_on'], name='life_event_not_visited'),
        ),
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
        pgtrigger.migrations.AddTrigger(
            model_name='lifeevent',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "demands_lifeeventhistory" ("created_at", "created_by_id", "event_date", "id", "kind", "note", "person_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "ref", "visit_due_on", "visited_on") VALUES (NEW."created_at", NEW."created_by_id", NEW."event_date", NEW."id", NEW."kind", NEW."note", NEW."person_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."ref", NEW."visit_due_on", NEW."visited_on"); RETURN NULL;', hash='22ed47d8989769c4ccc7ed3ea01543402ed07f3b', operation='INSERT', pgid='pgtrigger_insert_insert_f9a56', table='demands_lifeevent', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='lifeevent',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "demands_lifeeventhistory" ("created_at", "created_by_id", "event_date", "id", "kind", "note", "person_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "ref", "visit_due_on", "visited_on") VALUES (NEW."created_at", NEW."created_by_id", NEW."event_date", NEW."id", NEW."kind", NEW."note", NEW."person_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."ref", NEW."visit_due_on", NEW."visited_on"); RETURN NULL;', hash='d31e80c56e3f4417c81bd55890dfc3d5b5892d3d', operation='UPDATE', pgid='pgtrigger_update_update_440c1', table='demands_lifeevent', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='lifeevent',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "demands_lifeeventhistory" ("created_at", "created_by_id", "event_date", "id", "kind", "note", "person_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "ref", "visit_due_on", "visited_on") VALUES (OLD."created_at", OLD."created_by_id", OLD."event_date", OLD."id", OLD."kind", OLD."note", OLD."person_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."ref", OLD."visit_due_on", OLD."visited_on"); RETURN NULL;', hash='0c0427d55722d8621c0d7e5e537b1ee8e7f807c6', operation='DELETE', pgid='pgtrigger_delete_delete_73a01', table='demands_lifeevent', when='AFTER')),
        ),
    ]
