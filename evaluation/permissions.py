"""Who may do what in evaluation (roles.md: "KPI dashboards, reports" and "KPI targets, evaluation
campaigns")."""
from portal.roles import ALL, ASSIGNED, OWN, SCOPE, define

# KPI dashboards, drill-down lists, snapshots in the API, monthly reports: read scope.
define("kpis.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("reports.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
# Generating a report or asking for a recompute now (the beat does it anyway).
define("reports.generate", manager=SCOPE)
define("kpis.compute", manager=SCOPE)
# The catalogue is one list for the whole enterprise; targets and manual values are per unit.
define("kpis.catalogue", manager=ALL)
define("kpis.catalogue_view", staff=ALL, branch_secretary=ALL, manager=ALL)
define("kpis.targets", manager=SCOPE)
define("kpis.manual", manager=SCOPE)
# Evaluation campaigns and democratic appraisal: managed by managers in scope.
define("campaigns.manage", manager=SCOPE)
# Anyone asked to rate or vote does so; only their own assignment (admins too: a ballot is personal).
define("campaigns.rate", employee=ASSIGNED, staff=ASSIGNED, handler=ASSIGNED, branch_secretary=ASSIGNED,
       manager=ASSIGNED, admin=ASSIGNED)
# PDCA improvement actions: raised and verified by managers; owners follow their own actions.
define("pdca.view", employee=OWN, handler=OWN, staff=(SCOPE, OWN), branch_secretary=(SCOPE, OWN),
       manager=SCOPE)
define("pdca.manage", manager=SCOPE)
define("pdca.progress", employee=OWN, handler=OWN, staff=OWN, branch_secretary=(SCOPE, OWN), manager=SCOPE)
