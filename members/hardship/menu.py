from django.utils.translation import gettext_lazy as _

from portal.registry import menu_item

menu_item("people", _("Hardship households"), "members:hardship_list", "hardship.view", "house-heart", 40)
menu_item("people", _("Due hardship reviews"), "members:hardship_due_reviews", "hardship.view", "calendar-check", 41)
menu_item("people", _("Assistance given"), "members:hardship_assistance", "hardship.view", "cash-coin", 42)
