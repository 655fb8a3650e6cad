"""Buffering pushed entries: memory within the budget, disk beyond, sizes enforced."""

from __future__ import annotations

import io

import pytest

from radswift.errors import UnsafeArchive
from radswift.services.ioh.core.resources import MemoryBudget
from radswift.services.ioh.core.spool import ChunkReader, spool


def test_small_entries_use_the_budget_and_give_it_back() -> None:
    budget = MemoryBudget(100)
    held = spool([b"abc", b"de"], size_hint=5, small=10, budget=budget, account=lambda n: None)
    assert isinstance(held.body, io.BytesIO) and budget.used == 5
    assert held.body.read() == b"abcde" and held.size == 5
    held.close()
    assert budget.used == 0


def test_without_budget_an_entry_spools_to_disk() -> None:
    budget = MemoryBudget(4)
    held = spool([b"abcde"], size_hint=5, small=10, budget=budget, account=lambda n: None)
    assert not isinstance(held.body, io.BytesIO) and budget.used == 0
    assert held.body.read() == b"abcde"
    held.close()


def test_an_entry_longer_than_declared_is_refused_and_releases_its_budget() -> None:
    budget = MemoryBudget(100)
    with pytest.raises(UnsafeArchive):
        spool([b"abc", b"def"], size_hint=4, small=10, budget=budget, account=lambda n: None)
    assert budget.used == 0


def test_every_chunk_is_accounted_and_the_account_may_stop_it() -> None:
    seen: list[int] = []

    def account(n: int) -> None:
        seen.append(n)
        if sum(seen) > 4:
            raise UnsafeArchive("too big", too_large=True)

    with pytest.raises(UnsafeArchive):
        spool(
            [b"ab", b"cd", b"ef"], size_hint=None, small=0, budget=MemoryBudget(0), account=account
        )
    assert seen == [2, 2, 2]


def test_chunk_reader_cuts_any_chunking_into_exact_pieces() -> None:
    reader = ChunkReader([b"abcdefg", b"h", b"", b"ijklmnop"])
    assert b"".join(reader.take(5)) == b"abcde"
    assert b"".join(reader.take(5)) == b"fghij"
    assert not reader.at_eof()
    assert b"".join(reader.take(100)) == b"klmnop"
    assert reader.at_eof() and b"".join(reader.take(5)) == b""
