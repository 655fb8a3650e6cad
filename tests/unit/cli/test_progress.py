"""The transfer bar: binary units for sizes and rates alike, and no silent wait at 100%."""

from __future__ import annotations

import io

from rich.console import Console

from radswift.cli.progress import BarProgress, rich_bar


def test_sizes_and_rates_share_binary_units_and_a_sent_upload_says_it_is_storing() -> None:
    out = io.StringIO()
    bar = rich_bar(Console(file=out, force_terminal=True, width=160))
    with bar:
        task = bar.add_task("push k", total=None, files="")
        progress = BarProgress(bar, task, "push k", after_sent="storing...")
        progress.set_total(1, 300 * 2**20)
        progress.advance(150 * 2**20)
        assert "storing" not in bar.tasks[0].description
        progress.advance(150 * 2**20)
        assert bar.tasks[0].description == "push k storing..."
        bar.refresh()
    drawn = out.getvalue()
    assert "MiB" in drawn and "MB/s" not in drawn and "kB/s" not in drawn
