"""Accounts administration: form, filters and table (the views are in portal.views)."""
import django_filters
import django_tables2 as tables
from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .filters import SearchFilter, SubtreeFilter
from .forms import ScopedModelForm
from .models import User
from .org import org_unit_model, person_model
from .roles import Role
from .widgets import AutocompleteSelect


class AccountForm(ScopedModelForm):
    scoped_org_fields = ("scope_org",)
    new_password = forms.CharField(
        label=_("new password"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = User
        fields = ["username", "role", "scope_org", "person", "may_view_sensitive", "email", "is_active"]
        widgets = {
            "scope_org": AutocompleteSelect("members:orgunit_autocomplete"),
            "person": AutocompleteSelect("members:person_autocomplete"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = person_model().objects.all()
        if not self.instance.pk:
            self.fields["new_password"].required = True
            self.fields["new_password"].help_text = ""

    def clean_new_password(self):
        password = self.cleaned_data.get("new_password")
        if password:
            validate_password(password, self.instance)
        return password

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role and role not in (Role.ADMIN, Role.EMPLOYEE, Role.HANDLER) and not cleaned.get("scope_org"):
            self.add_error("scope_org", _("This role needs a scope unit."))
        if role == Role.EMPLOYEE and not cleaned.get("person"):
            self.add_error("person", _("An employee account must be linked to a person."))
        person = cleaned.get("person")
        if person and User.objects.exclude(pk=self.instance.pk).filter(person=person).exists():
            self.add_error("person", _("This person already has an account."))
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            user.set_password(self.cleaned_data["new_password"])
        if commit:
            user.save()
        return user


class AccountFilterSet(django_filters.FilterSet):
    q = SearchFilter(field_name="username", lookup_expr="istartswith", label=_("username"))
    role = django_filters.ChoiceFilter(label=_("role"), choices=Role.choices)
    scope_org = SubtreeFilter(queryset=org_unit_model().objects.all(), path_lookup="scope_org__path", label=_("scope unit"))

    class Meta:
        model = User
        fields = ["q", "role", "scope_org", "is_active"]


class AccountTable(tables.Table):
    username = tables.Column(linkify=("portal:account_edit", {"pk": tables.A("pk")}))
    person = tables.Column(linkify=True)

    class Meta:
        model = User
        fields = ["username", "person", "role", "scope_org", "may_view_sensitive", "is_active", "last_login"]
        attrs = {"class": "table table-hover table-sm align-middle"}
