"""Push claims: what keeps unfinished pushes invisible and concurrent pushes apart."""

from __future__ import annotations

import pytest

from radswift.errors import Conflict
from radswift.services.ioh.core.claims import PushClaims


def test_claimed_names_are_hidden_until_the_push_ends() -> None:
    claims = PushClaims()
    ticket = claims.begin("k")
    claims.claim(ticket, "input/a")
    assert claims.hidden("k") == {"input/a"} and claims.busy("k")
    assert claims.hidden("other") == frozenset()
    claims.end(ticket)
    assert claims.hidden("k") == frozenset() and not claims.busy("k")


def test_two_pushes_cannot_claim_one_name_but_may_share_a_key() -> None:
    claims = PushClaims()
    first, second = claims.begin("k"), claims.begin("k")
    claims.claim(first, "input/a")
    claims.claim(second, "input/b")
    with pytest.raises(Conflict):
        claims.claim(second, "input/a")
    claims.end(first)
    claims.claim(second, "input/a")  # free again once the first push has ended
    assert claims.hidden("k") == {"input/a", "input/b"}


def test_a_replacing_push_runs_alone() -> None:
    claims = PushClaims()
    running = claims.begin("k")
    with pytest.raises(Conflict):
        claims.begin("k", exclusive=True)
    claims.end(running)
    claims.end(claims.begin("k", exclusive=True))


def test_cleanup_runs_only_for_the_keys_last_push() -> None:
    claims = PushClaims()
    first, second = claims.begin("k"), claims.begin("k")
    ran: list[str] = []
    assert not claims.if_alone(first, lambda: ran.append("first"))
    claims.end(second)
    assert claims.if_alone(first, lambda: ran.append("first"))
    assert ran == ["first"]


def test_nothing_starts_beside_an_exclusive_push() -> None:
    claims = PushClaims()
    alone = claims.begin("k", exclusive=True)
    for exclusive in (False, True):
        with pytest.raises(Conflict) as caught:
            claims.begin("k", exclusive=exclusive)
        assert caught.value.reason == "key_busy"
    claims.begin("other")  # other keys are not affected
    claims.end(alone)
    claims.end(claims.begin("k"))


def test_a_name_claimed_without_hiding_stays_readable_but_taken() -> None:
    claims = PushClaims()
    ticket = claims.begin("k")
    claims.claim(ticket, "input/.radswift-bundle.tar", hide=False)
    assert claims.hidden("k") == frozenset()
    with pytest.raises(Conflict):
        claims.claim(claims.begin("k"), "input/.radswift-bundle.tar")


def test_hiding_the_old_names_shows_the_new_ones_in_the_same_step() -> None:
    claims = PushClaims()
    ticket = claims.begin("k", exclusive=True)
    claims.claim(ticket, "input/new")
    assert claims.hidden("k") == {"input/new"}
    claims.hide(ticket, ["input/old"], show=set(ticket.names))
    assert claims.hidden("k") == {"input/old"}
    claims.end(ticket)
    assert claims.hidden("k") == frozenset() and not claims.busy("k")
