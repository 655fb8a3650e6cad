"""A series' frames as one PNG: evenly spaced frames, scaled down, on a grid.

Grey frames are kept as float thumbnails (in the units of the modality LUT, HU for CT)
until the whole series is seen, then windowed together from the 0.5th to the 99.5th
percentile of those thumbnails, so one bright voxel does not wash the montage out
and every tile of a series has the same contrast. Colour frames are 8-bit RGB already.
Frames are never scaled up: a tile is the frame fitted into `tile_size` x `tile_size`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

LOW_PERCENTILE, HIGH_PERCENTILE = 0.5, 99.5


@dataclass(frozen=True, slots=True, kw_only=True)
class MontageInfo:
    """What was written, as summary.json reports it."""

    file: str
    width: int
    height: int
    tiles: int
    grid: tuple[int, int]
    """(columns, rows) of tiles."""
    tile_width: int
    tile_height: int


def frame_indices(total: int, tiles: int) -> list[int]:
    """Up to `tiles` indices spread evenly over `total` frames, first and last included."""
    if total <= 0 or tiles <= 0:
        return []
    if total <= tiles:
        return list(range(total))
    return sorted({round(i * (total - 1) / (tiles - 1)) for i in range(tiles)})


def tile_shape(rows: int, columns: int, tile_size: int) -> tuple[int, int]:
    """(width, height) of a frame fitted into tile_size x tile_size, never enlarged."""
    scale = min(1.0, tile_size / max(rows, columns))
    return max(1, round(columns * scale)), max(1, round(rows * scale))


def thumbnail(frame: Any, tile_size: int) -> Image.Image:
    """A frame (rows x columns grey values, or rows x columns x 3 RGB) scaled to a tile."""
    array = np.asarray(frame)
    width, height = tile_shape(array.shape[0], array.shape[1], tile_size)
    if array.ndim == 3:
        image = Image.fromarray(_to_uint8_rgb(array))
    else:
        image = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32))
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return image


def _to_uint8_rgb(array: Any) -> Any:
    """RGB of any integer depth as 8 bits per sample."""
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array[..., :3])
    top = max(float(array.max()), 1.0)
    return np.ascontiguousarray((array[..., :3] * (255.0 / top)).clip(0, 255).astype(np.uint8))


def compose(tiles: list[Image.Image], *, invert: bool = False) -> Image.Image:
    """The tiles on a grid of ceil(sqrt(n)) columns, each centred in a cell of the
    largest tile's size; grey if every tile is grey, else RGB. `invert` for MONOCHROME1."""
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    cell_w = max(t.width for t in tiles)
    cell_h = max(t.height for t in tiles)
    grey = [t for t in tiles if t.mode == "F"]
    low, high = _window(grey)
    colour = len(grey) != len(tiles)
    canvas = Image.new("RGB" if colour else "L", (columns * cell_w, rows * cell_h))
    for index, tile in enumerate(tiles):
        shown = _to_8bit(tile, low, high, invert) if tile.mode == "F" else tile
        if colour and shown.mode != "RGB":
            shown = shown.convert("RGB")
        x = (index % columns) * cell_w + (cell_w - tile.width) // 2
        y = (index // columns) * cell_h + (cell_h - tile.height) // 2
        canvas.paste(shown, (x, y))
    return canvas


def _window(grey: list[Image.Image]) -> tuple[float, float]:
    if not grey:
        return 0.0, 1.0
    values = np.concatenate([np.asarray(t, dtype=np.float32).ravel() for t in grey])
    low, high = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE])
    return float(low), float(high) if high > low else float(low) + 1.0


def _to_8bit(tile: Image.Image, low: float, high: float, invert: bool) -> Image.Image:
    scaled = (np.asarray(tile, dtype=np.float32) - low) * (255.0 / (high - low))
    pixels = scaled.clip(0, 255).astype(np.uint8)
    return Image.fromarray(255 - pixels if invert else pixels)


def write_montage(tiles: list[Image.Image], path: Path, *, invert: bool) -> MontageInfo:
    """Compose the tiles and save them as PNG at `path`."""
    image = compose(tiles, invert=invert)
    image.save(path, format="PNG", optimize=True)
    columns = math.ceil(math.sqrt(len(tiles)))
    return MontageInfo(
        file=path.name,
        width=image.width,
        height=image.height,
        tiles=len(tiles),
        grid=(columns, math.ceil(len(tiles) / columns)),
        tile_width=max(t.width for t in tiles),
        tile_height=max(t.height for t in tiles),
    )
