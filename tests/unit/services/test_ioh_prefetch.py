"""The pull prefetcher serves every object in order and returns all memory it borrowed,
whether memory is plentiful or short (against the real LocalStore)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from radswift.services.ioh.core.prefetch import Prefetcher
from radswift.services.ioh.core.resources import MemoryBudget
from radswift.store.local import LocalStore


@pytest.mark.parametrize("budget_bytes", [0, 2500, 10**9])
def test_every_object_in_order_and_the_budget_comes_back(tmp_path: Path, budget_bytes: int) -> None:
    store = LocalStore(tmp_path / "store")
    store.ensure_container("k")
    blobs = {f"o/{i:02d}": bytes([i]) * (1000 + i) for i in range(20)}
    blobs["o/99-big"] = b"B" * 50_000
    for name, data in blobs.items():
        store.put_object("k", name, io.BytesIO(data), len(data))
    infos = list(store.list_objects("k"))
    budget = MemoryBudget(budget_bytes)
    seen: list[int] = []
    with ThreadPoolExecutor(4) as pool:
        fetcher = Prefetcher(
            store,
            "k",
            infos,
            pool=pool,
            window=5000,
            ahead=3,
            small=10_000,
            budget=budget,
            on_bytes=seen.append,
        )
        fetcher.start()
        got = {info.name: b"".join(fetcher.chunks(info)) for info in infos}
        fetcher.close()
    assert got == blobs
    assert sum(seen) == sum(len(b) for b in blobs.values())
    assert budget.used == 0
    store.close()


def test_closing_early_returns_the_budget(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.ensure_container("k")
    for i in range(10):
        store.put_object("k", f"o{i}", io.BytesIO(b"x" * 100), 100)
    infos = list(store.list_objects("k"))
    budget = MemoryBudget(10**6)
    with ThreadPoolExecutor(2) as pool:
        fetcher = Prefetcher(
            store,
            "k",
            infos,
            pool=pool,
            window=10**6,
            ahead=8,
            small=1000,
            budget=budget,
            on_bytes=lambda n: None,
        )
        fetcher.start()
        assert budget.used > 0
        b"".join(fetcher.chunks(infos[0]))
        fetcher.close()
    assert budget.used == 0
    store.close()
