from portal.roles import SCOPE, define

# roles.md: people records — staff and branch secretaries manage their scope, managers read it;
# employees see nothing of the register (a family's hardship is not shown to colleagues, nor in the
# person's own record view).
define("hardship.view", staff=SCOPE, branch_secretary=SCOPE, manager=SCOPE)
define("hardship.change", staff=SCOPE, branch_secretary=SCOPE)
