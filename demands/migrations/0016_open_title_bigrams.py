import django.contrib.postgres.indexes
from django.db import migrations, models

import demands.models

# IMMUTABLE, so that an index may be built on it: the distinct two-character pieces of a text.
BIGRAMS_SQL = """
CREATE OR REPLACE FUNCTION demand_title_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
  FROM generate_series(1, char_length(t) - 1) AS i
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("demands", "0015_visit_hardship_household"),
    ]

    operations = [
        migrations.RunSQL(BIGRAMS_SQL, "DROP FUNCTION IF EXISTS demand_title_bigrams(text);"),
        migrations.AddIndex(
            model_name="demand",
            index=django.contrib.postgres.indexes.GinIndex(
                demands.models.TitleBigrams("title"),
                condition=models.Q(("status__in", ("pending", "accepted", "in_progress"))),
                name="demand_open_title_bigrams",
            ),
        ),
    ]
