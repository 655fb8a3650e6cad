"""The demo's storage: when the local Swift cannot start, the demo says why and goes on
with a local store (radswift.dev.demo.runner.demo_storage)."""

from __future__ import annotations

from pathlib import Path

from radswift.dev.demo.runner import demo_storage


def test_a_swift_that_cannot_start_is_named_and_the_local_store_is_used(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # Swift's venv cannot be made under a file
    said: list[str] = []
    with demo_storage(tmp_path / "demo", blocker / "venv", said.append) as storage:
        assert storage.environ is None and storage.credentials is None
        assert storage.description == f"the local store {tmp_path / 'demo' / 'store'}"
    assert said[-1].startswith("Swift cannot start here (")
    assert said[-1].endswith("the demo goes on with a local store")
