"""The one-line summary of cp, push and pull: counts with correct plurals, binary units."""

from __future__ import annotations

from radswift.cli.summary import human_size, plural, summary_line


def test_counts_are_spelled_with_their_plurals() -> None:
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert plural(1, "directory") == "1 directory" and plural(3, "directory") == "3 directories"


def test_a_summary_names_directories_apart_from_files_in_binary_units() -> None:
    line = summary_line(files=1, directories=1, nbytes=3 * 2**20, seconds=2.0)
    assert line == "1 file, 1 directory, 3.0 MiB in 2.0 s (1.5 MiB/s)"
    assert summary_line(files=2, directories=0, nbytes=10, seconds=None) == "2 files, 10 B"
    assert human_size(1536) == "1.5 KiB"
