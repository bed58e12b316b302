"""The tamper-evident timeline: altering, removing or re-sealing an event breaks the chain, and
`manage.py verify_demand_chains` reports every broken chain (exit status 1)."""
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from demands import chain, services
from demands.models import DemandEvent
from tests.factories.demands import accepted, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture
def demands(tree, owner, handler, member):
    first = accepted(make_demand(tree.group_a, submitter=member.person, by=owner), by=owner, handler=handler)
    services.demand_reply(demand=first, by=handler, text="正在办理")
    second = accepted(make_demand(tree.group_a, by=owner, title="更衣室柜子不够用"), by=owner, handler=handler)
    third = make_demand(tree.branch_a, by=owner, title="夜班交通车时间")
    return first, second, third


def sql(statement, params=()):
    """Change rows behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        # A database superuser can switch triggers off (the append-only guard included).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(statement, params)
        cursor.execute("SET session_replication_role = origin")


def run_command():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_demand_chains", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_intact_chains_pass(demands):
    code, out, err = run_command()
    assert code == 0 and "All 3 demand timelines are intact" in out and err == ""


def test_the_database_refuses_updates_and_deletes_of_events(demands):
    event = DemandEvent.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        DemandEvent.objects.filter(pk=event.pk).update(note="改过")
    with pytest.raises(DatabaseError), transaction.atomic():
        DemandEvent.objects.filter(pk=event.pk).delete()


def test_an_altered_event_is_reported(demands):
    first, second, third = demands
    sql("UPDATE demands_demandevent SET note = %s WHERE demand_id = %s AND seq = 2", ["领导已批示", first.pk])
    code, out, err = run_command()
    assert code == 1
    assert f"BROKEN {first.ref}" in err and "event #2" in err and "altered" in err
    assert second.ref not in err and third.ref not in err
    assert "1 of 3 demand timelines are broken" in err


def test_a_removed_event_is_reported(demands):
    first, _second, _third = demands
    sql("DELETE FROM demands_demandevent WHERE demand_id = %s AND seq = 2", [first.pk])
    broken = chain.verify_chains()
    assert [(b.ref, b.seq) for b in broken] == [(first.ref, 2)]
    assert "missing" in broken[0].reason


def test_events_cut_off_the_end_are_reported(demands):
    _first, second, _third = demands
    sql("DELETE FROM demands_demandevent WHERE demand_id = %s AND seq = 2", [second.pk])
    broken = chain.verify_chains()
    assert [(b.ref, b.seq) for b in broken] == [(second.ref, 2)]
    assert "removed from the end" in broken[0].reason


def test_a_status_changed_without_an_event_is_reported(demands):
    _first, _second, third = demands
    sql("UPDATE demands_demand SET status = 'resolved' WHERE id = %s", [third.pk])
    broken = chain.verify_chains()
    assert [b.ref for b in broken] == [third.ref] and "status" in broken[0].reason


def test_a_resealed_event_breaks_the_next_link(demands):
    first, _second, _third = demands
    event = DemandEvent.objects.get(demand=first, seq=2)
    event.note = "篡改后重新计算哈希"
    chain.seal(event, event.prev_hash)
    sql("UPDATE demands_demandevent SET note = %s, hash = %s WHERE id = %s", [event.note, event.hash, event.pk])
    broken = chain.verify_chains()
    assert [(b.ref, b.seq) for b in broken] == [(first.ref, 3)]
    assert "prev_hash" in broken[0].reason


def test_a_tampered_timestamp_or_actor_is_reported(demands):
    first, second, third = demands
    sql("UPDATE demands_demandevent SET at = at - interval '1 day' WHERE demand_id = %s AND seq = 1", [third.pk])
    sql("UPDATE demands_demandevent SET actor_id = NULL WHERE demand_id = %s AND seq = 2", [second.pk])
    assert {b.ref for b in chain.verify_chains()} == {second.ref, third.ref}


def test_every_broken_chain_is_listed_and_a_demand_without_events_too(demands):
    first, second, third = demands
    sql("UPDATE demands_demandevent SET data = '{}'::jsonb WHERE demand_id = %s AND seq = 2", [first.pk])
    sql("DELETE FROM demands_demandevent WHERE demand_id = %s", [third.pk])
    code, _out, err = run_command()
    assert code == 1
    assert first.ref in err and third.ref in err and "no events" in err
    assert "2 of 3" in err


def test_the_demand_page_verifies_its_chain_when_shown(client, demands, owner):
    """The 防篡改 mark is computed: intact shows the shield, a broken chain a red warning naming the
    first bad step."""
    from django.urls import reverse

    first, second, _third = demands
    client.force_login(owner)
    page = client.get(reverse("demands:demand_detail", args=[first.pk])).content.decode()
    assert 'data-testid="chain-intact"' in page and 'data-testid="chain-broken"' not in page
    sql("UPDATE demands_demandevent SET note = %s WHERE demand_id = %s AND seq = 2", ["领导已批示", first.pk])
    page = client.get(reverse("demands:demand_detail", args=[first.pk])).content.decode()
    assert 'data-testid="chain-broken"' in page and 'data-testid="chain-intact"' not in page
    assert "#2" in page.split('role="alert"')[1].split("</div>")[0]
    other = client.get(reverse("demands:demand_detail", args=[second.pk])).content.decode()
    assert 'data-testid="chain-intact"' in other
