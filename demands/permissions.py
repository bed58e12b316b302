"""roles.md for demands, mediation, visits and life events. Administrators reach everything.

Which workflow step a user may take on a demand is decided by demands/workflow.py; these
permissions decide which demands a user can find at all (and which pages open)."""
from portal.roles import ASSIGNED, OWN, SCOPE, define

# See a demand: own, assigned, or in scope (managers read their scope for KPI drill-down).
define(
    "demands.view",
    employee=OWN, handler=(ASSIGNED, OWN), staff=(SCOPE, OWN, ASSIGNED), branch_secretary=(SCOPE, OWN, ASSIGNED),
    manager=(SCOPE, OWN),
)
# Submit a demand: own, or on behalf of anyone in scope.
define("demands.submit", employee=OWN, handler=OWN, manager=OWN, staff=(SCOPE, OWN), branch_secretary=(SCOPE, OWN))
# Accept / classify / assign / transfer / return visits / merge / close / reopen.
define("demands.manage", staff=SCOPE, branch_secretary=SCOPE)
# Reply and resolve what is assigned to you.
define("demands.handle", staff=ASSIGNED, handler=ASSIGNED, branch_secretary=ASSIGNED)
# Categories, SLA policies, work calendar.
define("demands.configure")  # administrators only

define("mediation.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("mediation.change", staff=SCOPE, branch_secretary=SCOPE)
define("visits.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("visits.change", staff=SCOPE, branch_secretary=SCOPE)
define("lifeevents.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("lifeevents.change", staff=SCOPE, branch_secretary=SCOPE)
# Work queues (待受理, 我的待办, 即将到期, 已超期, 待回访): what one manages or is assigned.
define("demands.queue", handler=ASSIGNED, staff=(SCOPE, ASSIGNED), branch_secretary=(SCOPE, ASSIGNED), manager=SCOPE)
