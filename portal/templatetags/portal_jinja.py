from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, template_name: str):
    """Renders a Jinja2 template (portal/jinja.py) with the Django template's context."""
    return mark_safe(engines["jinja2"].get_template(template_name).render(context.flatten()))
