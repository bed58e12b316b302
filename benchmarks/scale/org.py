"""The organisation of the scale data: the org tree under its own root, the people (一人一档) and
the accounts (secretaries, party-mass staff, handlers, registered employees and the benchmark
users), all made in Python from seeded random streams and written with COPY."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from members.demo import GIVEN, SURNAMES, make_id_number
from members.importers import rebuild_org_paths
from members.models import OrgUnit, Person
from portal.dataexchange import pg_array
from portal.models import User
from portal.roles import Role

from .bulk import NULL, Writer, allocate_ids, opt, text
from .plan import Plan

# Functional departments of the group company (the first is the party-mass work department).
ROOT_DEPARTMENTS = [
    ("DQB", "党群工作部"), ("RLB", "人力资源部"), ("HQ", "后勤服务中心"), ("AHB", "安全环保部"),
    ("CWB", "财务资产部"), ("SCB", "生产技术部"), ("GHB", "工会工作部"), ("JJB", "纪委办公室"),
]
PLACES = ["东港", "西山", "南湖", "北岭", "江城", "海州", "云岭", "河西", "天河", "金沙", "青山", "白塔", "龙湾", "平川",
          "石门", "长岭", "临江", "新港", "沙洲", "望海", "松原", "鹤山", "清河", "丰源", "永安"]
COMPANIES = ["发电厂", "检修公司", "新能源公司", "热电公司", "燃料公司"]
DEPARTMENTS = ["综合办公室", "生产技术部", "设备管理部", "安全监察部", "运行部", "检修部", "燃料部", "物资部"]
TEAMS = ["运行一值", "运行二值", "运行三值", "运行四值", "运行五值", "电气检修", "机务检修", "热控检修", "化学", "燃料运行",
         "输煤", "脱硫", "机关第一", "机关第二", "财务资产", "物资供应", "信息技术", "后勤服务", "安全监察", "计划经营",
         "风电场", "光伏电站", "集控中心", "调度", "计量", "培训中心", "离退休", "工程建设", "市场营销", "质量检验"]
POSITIONS = ["值长", "主值", "副值", "巡检员", "检修工", "技术员", "工程师", "专责", "科员", "主管", "班长", "副班长"]
TAGS = ["技术骨干", "劳动模范", "退役军人", "困难职工", "新就业形态", "女职工"]
# Political status of people in party groups (two in five are party members) and departments.
STATUSES = ["full_member"] * 36 + ["probationary_member"] * 4 + ["activist"] * 5 + ["applicant"] * 4 \
    + ["league_member"] * 9 + ["masses"] * 42
DEPARTMENT_STATUSES = ["full_member"] * 6 + ["masses"] * 4
MEMBER_STATUSES = ("full_member", "probationary_member")
PEOPLE_PER_ROOT_DEPARTMENT = 6
PEOPLE_PER_DEPARTMENT = 3
REGISTERED_SHARE = 0.3  # people with a portal account of their own (self-service, rating)
BENCH_USERNAMES = ("bench_admin", "bench_manager", "bench_staff", "bench_secretary", "bench_handler", "bench_employee")


@dataclass
class Account:
    id: int
    username: str
    person: int | None


@dataclass
class Org:
    """Everything later steps need to know about the tree, the people and the accounts."""

    root: int
    code: dict[int, str] = field(default_factory=dict)  # unit id → code
    root_departments: list[int] = field(default_factory=list)
    general_branches: list[int] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)  # of the general branches
    department_gb: list[int] = field(default_factory=list)  # index of its general branch
    branches: list[int] = field(default_factory=list)
    branch_gb: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    group_branch: list[int] = field(default_factory=list)
    # People, by index: id, unit, branch index (-1 in a department), general branch index (-1 at the root).
    person_id: list[int] = field(default_factory=list)
    person_unit: list[int] = field(default_factory=list)
    person_branch: list[int] = field(default_factory=list)
    person_gb: list[int] = field(default_factory=list)
    person_member: list[bool] = field(default_factory=list)
    person_tag: list[str] = field(default_factory=list)  # first tag ("" without)
    person_account: dict[int, Account] = field(default_factory=dict)  # person index → own account
    registered: list[int] = field(default_factory=list)  # person indexes with an employee account
    # Accounts by job.
    admin: Account | None = None
    manager: Account | None = None
    root_staff: Account | None = None
    gb_staff: list[Account] = field(default_factory=list)
    gb_secretary: list[Account] = field(default_factory=list)
    secretary: list[Account] = field(default_factory=list)  # per branch
    handlers: dict[int, list[Account]] = field(default_factory=dict)  # department id → handlers
    bench: dict[str, str] = field(default_factory=dict)  # role → username

    @property
    def root_department_handlers(self) -> list[list[Account]]:
        return [self.handlers[d] for d in self.root_departments]


def _units(plan: Plan) -> dict[str, int]:
    """How many units of each kind (5,000 at scale 1: 1 root, 8 functional departments, 25 general
    branches with 166 departments, 800 branches and 4,000 party groups)."""
    total = plan.sizes.units
    scale = total / 5000
    counts = {
        "root_departments": max(1, min(len(ROOT_DEPARTMENTS), round(8 * scale))),
        "general_branches": max(1, round(25 * scale)),
        "departments": max(1, round(166 * scale)),
        "branches": max(1, round(800 * scale)),
    }
    counts["groups"] = max(1, total - 1 - sum(counts.values()))
    return counts


def build(plan: Plan, steps) -> Org:
    org = _tree(plan)
    steps.done("org units", len(org.code))
    _people(plan, org)
    steps.done("people", len(org.person_id))
    _accounts(plan, org)
    steps.done("accounts", sum(1 for _ in _all_accounts(org)))
    return org


# --- The tree ------------------------------------------------------------------------------------------
def _tree(plan: Plan) -> Org:
    ns, counts = plan.namespace, _units(plan)
    root = OrgUnit.objects.create(code=plan.root_code, name="规模数据集团党委", kind="committee", sort_order=9000)
    org = Org(root=root.pk)

    def level(rows):
        created = OrgUnit.objects.bulk_create([OrgUnit(**row) for row in rows], batch_size=2000)
        for unit in created:
            org.code[unit.pk] = unit.code
        return [unit.pk for unit in created]

    org.code[root.pk] = root.code
    org.root_departments = level(
        dict(code=f"{ns}-{code}", name=name, kind="department", parent_id=root.pk, sort_order=i)
        for i, (code, name) in enumerate(ROOT_DEPARTMENTS[: counts["root_departments"]])
    )
    gb_names = [f"{PLACES[i % len(PLACES)]}{COMPANIES[i // len(PLACES) % len(COMPANIES)]}" for i in range(counts["general_branches"])]
    org.general_branches = level(
        dict(code=f"{ns}-Z{i + 1:02d}", name=f"{name}党总支", kind="general_branch", parent_id=root.pk, sort_order=100 + i)
        for i, name in enumerate(gb_names)
    )
    n_gb = len(org.general_branches)
    org.department_gb = [d % n_gb for d in range(counts["departments"])]
    org.departments = level(
        dict(code=f"{ns}-Z{gb + 1:02d}-D{d // n_gb + 1:02d}",
             name=f"{gb_names[gb]}{DEPARTMENTS[d // n_gb % len(DEPARTMENTS)]}{'' if d // n_gb < len(DEPARTMENTS) else d // n_gb + 1}",
             kind="department", parent_id=org.general_branches[gb], sort_order=d // n_gb)
        for d, gb in enumerate(org.department_gb)
    )
    org.branch_gb = [b % n_gb for b in range(counts["branches"])]
    team_names = []
    for b, gb in enumerate(org.branch_gb):
        k = b // n_gb
        team_names.append(TEAMS[k % len(TEAMS)] + (str(k // len(TEAMS) + 1) if k >= len(TEAMS) else ""))
    org.branches = level(
        dict(code=f"{ns}-B{b + 1:04d}", name=f"{gb_names[gb]}{team_names[b]}党支部", kind="branch",
             parent_id=org.general_branches[gb], sort_order=b // n_gb)
        for b, gb in enumerate(org.branch_gb)
    )
    n_branches = len(org.branches)
    org.group_branch = [g % n_branches for g in range(counts["groups"])]
    org.groups = level(
        dict(code=f"{ns}-B{b + 1:04d}-{g // n_branches + 1}", name=f"{team_names[b]}第{g // n_branches + 1}党小组",
             kind="group", parent_id=org.branches[b], sort_order=g // n_branches)
        for g, b in enumerate(org.group_branch)
    )
    rebuild_org_paths()
    return org


# --- People ---------------------------------------------------------------------------------------------
def _people(plan: Plan, org: Org) -> None:
    rng = plan.rng("people")
    total = plan.sizes.people
    # Departments first (their people become staff and handlers), the rest in party groups; branch
    # sizes are skewed (a few big operating branches, many small ones), groups even within a branch.
    places: list[tuple[int, int, int]] = []  # (unit, branch index, gb index)
    for d in org.root_departments:
        places += [(d, -1, -1)] * PEOPLE_PER_ROOT_DEPARTMENT
    for d, gb in zip(org.departments, org.department_gb):
        places += [(d, -1, gb)] * PEOPLE_PER_DEPARTMENT
    places = places[: max(0, total - len(org.branches))]
    groups_of: list[list[int]] = [[] for _ in org.branches]
    for g, b in enumerate(org.group_branch):
        groups_of[b].append(g)
    n_branches = len(org.branches)
    # Every branch gets someone; then the skewed draw.
    draws = list(range(n_branches))[: total - len(places)]
    draws += [min(n_branches - 1, int(n_branches * rng.random() ** 1.5)) for _ in range(total - len(places) - len(draws))]
    for b in draws:
        g = groups_of[b][rng.randrange(len(groups_of[b]))]
        places.append((org.groups[g], b, org.branch_gb[b]))

    ids = allocate_ids("members.Person", total)
    writer = Writer(Person, ["id", "employee_no", "name", "gender", "birth_date", "phone", "id_number", "org_unit_id",
                             "political_status", "joined_party_on", "tags", "dual_cultivation", "position", "is_active",
                             "created_at", "updated_at"])
    used_ids: set[str] = set(Person.objects.exclude(id_number="").values_list("id_number", flat=True))
    created = plan.start.isoformat()
    for i, (unit, branch, gb) in enumerate(places):
        gender = "M" if rng.random() < 0.62 else "F"
        birth = datetime.date(rng.randint(1964, 2004), rng.randint(1, 12), rng.randint(1, 28))
        status = rng.choice(STATUSES if branch >= 0 else DEPARTMENT_STATUSES)
        if status == "league_member" and birth.year < 1996:
            status = "masses"
        joined = None
        if status in MEMBER_STATUSES:
            joined = datetime.date(min(birth.year + rng.randint(20, 35), plan.until.year - 1), rng.randint(1, 12), rng.randint(1, 28))
        tags = sorted(set(rng.sample(TAGS, rng.choice([0, 0, 0, 1, 1, 2]))))
        if gender == "F" and rng.random() < 0.3:
            tags = sorted(set(tags) | {"女职工"})
        if birth.year >= plan.until.year - 35:
            tags = ["青年", *tags]
        id_number = make_id_number(rng, birth, gender)
        while id_number in used_ids:  # unique (a partial unique index)
            id_number = make_id_number(rng, birth, gender)
        used_ids.add(id_number)
        writer.add(",".join((
            str(ids[i]), text(f"{plan.namespace}-{i + 1:06d}"),
            text(rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))), text(gender), birth.isoformat(),
            text(f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"), text(id_number), str(unit),
            text(status), joined.isoformat() if joined else NULL, text(pg_array(tags)),
            text("backbone_to_member" if "技术骨干" in tags and status == "masses" else ""),
            text(rng.choice(POSITIONS)), "t", created, created,
        )))
        org.person_id.append(ids[i])
        org.person_unit.append(unit)
        org.person_branch.append(branch)
        org.person_gb.append(gb)
        org.person_member.append(status in MEMBER_STATUSES)
        org.person_tag.append(tags[0] if tags else "")
    writer.flush()


# --- Accounts -------------------------------------------------------------------------------------------
def _accounts(plan: Plan, org: Org) -> None:
    rng = plan.rng("accounts")
    ns = plan.namespace.lower()
    rows: list[dict] = []  # username, role, scope, person index or None, superuser

    def add(username, role, scope, person=None, superuser=False, key=None):
        rows.append(dict(username=username, role=role, scope=scope, person=person, superuser=superuser, key=key))

    by_unit: dict[int, list[int]] = {}
    for i, unit in enumerate(org.person_unit):
        by_unit.setdefault(unit, []).append(i)

    def person_at(unit, k):
        people = by_unit.get(unit, [])
        return people[k] if k < len(people) else None

    add("bench_admin", Role.ADMIN, org.root, None, True, key=("admin",))
    dqb = org.root_departments[0]
    add("bench_manager", Role.MANAGER, org.root, person_at(dqb, 0), key=("manager",))
    add("bench_staff", Role.STAFF, org.root, person_at(dqb, 1), key=("root_staff",))
    for d in org.root_departments:
        for k in range(2, PEOPLE_PER_ROOT_DEPARTMENT):
            if person_at(d, k) is not None:
                add(f"{ns}_h{d}_{k}", Role.HANDLER, d, person_at(d, k), key=("handler", d))
    first_department: dict[int, list[int]] = {}
    for d, gb in zip(org.departments, org.department_gb):
        first_department.setdefault(gb, []).append(d)
        for k in range(2):
            if person_at(d, k) is not None:
                add(f"{ns}_h{d}_{k}", Role.HANDLER, d, person_at(d, k), key=("handler", d))
    for gb, unit in enumerate(org.general_branches):
        departments = first_department.get(gb, [])
        staff_person = person_at(departments[0], 2) if departments else None
        secretary_person = person_at(departments[1], 2) if len(departments) > 1 else None
        add(f"{ns}_staff{gb + 1:02d}", Role.STAFF, unit, staff_person, key=("gb_staff", gb))
        add(f"{ns}_zsec{gb + 1:02d}", Role.BRANCH_SECRETARY, unit, secretary_person, key=("gb_secretary", gb))
    members_of: list[list[int]] = [[] for _ in org.branches]
    people_of: list[list[int]] = [[] for _ in org.branches]
    for i, b in enumerate(org.person_branch):
        if b >= 0:
            people_of[b].append(i)
            if org.person_member[i]:
                members_of[b].append(i)
    for b, unit in enumerate(org.branches):
        candidates = members_of[b] or people_of[b]
        add(f"{ns}_sec{b + 1:04d}", Role.BRANCH_SECRETARY, unit, candidates[0] if candidates else None, key=("secretary", b))
    taken = {row["person"] for row in rows if row["person"] is not None}
    # The benchmark's secretary leads the branch with the most people; its employee is registered there.
    biggest = max(range(len(org.branches)), key=lambda b: (len(people_of[b]), -b))
    bench_employee = next((i for i in people_of[biggest] if i not in taken), None)
    for i, b in enumerate(org.person_branch):
        if b >= 0 and i not in taken and (i == bench_employee or rng.random() < REGISTERED_SHARE):
            add(f"{ns}_e{i + 1:06d}", Role.EMPLOYEE, org.person_unit[i], i, key=("employee",))
    # The benchmark users: the designated accounts take the bench_* names when these are free.
    existing = set(User.objects.filter(username__in=BENCH_USERNAMES).values_list("username", flat=True))
    hq = org.root_departments[2] if len(org.root_departments) > 2 else org.root_departments[0]
    designated = {
        "bench_secretary": next(r for r in rows if r["key"] == ("secretary", biggest)),
        "bench_handler": next((r for r in rows if r["key"] == ("handler", hq)), None),
        "bench_employee": next((r for r in rows if r["key"] == ("employee",) and r["person"] == bench_employee), None),
    }
    for username, row in designated.items():
        if row is not None:
            row["username"] = username
    for row in rows:
        if row["username"] in existing:
            row["username"] = f"{ns}_{row['username']}"
    for row in rows:
        if row["username"].startswith("bench_") or row["username"].startswith(f"{ns}_bench_"):
            org.bench[row["username"].removeprefix(f"{ns}_")] = row["username"]

    writer = Writer(User, ["password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
                           "is_staff", "is_active", "date_joined", "role", "scope_org_id", "person_id", "may_view_sensitive"])
    joined = plan.start.isoformat()
    for row in rows:
        person = row["person"]
        sensitive = row["role"] in (Role.ADMIN, Role.BRANCH_SECRETARY)
        writer.add(",".join((
            text(plan.password_hash), NULL, "t" if row["superuser"] else "f", text(row["username"]), '""', '""',
            text(f"{row['username']}@scale.example.com"), "t" if row["role"] == Role.ADMIN else "f", "t", joined,
            text(row["role"]), str(row["scope"]), opt(org.person_id[person] if person is not None else None),
            "t" if sensitive else "f",
        )))
    writer.flush()
    ids = dict(User.objects.filter(username__in=[r["username"] for r in rows]).values_list("username", "id"))
    for row in rows:
        person = row["person"]
        account = Account(ids[row["username"]], row["username"], org.person_id[person] if person is not None else None)
        if person is not None:
            org.person_account[person] = account
        kind = row["key"][0]
        if kind == "admin":
            org.admin = account
        elif kind == "manager":
            org.manager = account
        elif kind == "root_staff":
            org.root_staff = account
        elif kind == "gb_staff":
            org.gb_staff.append(account)
        elif kind == "gb_secretary":
            org.gb_secretary.append(account)
        elif kind == "secretary":
            org.secretary.append(account)
        elif kind == "handler":
            org.handlers.setdefault(row["key"][1], []).append(account)
        elif kind == "employee":
            org.registered.append(person)
    for d in org.root_departments + org.departments:
        # A department without people of its own is served by the party-mass work department.
        org.handlers.setdefault(d, org.handlers.get(org.root_departments[0]) or [org.root_staff])


def _all_accounts(org: Org):
    yield from (a for a in (org.admin, org.manager, org.root_staff) if a)
    yield from org.gb_staff
    yield from org.gb_secretary
    yield from org.secretary
    seen = set()
    for accounts in org.handlers.values():
        for account in accounts:
            if account.id not in seen:
                seen.add(account.id)
                yield account
    yield from (org.person_account[i] for i in org.registered)
