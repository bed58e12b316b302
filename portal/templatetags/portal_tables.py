from django import template

from portal import fastform, fasttable

register = template.Library()


@register.simple_tag(takes_context=True)
def fast_table(context, table):
    """`{% fast_table table %}`: what `{% render_table table %}` prints, rendered by portal.fasttable."""
    return fasttable.render_table(table, context["request"])


@register.filter
def fast_form(form):
    """`{{ form|fast_form }}`: what `{{ form|crispy }}` prints, rendered by portal.fastform."""
    return fastform.render_form(form)
