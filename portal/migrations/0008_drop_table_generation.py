"""Drop the whole-page cache's write generations: the trigger function (CASCADE removes the two
triggers it had put on every table) and its table, so that a write no longer updates a counter row."""
import importlib

from django.db import migrations

_0003 = importlib.import_module("portal.migrations.0003_table_generation")


class Migration(migrations.Migration):
    dependencies = [("portal", "0007_import_batch_jobs")]

    # Backwards: the table and the function again (the per-table triggers are not put back).
    operations = [migrations.RunSQL(_0003.DROP_SQL, _0003.CREATE_SQL)]
