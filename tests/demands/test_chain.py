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


# --- Signed checkpoints ---------------------------------------------------------------------------
def rewrite_and_recompute(demand, seq: int, note: str) -> None:
    """What the unkeyed chain cannot show: alter an event and recompute every later hash and the
    demand's chain head, as someone with database access and the source code could."""
    events = list(DemandEvent.objects.filter(demand=demand).order_by("seq"))
    prev = ""
    for event in events:
        if event.seq == seq:
            event.note = note
        if event.seq >= seq:
            chain.seal(event, prev)
            sql("UPDATE demands_demandevent SET note = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.note, event.prev_hash, event.hash, event.pk])
        prev = event.hash
    sql("UPDATE demands_demand SET chain_head = %s WHERE id = %s", [prev, demand.pk])


def test_a_rewritten_and_recomputed_chain_is_caught_by_the_signed_checkpoint(demands):
    first, second, third = demands
    assert chain.write_checkpoints() == 3
    rewrite_and_recompute(first, 2, "领导已批示")
    assert chain.verify_chains() == []  # the unkeyed chain alone is fooled
    code, out, err = run_command()
    assert code == 1
    assert f"REWRITTEN {first.ref}" in err and "rewritten after the checkpoint" in err
    assert second.ref not in err and third.ref not in err


def test_checkpoints_are_written_once_per_position_and_again_when_the_chain_grows(demands, handler):
    first, _second, _third = demands
    assert chain.write_checkpoints() == 3
    assert chain.write_checkpoints() == 0
    services.demand_reply(demand=first, by=handler, text="已联系食堂")
    assert chain.write_checkpoints() == 1
    code, out, err = run_command()
    assert code == 0 and "4 signed checkpoints match" in out


def test_a_checkpoint_forged_without_the_key_is_reported(demands, settings):
    first, _second, _third = demands
    chain.write_checkpoints()
    # Someone rewrites the chain and also recomputes the checkpoint, with a key of their own.
    rewrite_and_recompute(first, 2, "领导已批示")
    from demands.models import ChainCheckpoint

    checkpoint = ChainCheckpoint.objects.filter(demand=first).latest("seq")
    head = DemandEvent.objects.get(demand=first, seq=checkpoint.seq).hash
    forged = chain.checkpoint_signature(first.pk, checkpoint.seq, head, checkpoint.signed_at, key=b"guessed")
    sql("UPDATE demands_chaincheckpoint SET head = %s, signature = %s WHERE id = %s", [head, forged, checkpoint.pk])
    broken = chain.verify_checkpoints()
    assert [(b.ref, b.seq) for b in broken] == [(first.ref, checkpoint.seq)]
    assert "wrong signature" in broken[0].reason


def test_the_signing_key_is_a_setting_and_defaults_to_a_derived_key(settings):
    settings.CHAIN_SIGNING_KEY = ""
    derived = chain.signing_key()
    assert derived != settings.SECRET_KEY.encode()
    settings.CHAIN_SIGNING_KEY = "a-key-from-the-vault"
    assert chain.signing_key() == b"a-key-from-the-vault"


def test_the_checkpoint_task_is_on_the_beat():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["demands-chain-checkpoints"]["task"] == "demands.tasks.sign_chain_checkpoints"
