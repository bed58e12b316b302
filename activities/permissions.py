"""The activities rows of roles.md's permission table."""
from portal.roles import ASSIGNED, OWN, SCOPE, define

# Activities, 三会一课, attendance: employee attend (own), staff scope, secretary scope, manager read scope.
define("activities.view", employee=OWN, handler=OWN, staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("activities.change", staff=SCOPE, branch_secretary=SCOPE)
define("activities.checkin", employee=OWN, handler=OWN, staff=OWN, branch_secretary=OWN, manager=OWN, admin=OWN)
define("activities.compliance", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("activities.rules")  # points rules: administrators only
# Points ranking per branch and year (the ledger itself is members' "points.view").
define("points.ranking", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)

# Activity projects (项目化管理): the project leader sees their own project.
define("projects.view", employee=OWN, handler=OWN, staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("projects.change", staff=SCOPE, branch_secretary=SCOPE)
define("projects.approve", branch_secretary=SCOPE, manager=SCOPE)

# Responsibility items (责任清单): update progress staff/handler assigned, secretary scope;
# approve completion secretary scope, manager scope.
define("tasks.view", employee=OWN, staff=(SCOPE, ASSIGNED), handler=ASSIGNED, branch_secretary=SCOPE, manager=SCOPE)
define("tasks.change", branch_secretary=SCOPE, manager=SCOPE)
# Whoever is made responsible records progress, an employee too (ASSIGNED: the item's responsible person).
define("tasks.progress", employee=ASSIGNED, staff=ASSIGNED, handler=ASSIGNED, branch_secretary=(SCOPE, ASSIGNED),
       manager=ASSIGNED)
define("tasks.approve", branch_secretary=SCOPE, manager=SCOPE)
