"""History of many-to-many links.

The automatic through tables get their own event models: every link added or removed is recorded
with the account and URL (the labels "add"/"remove"); the detail pages show them with the record.
pgtrigger writes no migration operations for these tables, so the migration that creates their
event models installs the triggers itself (`install_link_triggers`)."""
from __future__ import annotations

import pghistory
from django.db import migrations


def track_links(field, name: str) -> None:
    """Track the automatic through table of a ManyToManyField as the event model `name`."""
    pghistory.track(pghistory.InsertEvent("add"), pghistory.DeleteEvent("remove"), obj_field=None, model_name=name)(
        field.through
    )


def install_link_triggers(*triggers: str) -> migrations.RunPython:
    """The migration operation that installs the add/remove triggers ("app.Model_field:add_insert")
    once the event tables exist, and removes them when migrating back."""
    import pgtrigger

    def install(apps, schema_editor):
        pgtrigger.install(*triggers, database=schema_editor.connection.alias)

    def uninstall(apps, schema_editor):
        pgtrigger.uninstall(*triggers, database=schema_editor.connection.alias)

    return migrations.RunPython(install, uninstall)
