"""The default demand categories of the product specification and default SLA policies
(administrators edit both afterwards)."""
from django.db import migrations

CATEGORIES = [
    ("salary", "薪酬"), ("job_change", "岗位调整"), ("housing", "住房"), ("medical", "医疗"),
    ("career", "职业发展"), ("mental_health", "心理健康"), ("welfare", "福利"), ("environment", "工作环境"),
    ("labour_dispute", "劳动纠纷"), ("other", "其他"),
]
# urgency: (response within working hours, resolution within working days) for every category.
DEFAULTS = {"urgent": (4, 3), "normal": (8, 10), "low": (16, 20)}


def forwards(apps, schema_editor):
    DemandCategory = apps.get_model("demands", "DemandCategory")
    SlaPolicy = apps.get_model("demands", "SlaPolicy")
    for order, (code, name) in enumerate(CATEGORIES):
        DemandCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order * 10})
    for urgency, (hours, days) in DEFAULTS.items():
        SlaPolicy.objects.get_or_create(category=None, urgency=urgency, defaults={"response_hours": hours, "resolution_days": days})


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
