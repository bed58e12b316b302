"""The page cache's table generations: the table and the trigger function (portal/pagecache.py).

The triggers themselves are put on every table after each migrate (`pagecache.install_triggers`),
so that tables created by later migrations are covered too."""
from django.db import migrations

from portal.pagecache import CREATE_SQL, DROP_SQL


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_notification_emailed_at")]

    operations = [migrations.RunSQL(CREATE_SQL, DROP_SQL)]
