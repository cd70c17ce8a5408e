"""Graphics: bit images (ESC *), raster images (GS v 0), stored and downloaded graphics."""

from __future__ import annotations

from functools import cache

from printer.interpreter.codes import _command_name
from printer.interpreter.core import InterpreterCore
from printer.roll import Image, Logo


@cache
def _bit_tables() -> tuple[tuple[bytes, ...], ...]:
    # _bit_tables()[k][j] maps a byte to (0x80 >> j) when its bit k is set, else 0: it moves
    # one bit of a column byte to column j of a raster byte, for bytes.translate.
    return tuple(
        tuple(bytes((0x80 >> j) if (v >> k) & 1 else 0 for v in range(256)) for j in range(8))
        for k in range(8)
    )


def _columns_to_rows(data: bytes, width: int, column_bytes: int) -> tuple[bytes, ...]:
    """Column-format bit image (``column_bytes`` a column, MSB on top) to raster rows."""
    row_bytes = (width + 7) >> 3
    tables = _bit_tables()
    rows = []
    for r in range(column_bytes * 8):
        src = data[r >> 3 :: column_bytes]  # the byte holding row r, for every column
        bit = tables[7 - (r & 7)]
        acc = 0
        for j in range(8):
            part = src[j::8].translate(bit[j])
            if part:
                acc |= int.from_bytes(part.ljust(row_bytes, b"\0"), "big")
        rows.append(acc.to_bytes(row_bytes, "big"))
    return tuple(rows)


def _raster_rows(data: bytes, row_bytes: int, height: int) -> tuple[bytes, ...]:
    return tuple(data[r * row_bytes : (r + 1) * row_bytes] for r in range(height))



