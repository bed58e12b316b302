from django.utils.translation import gettext_lazy as _

from .registry import menu_group, menu_item

# The groups every app fills; order is the order in the navigation bar.
menu_group("people", _("People"), "people", 10)
menu_group("demands", _("Demands"), "chat-left-text", 20)
menu_group("activities", _("Activities"), "calendar-event", 30)
menu_group("evaluation", _("Evaluation"), "graph-up", 40)
menu_group("admin", _("Administration"), "gear", 90)

menu_item("admin", _("Accounts"), "portal:account_list", "portal.accounts", "person-badge", 20)
menu_item("admin", _("Audit trail"), "portal:audit_trail", "portal.audit_trail", "journal-text", 25)
menu_item("admin", _("Group robots"), "portal:robot_list", "portal.robots", "robot", 35)
menu_item("admin", _("Import data"), "portal:import", "portal.imports", "upload", 30)
menu_item("admin", _("Imports"), "portal:import_batches", "portal.imports", "list-check", 31)
menu_item("admin", _("API documentation"), "swagger-ui", "portal.imports", "braces", 80)
menu_item("admin", _("Django admin"), "admin:index", "portal.accounts", "tools", 90)
