"""Status: requests answered from the printer state, drawer pulses and the buzzer."""

from __future__ import annotations

from printer.interpreter.core import InterpreterCore
from printer.roll import Buzz, DrawerPulse


class StatusCommands(InterpreterCore):
    """Status requests (real-time and not), the cash drawer and the buzzer."""

    def _c_status(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if n in (1, 2, 49, 50):
            self._reply(offset, f"GS r {n}", self._state.transmit_status(n))
        elif n in (4, 52):
            self._notice(offset, f"GS r {n} (ink status) not emulated (no answer sent)")
        else:
            self._malformed(offset, f"GS r {n}: status type must be 1, 2, 4, 49, 50 or 52")

    def _c_asb(self, buf: bytes, i: int, offset: int) -> None:
        if buf[i + 2]:
            self._notice(offset, "GS a (automatic status back) not emulated (no answer sent)")

    def _c_transmit_drawer(self, buf: bytes, i: int, offset: int) -> None:
        self._reply(offset, "ESC u", self._state.transmit_status(2))

    def _c_transmit_paper(self, buf: bytes, i: int, offset: int) -> None:
        self._reply(offset, "ESC v", self._state.transmit_status(1))

    def _v_realtime_status(self, buf: bytes, i: int, offset: int) -> int:
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        request = buf[i + 2]
        if 1 <= request <= 4:
            self._reply(offset, f"DLE EOT {request}", self._state.realtime_status(request))
            return i + 3
        if request in (7, 8):  # DLE EOT 7 a / 8 a: ink and peripheral status, 4 bytes
            if i + 4 > n:
                return self._wait(4)
            self._notice(offset, f"DLE EOT {request} not emulated (no answer sent)")
            return i + 4
        self._malformed(offset, f"DLE EOT {request}: status type must be 1..4")
        return i + 3

    def _v_realtime_request(self, buf: bytes, i: int, offset: int) -> int:
        if i + 3 > len(buf):
            return self._wait(3)
        if buf[i + 2] not in (1, 2):
            self._malformed(offset, f"DLE ENQ {buf[i + 2]}: request must be 1 or 2")
        return i + 3

    def _v_realtime_dc4(self, buf: bytes, i: int, offset: int) -> int:
        # DLE DC4 fn ...: 1 = drawer pulse (m t), 2 = power-off sequence, 3 = buzzer,
        # 7 = transmit status, 8 = clear buffers; lengths are fixed per function.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        fn = buf[i + 2]
        size = {1: 5, 2: 5, 3: 8, 7: 4, 8: 10}.get(fn)
        if size is None:
            self._malformed(offset, f"DLE DC4 {fn}: unknown function")
            return i + 3
        if i + size > n:
            return self._wait(size)
        if fn == 1:
            m, t = buf[i + 3], buf[i + 4]
            if m not in (0, 1) or not 1 <= t <= 8:
                self._malformed(offset, "DLE DC4 1: pin must be 0 or 1, time 1..8")
            elif self._blocked is None:
                self._pulses.append(DrawerPulse(offset, 5 if m else 2, t * 100, t * 100))
        elif fn == 3:
            if self._blocked is None:
                self._buzzes.append(Buzz(offset, buf[i + 5], buf[i + 6]))
        else:
            self._notice(offset, f"DLE DC4 {fn} not emulated")
        return i + size

    def _c_drawer(self, buf: bytes, i: int, offset: int) -> None:
        m, t1, t2 = buf[i + 2], buf[i + 3], buf[i + 4]
        if m not in (0, 1, 48, 49):
            self._malformed(offset, f"ESC p {m}: drawer pin must be 0, 1, 48 or 49")
            return
        if self._blocked is None:
            # Epson: on for t1 x 2 ms, off for t2 x 2 ms, and never shorter off than on.
            self._pulses.append(DrawerPulse(offset, 5 if m & 1 else 2, t1 * 2, max(t1, t2) * 2))

    def _c_buzzer(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._buzzes.append(Buzz(offset, buf[i + 2], buf[i + 3]))
