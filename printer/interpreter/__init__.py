r"""An incremental ESC/POS interpreter: the bytes a printer received, read back as paper.

:class:`EscPosInterpreter` consumes a byte stream in chunks of any size (a command may be
split anywhere; partial commands are buffered), answers status requests from a
:class:`~printer.state.PrinterState` the way an Epson TM printer does, and builds a
:class:`~printer.roll.Roll` of :class:`~printer.roll.Receipt` s. :func:`parse` does it in
one call. Malformed input never raises in the default (lenient) mode: it becomes a
warning ``(offset, reason)`` with the absolute byte offset of the command, and the stream
goes on; ``strict=True`` raises :class:`~printer.errors.EscPosError` instead.

Supported commands (everything python-escpos 3.1 emits, plus the common Epson ones):

==========================  =================================================================
command                     effect
==========================  =================================================================
text bytes                  decoded with the selected code page (or GB18030 in FS & mode),
                            wrapped at the print width (``columns`` x 12 dots, font A = 12
                            dots, other fonts 9 dots, x width multiplier)
LF                          print the line (an empty line if nothing is buffered)
HT                          advance to the next tab stop (default every 8 characters)
CR, NUL, CAN, VT, BEL       ignored (CR: Epson's default for USB/Ethernet interfaces)
FF                          print the buffered line, if any
ESC @                       initialise: clear the line buffer, restore power-on modes
ESC E / G / - / { / V / r   bold / double-strike / underline / upside-down / 90 degree
                            rotation / colour
ESC ! n, GS ! n             print mode (font, bold, double height/width, underline); size
ESC M n                     font A, B, C ...
GS B n                      white/black reverse (invert)
ESC a n                     alignment (only at the beginning of a line, as on Epson)
ESC t n                     code page, decoded with python-escpos's tables (capabilities
                            ``python_encode`` codecs or ``data`` tables)
ESC R n                     international character set: the twelve bytes 0x23 0x24 0x40
                            0x5B-0x5E 0x60 0x7B-0x7E as Epson's tables say (sets 0-15;
                            16, 17, 66-75, 82: ASCII, with a notice)
ESC %, ESC &, ESC ?         user-defined characters: parsed, not drawn
ESC SP n, ESC $, ESC \       character spacing, absolute / relative position (as spaces)
ESC D n.. NUL               tab stops
GS L, GS W                  left margin, print area width, in dots: they change the wrap
                            width (only at the beginning of a line); GS P (units) ignored
ESC 2, ESC 3/A/+ n          line spacing (kept in the modes; no effect on the text)
ESC d n, ESC J n            print and feed n lines / n dots (a Feed element)
ESC e n, ESC K n            print and reverse feed (the reverse motion is not modelled)
GS V m [n], ESC i, ESC m    full / partial cut (GS V m: 0, 48 full; 1, 49 partial; 65/66,
                            97/98, 103/104 with a feed); ends the receipt. Ignored, with a
                            warning, in the middle of a line, as on Epson printers.
GS h/w/H/f n                barcode height, module width, HRI position, HRI font
GS k m d.. NUL, GS k m n d  barcode, function A (m = 0..6) and B (m = 65..79)
GS ( k                      2D symbols: QR (cn 49: model, size, error correction, store,
                            print), PDF417, MaxiCode, DataBar, Aztec, DataMatrix (store and
                            print: a Code2D element)
GS v 0 m x y d..            raster bit image (python-escpos ``image()``, ``qr(native=False)``)
ESC * m n d..               column bit image; consecutive stripes merge into one Image
GS ( L / GS 8 L             graphics: store raster (fn 112) and print (fn 50); print NV
                            graphics (fn 69) and download graphics (fn 85) as Logo
GS * x y d.., GS / m        define / print a downloaded bit image
FS p n m, FS q n ..         print NV bit image (a Logo); define NV images (skipped)
ESC p m t1 t2, DLE DC4 1    cash-drawer pulse (pin 2 or 5)
ESC B, ESC ( A, DLE DC4 3   buzzer
FS &, FS .                  enter / leave double-byte mode, decoded as GB18030 (1, 2 or
                            4 bytes a character; 2 columns wide). ``chinese_mode=True``
                            makes it the power-on default, as on Chinese-market printers
                            (python-escpos writes Chinese text as raw GB18030 without FS &)
FS ! - S W C 2 ?, FS ( x    double-byte modes and definitions: parsed, not drawn
ESC =                       select the printer (bit 0 clear: ignore everything but ESC =
                            and real-time commands, as a daisy-chained display is addressed)
DLE EOT n (1..4)            real-time status: printer, offline cause, error cause, paper
GS r n (1, 2, 49, 50)       paper sensor, drawer status; ESC u / ESC v: the same, older
DLE ENQ, DLE DC4 2/7/8      real-time requests: parsed, not emulated
other known commands        GS a, GS I, GS ( x, ESC c, ESC L/S/T/W/U, GS b/|/E/T/P ...:
                            accepted and ignored; those that would answer (ASB, printer
                            ID) are recorded as warnings, since no answer is sent
==========================  =================================================================

What reaches paper follows the printer: text is printed when a line ends (LF, a feed, or
the wrap); data left in the line buffer when the stream ends is *not* on paper (it is
reported as a warning). Real-time commands are recognised only between commands, never
inside another command's data. Barcodes, 2D codes and images print the buffered line
first. While the printer is blocked (cover open, paper out, offline, error) commands still
change its modes, and status requests are answered, but nothing is printed, cut, kicked or
sounded; the first byte of each outage gets a warning naming the cause ("paper out"), and
running out of paper ends the receipt in progress, truncated. Bytes that arrive while the
printer has no power are dropped and counted; losing power ends the receipt in progress,
truncated, and restores the power-on modes.

The package is split by concern: :mod:`~printer.interpreter.dispatch` (the main loop, the
command table and the commands that move paper), :mod:`~printer.interpreter.core` (the
stream, the roll being built, warnings, hardware conditions and modes),
:mod:`~printer.interpreter.text` and :mod:`~printer.interpreter.codepages` (text, styles,
code pages, double-byte text), :mod:`~printer.interpreter.graphics` (bit images, raster
and stored graphics), :mod:`~printer.interpreter.symbols` (barcodes, QR and other 2D
codes) and :mod:`~printer.interpreter.status` (status requests and replies, drawer,
buzzer).

Memory is bounded: a command declaring more than ``max_command_bytes`` (4 MiB) of data is
skipped without being buffered, with a warning; at most ``max_warnings`` warnings are kept
(the rest are counted).
"""

from __future__ import annotations

from printer.interpreter.codepages import CodePages
from printer.interpreter.codes import MAX_COMMAND_BYTES
from printer.interpreter.dispatch import EscPosInterpreter, parse

__all__ = ["MAX_COMMAND_BYTES", "CodePages", "EscPosInterpreter", "parse"]
