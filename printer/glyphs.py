"""Glyphs: characters and runs of text as ink masks, from X11 bitmap fonts.

What :mod:`printer.render` draws text with. Glyphs come from the X11 bitmap fonts shipped
in this package (``printer/fonts/``, licences in ``printer/fonts/LICENSES.md``), read by
:mod:`printer.pcf`: ``12x24`` (font A), ``9x18`` (font B), ``10x20`` (characters beyond
Latin-1: Greek, Cyrillic, box drawing ...), ``gb24st`` / ``gb16st`` (GB 2312 Song, double-
byte characters, two cells wide). No font is read from the system's font folders, so a
receipt gives the same dots on every machine. Should the package's fonts be missing (a
damaged installation), Latin text falls back to Pillow's built-in bitmap font and other
characters to an empty box; :func:`font_report` says so. Masks are cached; callers never
modify them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageOps

from printer.errors import PrinterConfigurationError
from printer.pcf import PcfFont, font_code
from printer.roll import Style

__all__ = ["CELLS", "FONT_DIR", "clear_caches", "font_dirs", "font_report", "run_mask"]

CELLS = {0: (12, 24, 22), 1: (9, 17, 14)}  # font: cell width, height, baseline row

_FONT_FILES = {
    "a": ("12x24",),
    "a-extra": ("10x20",),
    "b": ("9x18",),
    "wide-a": ("gb24st",),
    "wide-b": ("gb16st",),
}
FONT_DIR = Path(__file__).resolve().parent / "fonts"  # the package's fonts, nothing else


def font_dirs() -> list[Path]:
    """The folders searched for fonts: the package's own (``printer/fonts``) only."""
    return [FONT_DIR]


@cache
def _fonts() -> dict[str, tuple[PcfFont, ...]]:
    found: dict[str, tuple[PcfFont, ...]] = {}
    dirs = font_dirs()
    for role, names in _FONT_FILES.items():
        fonts = []
        for name in names:
            for folder in dirs:
                path = next((folder / f"{name}{ext}" for ext in (".pcf.xz", ".pcf.gz", ".pcf")
                             if (folder / f"{name}{ext}").is_file()), None)
                if path is not None:
                    try:
                        fonts.append(PcfFont(path))
                    except PrinterConfigurationError:
                        continue
                    break
        found[role] = tuple(fonts)
    return found


def font_report() -> dict[str, list[str]]:
    """The font files in use for each role (``a``, ``b``, ``wide-a`` ...); empty lists mean
    the fallbacks (Pillow's built-in font, boxes). ``complete`` is ``["yes"]`` when every
    role has its first-choice font, so drawings match the golden images."""
    fonts = _fonts()
    report = {role: [str(f.path) for f in found] for role, found in fonts.items()}
    complete = all(
        len(fonts[role]) == len(names)
        and [f.path.name.split(".")[0] for f in fonts[role]] == list(names)
        for role, names in _FONT_FILES.items()
    )
    report["complete"] = ["yes" if complete else "no"]
    return report


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _bitmap(width: int, height: int, rows: Sequence[int]) -> PILImage.Image:
    row_bytes = (width + 7) // 8
    pad = row_bytes * 8 - width
    data = b"".join((row << pad).to_bytes(row_bytes, "big") for row in rows)
    return PILImage.frombytes("1", (width, height), data).convert("L")


def _place(cell: PILImage.Image, fonts: Iterable[PcfFont], char: str, baseline: int) -> bool:
    for font in fonts:
        code = font_code(char, font.charset)
        glyph = font.glyph(code) if code is not None else None
        if glyph is None or not glyph.height:
            continue
        if glyph.width:
            x = (cell.width - glyph.advance) // 2 + glyph.left
            y = baseline - font.ascent + glyph.top
            cell.paste(_bitmap(glyph.width, glyph.height, glyph.rows), (x, y))
        return True
    return False


@lru_cache(maxsize=16384)
def _cell(char: str, font: int) -> PILImage.Image:
    """One character as an ink mask ('L', 255 = ink) filling its cell (two when wide)."""
    width, height, baseline = CELLS[0 if font == 0 else 1]
    wide = _is_wide(char)
    cell = PILImage.new("L", (width * 2 if wide else width, height), 0)
    if not char.strip():
        return cell
    fonts = _fonts()
    if wide:
        chain = fonts["wide-a" if font == 0 else "wide-b"]
    else:
        chain = fonts["a"] + fonts["a-extra"] if font == 0 else fonts["b"] + fonts["a-extra"]
    if _place(cell, chain, char, baseline):
        return cell
    if not wide and ord(char) < 0x100 and _pillow_glyph(cell, char):
        return cell
    # a character no font has: an empty box, as printers show an undefined character
    ImageDraw.Draw(cell).rectangle((1, 3, cell.width - 2, height - 3), outline=255)
    return cell


def _pillow_glyph(cell: PILImage.Image, char: str) -> bool:
    from PIL import ImageFont

    loader = getattr(ImageFont, "load_default_imagefont", None)
    font = loader() if loader is not None else ImageFont.load_default()
    small = PILImage.new("L", (6, 12), 0)
    ImageDraw.Draw(small).text((0, 0), char, font=font, fill=255)
    if small.getbbox() is None:
        return False
    cell.paste(small.resize(cell.size, PILImage.Resampling.NEAREST), (0, 0))
    return True


@lru_cache(maxsize=4096)
def run_mask(text: str, style: Style) -> PILImage.Image:
    """A run of text in one style as an ink mask (callers never modify it)."""
    font = 0 if style.font == 0 else 1
    cells = [_cell(char, font) for char in text]
    if style.rotated:
        cells = [c.transpose(PILImage.Transpose.ROTATE_270).resize(
            c.size, PILImage.Resampling.NEAREST) for c in cells]
    height = CELLS[font][1]
    mask = PILImage.new("L", (max(1, sum(c.width for c in cells)), height), 0)
    x = 0
    for c in cells:
        mask.paste(c, (x, 0))
        x += c.width
    if style.bold or style.double_strike:
        shifted = PILImage.new("L", mask.size, 0)
        shifted.paste(mask, (1, 0))
        mask = ImageChops.lighter(mask, shifted)
    if style.underline:
        ImageDraw.Draw(mask).rectangle(
            (0, height - style.underline, mask.width - 1, height - 1), fill=255)
    if style.width > 1 or style.height > 1:
        mask = mask.resize((mask.width * style.width, height * style.height),
                           PILImage.Resampling.NEAREST)
    if style.upside_down:
        mask = mask.transpose(PILImage.Transpose.ROTATE_180)
    if style.invert:
        mask = ImageOps.invert(mask)
    return mask


def clear_caches() -> None:
    """Forget the fonts found and every glyph drawn (after the font folders change)."""
    for cached in (_fonts, _cell, run_mask):
        cached.cache_clear()
