"""roles.md, for transfers, mobile members and terms: read like people records (employees their
own, managers read their scope), written by staff and branch secretaries in their scope; approvals
of transfers also by managers (the committee's leaders)."""
from portal.roles import OWN, SCOPE, define

define("transfers.view", employee=OWN, staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("transfers.change", staff=SCOPE, branch_secretary=SCOPE)
define("transfers.approve", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("mobile.view", employee=OWN, staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("mobile.change", staff=SCOPE, branch_secretary=SCOPE)
define("terms.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("terms.change", staff=SCOPE, branch_secretary=SCOPE)
