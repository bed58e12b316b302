from django.utils.translation import gettext_lazy as _

from portal.registry import menu_item

menu_item("demands", _("My demands"), "demands:my_demands", "demands.submit", "inbox", 5)
menu_item("demands", _("Submit a demand"), "demands:demand_create", "demands.submit", "plus-circle", 6)
menu_item("demands", _("Work queues"), "demands:queue_home", "demands.queue", "list-check", 10)
menu_item("demands", _("Demands ledger"), "demands:demand_list", "demands.queue", "journal-text", 20)
menu_item("demands", _("Service priority list"), "demands:priority_list", "demands.queue", "sort-down", 21)
menu_item("demands", _("Hot topics"), "demands:hot_topics", "demands.queue", "fire", 22)
menu_item("demands", _("Log a visit"), "demands:visit_create", "visits.change", "geo-alt", 30)
menu_item("demands", _("Visits"), "demands:visit_list", "visits.view", "people", 31)
menu_item("demands", _("Heat map of needs"), "demands:heat_map", "visits.view", "grid-3x3", 34)
menu_item("demands", _("Due visits"), "demands:due_visits", "lifeevents.view", "alarm", 32)
menu_item("demands", _("Life events"), "demands:lifeevent_list", "lifeevents.view", "heart", 33)
menu_item("demands", _("Dispute mediation"), "demands:mediation_list", "mediation.view", "people-fill", 40)
menu_item("admin", _("SLA policies and work calendar"), "demands:sla_overview", "demands.configure", "calendar3", 50)
menu_item("admin", _("Demand categories"), "demands:category_list", "demands.configure", "tags", 51)
menu_item("admin", _("SLA policies"), "demands:slapolicy_list", "demands.configure", "stopwatch", 52)
menu_item("admin", _("Work calendar overrides"), "demands:calendar_list", "demands.configure", "calendar-x", 53)
menu_item("admin", _("Official work calendar"), "demands:calendar_years", "demands.configure", "calendar-check", 54)
menu_item("admin", _("Demand text model"), "demands:text_models", "demands.configure", "lightbulb", 55)