class GraphicsCommands(InterpreterCore):
    """Commands that print images and logos."""

    def _graphics_command(self, p: bytes, offset: int, name: str) -> None:
        if len(p) < 2:
            self._malformed(offset, f"{name}: function too short")
            return
        fn = p[1]
        if fn == 112:  # 'p': store raster graphics in the print buffer
            self._store_graphics(p, offset, name)
        elif fn == 50:  # print the graphics buffer
            if self._blocked is not None:
                return
            if self._graphics is None:
                self._notice(offset, f"{name}: print with no graphics stored")
                return
            width, height, rows, bx, by = self._graphics
            self._graphics = None
            self._print_line(offset)
            self._append(Image(offset, width, height, rows, "graphics", bx, by, self._align))
        elif fn == 69 and len(p) >= 4:  # print NV graphics kc1 kc2
            if self._blocked is None:
                self._print_line(offset)
                self._append(Logo(offset, "nv:" + p[2:4].decode("latin-1")))
        elif fn == 85 and len(p) >= 4:  # print download graphics kc1 kc2
            if self._blocked is None:
                self._print_line(offset)
                self._append(Logo(offset, "download:" + p[2:4].decode("latin-1")))
        elif fn == 113:
            self._notice(offset, f"{name}: column-format graphics not emulated")

    def _store_graphics(self, p: bytes, offset: int, name: str) -> None:
        if len(p) < 10:
            self._malformed(offset, f"{name}: graphics header too short")
            return
        tone, bx, by, color = p[2], p[3], p[4], p[5]
        width, height = p[6] | p[7] << 8, p[8] | p[9] << 8
        data = p[10:]
        row_bytes = (width + 7) >> 3
        if tone != 48:
            self._notice(offset, f"{name}: multi-tone graphics not emulated")
            return
        if bx not in (1, 2) or by not in (1, 2) or not 49 <= color <= 52:
            self._malformed(offset, f"{name}: bad graphics parameters")
            return
        if len(data) != row_bytes * height:
            self._malformed(offset, f"{name}: {len(data)} bytes of graphics data for "
                                    f"{width} x {height} dots")
            return
        if color == 49:  # the first colour is what a single-colour roll shows
            self._graphics = (width, height, _raster_rows(data, row_bytes, height), bx, by)

    def _v_raster(self, buf: bytes, i: int, offset: int) -> int:
        # GS v 0 m xL xH yL yH d1..dk, k = x bytes a row times y rows.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        if buf[i + 2] != 0x30:
            self._malformed(offset, f"unknown command {_command_name(buf, i)}")
            return i + 2
        if i + 8 > n:
            return self._wait(8)
        m = buf[i + 3]
        row_bytes, height = buf[i + 4] | buf[i + 5] << 8, buf[i + 6] | buf[i + 7] << 8
        size = row_bytes * height
        if m not in (0, 1, 2, 3, 48, 49, 50, 51):
            self._malformed(offset, f"GS v 0 {m}: mode must be 0..3 or 48..51")
            return i + 8
        if not size:
            self._malformed(offset, "GS v 0: empty raster image")
            return i + 8
        if size > self._max_command:
            return self._oversize(i, offset, 8, size, buf)
        if i + 8 + size > n:
            return self._wait(8 + size)
        if self._blocked is None:
            self._print_line(offset)
            rows = _raster_rows(buf[i + 8 : i + 8 + size], row_bytes, height)
            self._append(Image(offset, row_bytes * 8, height, rows, "raster", 1 + (m & 1),
                               1 + (m >> 1 & 1), self._align))
        return i + 8 + size

    def _v_bit_image(self, buf: bytes, i: int, offset: int) -> int:
        # ESC * m nL nH d1..dk: one stripe of 8 (m = 0, 1) or 24 (m = 32, 33) dots.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        m = buf[i + 2]
        if m not in (0, 1, 32, 33):
            self._malformed(offset, f"ESC * {m}: mode must be 0, 1, 32 or 33")
            return i + 3
        if i + 5 > n:
            return self._wait(5)
        width = buf[i + 3] | buf[i + 4] << 8
        column_bytes = 3 if m & 32 else 1
        size = width * column_bytes
        if not size:
            return i + 5
        if size > self._max_command:
            return self._oversize(i, offset, 5, size, buf)
        if i + 5 + size > n:
            return self._wait(5 + size)
        if self._blocked is None:
            if self._runs:
                self._commit(False)
            rows = _columns_to_rows(buf[i + 5 : i + 5 + size], width, column_bytes)
            scale_x, scale_y = (1 if m & 1 else 2), (1 if m & 32 else 3)
            last = self._elements[-1] if self._elements else None
            if (self._merge_column and isinstance(last, Image) and last.source == "column"
                    and last.width == width and last.scale_x == scale_x
                    and last.scale_y == scale_y):
                self._elements[-1] = Image(last.offset, width, last.height + len(rows),
                                           last.rows + rows, "column", scale_x, scale_y,
                                           last.align)
            else:
                self._append(Image(offset, width, len(rows), rows, "column", scale_x,
                                   scale_y, self._align))
            self._merge_column = True
            self._line_graphics = True
        return i + 5 + size

    def _v_define_downloaded(self, buf: bytes, i: int, offset: int) -> int:
        # GS * x y d1..d(x*y*8): x*8 dots wide, y*8 dots high, column format.
        n = len(buf)
        if i + 4 > n:
            return self._wait(4)
        x, y = buf[i + 2], buf[i + 3]
        size = x * y * 8
        if not size:
            self._malformed(offset, "GS *: empty downloaded bit image")
            return i + 4
        if size > self._max_command:
            return self._oversize(i, offset, 4, size, buf)
        if i + 4 + size > n:
            return self._wait(4 + size)
        rows = _columns_to_rows(buf[i + 4 : i + 4 + size], x * 8, y)
        self._downloaded = (x * 8, y * 8, rows)
        return i + 4 + size

    def _v_define_nv(self, buf: bytes, i: int, offset: int) -> int:
        # FS q n [xL xH yL yH d1..dk]1..n: skipped (stored logos are printed by FS p).
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        j = i + 3
        for _ in range(buf[i + 2]):
            if j + 4 > n:
                return self._wait(j - i + 4)
            size = (buf[j] | buf[j + 1] << 8) * (buf[j + 2] | buf[j + 3] << 8) * 8
            if j + 4 + size - i > self._max_command:
                return self._oversize(i, offset, j + 4 - i, size, buf)
            j += 4 + size
            if j > n:
                return self._wait(j - i)
        return j

    def _v_gs8(self, buf: bytes, i: int, offset: int) -> int:
        # GS 8 L p1 p2 p3 p4 m fn ...: GS ( L with a 4-byte length.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        if buf[i + 2] != 0x4C:
            self._malformed(offset, f"unknown command {_command_name(buf, i)}")
            return i + 2
        if i + 7 > n:
            return self._wait(7)
        size = int.from_bytes(buf[i + 3 : i + 7], "little")
        if size > self._max_command:
            return self._oversize(i, offset, 7, size, buf)
        if i + 7 + size > n:
            return self._wait(7 + size)
        self._graphics_command(buf[i + 7 : i + 7 + size], offset, "GS 8 L")
        return i + 7 + size

    def _c_print_downloaded(self, buf: bytes, i: int, offset: int) -> None:
        m = buf[i + 2]
        if m not in (0, 1, 2, 3, 48, 49, 50, 51):
            self._malformed(offset, f"GS / {m}: mode must be 0..3 or 48..51")
            return
        if self._blocked is not None:
            return
        if self._downloaded is None:
            self._notice(offset, "GS / with no downloaded bit image defined")
            return
        width, height, rows = self._downloaded
        self._print_line(offset)
        self._append(Image(offset, width, height, rows, "downloaded", 1 + (m & 1),
                           1 + (m >> 1 & 1), self._align))

    def _c_nv_image(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if self._blocked is None:
            self._print_line(offset)
            self._append(Logo(offset, f"nv:{n}"))
