from django.db import migrations

DEFAULT_RULES = {
    "general_assembly": 2, "branch_committee": 1, "party_group": 1, "party_lecture": 2, "theme_party_day": 2,
    "study_session": 1, "volunteer_service": 3, "competition": 2, "culture_sports": 1,
}


def create_rules(apps, schema_editor):
    PointsRule = apps.get_model("activities", "PointsRule")
    for type_, points in DEFAULT_RULES.items():
        PointsRule.objects.get_or_create(type=type_, defaults={"points": points})


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
