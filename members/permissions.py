from portal.roles import OWN, SCOPE, define

define(
    "people.view", employee=OWN, staff=(SCOPE, OWN), branch_secretary=(SCOPE, OWN), manager=(SCOPE, OWN),
)
define("people.change", staff=SCOPE, branch_secretary=SCOPE)
define("people.delete")  # administrators only
define("orgunits.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("orgunits.change")  # administrators only
define("development.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("development.change", staff=SCOPE, branch_secretary=SCOPE)
define(
    "points.view", employee=OWN, handler=OWN, staff=(SCOPE, OWN), branch_secretary=(SCOPE, OWN),
    manager=(SCOPE, OWN),
)
define("points.change", manager=SCOPE)
define("reveals.view")  # administrators only
