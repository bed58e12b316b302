"""The org unit and person models the kit works with (members.OrgUnit, members.Person), found
through the account's foreign keys, so that the kit imports no domain app."""
from django.contrib.auth import get_user_model


def org_unit_model():
    return get_user_model()._meta.get_field("scope_org").related_model


def person_model():
    return get_user_model()._meta.get_field("person").related_model
