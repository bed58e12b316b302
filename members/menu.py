from django.utils.translation import gettext_lazy as _

from portal.registry import menu_item

menu_item("people", _("My record"), "members:my_record", "people.view", "person-vcard", 5)
menu_item("people", _("People"), "members:person_list", "orgunits.view", "people", 10)
menu_item("people", _("Org units"), "members:orgunit_tree", "orgunits.view", "diagram-3", 20)
menu_item("people", _("Member development"), "members:development", "development.view", "flag", 30)
menu_item("admin", _("Sensitive data access log"), "members:reveal_log", "reveals.view", "eye", 40)
