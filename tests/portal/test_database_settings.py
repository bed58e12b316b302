"""Settings the portal's database carries for every session (portal/migrations/0009)."""
import pytest
from django.db import connections


@pytest.mark.django_db
def test_a_new_session_plans_without_memoize():
    # A page's few rows must not pay for a lookup cache sized for the whole table
    # (portal/migrations/0009_database_without_memoize.py).
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW enable_memoize")
            assert cursor.fetchone()[0] == "off"
    finally:
        fresh.close()
