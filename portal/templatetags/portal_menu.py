from django import template

from portal.registry import menu_html

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_menu(context):
    """`{% portal_menu %}`: the menu of the page's user (portal.registry.menu_html)."""
    return menu_html(context["user"])
