from django.utils.translation import gettext_lazy as _

from portal.registry import menu_item

menu_item("people", _("Membership transfers"), "members:transfer_list", "transfers.view", "arrow-left-right", 40)
menu_item("people", _("Pending transfers"), "members:transfer_pending", "transfers.approve", "hourglass-split", 41)
menu_item("people", _("Mobile members"), "members:mobile_list", "mobile.view", "geo-alt", 42)
menu_item("people", _("Branch terms"), "members:term_list", "terms.view", "calendar2-range", 43)
menu_item("people", _("Terms overdue for election"), "members:term_overdue", "terms.view", "calendar2-x", 44)
