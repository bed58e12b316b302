from django.utils.translation import gettext_lazy as _

from portal.registry import menu_item

menu_item("activities", _("Activities and meetings"), "activities:activity_list", "activities.view", "calendar-event", 10)
menu_item("activities", _("Meeting compliance (三会一课)"), "activities:compliance", "activities.compliance", "grid-3x3", 20)
menu_item("activities", _("Responsibility list"), "activities:item_list", "tasks.view", "list-check", 30)
menu_item("activities", _("Review responsibility lists"), "activities:review", "tasks.approve", "clipboard-check", 40)
menu_item("activities", _("Activity projects"), "activities:project_list", "projects.view", "kanban", 50)
menu_item("people", _("Points ledger"), "activities:ledger", "points.view", "star", 40)
menu_item("people", _("Points ranking"), "activities:ranking", "points.ranking", "trophy", 45)
menu_item("people", _("Development board"), "activities:development_board", "development.view", "signpost-split", 35)
menu_item("admin", _("Points rules"), "activities:points_rules", "activities.rules", "sliders", 50)
