"""The cached column-signature lookup answers exactly what django-tables2's own does."""
import functools

from django_tables2 import utils

from portal import tables2_speed


class Column:
    def render(self, value, record):
        return value

    def value(self, **kwargs):
        return kwargs


def plain(value, *args, bound_column=None, **rest):
    return value


def test_same_answers_as_the_uncached_lookup():
    column = Column()
    for fn in (column.render, column.value, plain, functools.partial(plain, 1), lambda record: record):
        assert tables2_speed.cached_signature(fn) == tables2_speed._uncached_signature(fn)
    assert tables2_speed.cached_signature(column.render) == (("value", "record"), None)


def test_installed_where_tables2_looks_it_up():
    assert utils.signature is tables2_speed.cached_signature
    assert utils.call_with_appropriate(Column().render, {"value": 1, "record": 2, "table": 3}) == 1
