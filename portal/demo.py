"""Demo accounts for `seed_demo`: one per role, and a second branch secretary as an outsider."""
from .models import RobotKind, RobotPlatform, RobotWebhook, User
from .roles import Role

DEMO_PASSWORD = "Demo@2026"

# username, role, scope unit code, employee number of the linked person (from members.demo)
ACCOUNTS = [
    ("admin", Role.ADMIN, "DW", None, "系统管理员"),
    ("manager", Role.MANAGER, "DW", "E10162", "党委领导"),
    ("staff", Role.STAFF, "ZZ1", "E10161", "党群工作人员（生产运营党总支）"),
    ("secretary", Role.BRANCH_SECRETARY, "ZB11", "E10001", "运行部党支部书记"),
    ("secretary2", Role.BRANCH_SECRETARY, "ZB21", "E10109", "机关第一党支部书记"),
    ("handler", Role.HANDLER, "HQ", "E10179", "后勤服务中心承办人"),
    ("employee", Role.EMPLOYEE, "ZB11-1", "E10002", "运行一值职工"),
]


def seed(units, people) -> list[tuple[str, str, str]]:
    rows = []
    for username, role, unit_code, employee_no, description in ACCOUNTS:
        person = people.get(employee_no) if employee_no else None
        user, created = User.objects.get_or_create(
            username=username,
            defaults=dict(role=role, scope_org=units[unit_code], person=person,
                          may_view_sensitive=role in (Role.ADMIN, Role.BRANCH_SECRETARY),
                          email=f"{username}@example.com", is_superuser=role == Role.ADMIN),
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        rows.append((username, str(role.label), description))
    # A group robot to show the page; switched off, because its address is not a real robot's.
    RobotWebhook.objects.get_or_create(
        org_unit=units["ZB11"], name="运行部党支部钉钉群（示例，未启用）",
        defaults=dict(platform=RobotPlatform.DINGTALK, url="https://oapi.dingtalk.com/robot/send?access_token=demo-0000",
                      kinds=[RobotKind.OVERDUE, RobotKind.MEETING], active=False),
    )
    return rows
