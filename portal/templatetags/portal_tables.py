from django import template

from portal import fasttable

register = template.Library()


@register.simple_tag(takes_context=True)
def fast_table(context, table):
    """`{% fast_table table %}`: what `{% render_table table %}` prints, rendered by portal.fasttable."""
    return fasttable.render_table(table, context["request"])
