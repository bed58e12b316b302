"""The COPY helpers of portal.dataexchange: every value arrives as written (NULL only where None
stands in a nullable column), constant trailing columns, and the pump that copies on a second
thread raises the errors of its COPYs in the caller."""
import datetime

import pytest
from django.db import DataError, connection, transaction

from benchmarks.copypump import CopyPump
from portal.dataexchange import copy_records, pg_array

pytestmark = pytest.mark.django_db

ODD = ['', ' ', '\\N', 'NULL', '"', 'a,b', '多行\n文本\r\n', '\\', "'"]


@pytest.fixture
def table():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE copied (n integer, word text, day date, tags text[], kind text, at timestamptz)")
    yield "copied"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE pg_temp.copied")


def stored():
    with connection.cursor() as cursor:
        cursor.execute("SELECT n, word, day, tags, kind, at FROM copied ORDER BY n")
        return cursor.fetchall()


@pytest.mark.parametrize("with_pump", [False, True], ids=["direct", "pump"])
def test_values_arrive_as_written(table, with_pump):
    at = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    records = [[i, word, datetime.date(2026, 1, 1) if i % 2 else None, pg_array([word, "x"])] for i, word in enumerate(ODD)]
    columns = ["n", "word", "day", "tags", "kind", "at"]
    if with_pump:
        with CopyPump() as pump:
            count = copy_records(table, columns, records, nullable=["day"], tail=["常量", at], chunk=4, pump=pump)
    else:
        count = copy_records(table, columns, records, nullable=["day"], tail=["常量", at], chunk=4)
    assert count == len(ODD)
    rows = stored()
    assert [r[1] for r in rows] == ODD  # an empty string, "\N" and "NULL" are texts, not NULL
    assert [r[2] for r in rows] == [datetime.date(2026, 1, 1) if i % 2 else None for i in range(len(ODD))]
    assert [r[3] for r in rows] == [[word, "x"] for word in ODD]
    assert {(r[4], r[5]) for r in rows} == {("常量", at)}


def test_the_pump_raises_the_error_of_a_copy(table):
    with pytest.raises(DataError), transaction.atomic(), CopyPump() as pump:
        copy_records(table, ["n", "word"], [[1, "a"], ["not a number", "b"]], pump=pump)
        copy_records(table, ["n", "word"], [[3, "c"]], pump=pump)
    assert stored() == []


def test_a_closed_pump_takes_nothing(table):
    pump = CopyPump()
    pump.close()
    with pytest.raises(RuntimeError):
        copy_records(table, ["n"], [[1]], pump=pump)
