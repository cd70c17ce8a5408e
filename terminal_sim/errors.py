"""The one exception tree of terminal-sim.

Every error the library raises on purpose derives from :class:`TerminalSimError`;
errors of the libraries underneath (PyYAML, pyiso8583, sqlite3, python-escpos,
pyserial) are translated at the edge with ``raise ... from`` so callers catch ours
and keep the original as ``__cause__``::

    TerminalSimError
    ├── ScenarioError          a scenario file is malformed (file, line, field)
    ├── ConfigurationError     a bad option: unknown profile, fault, printer URL ...
    ├── ProtocolError          a byte stream from outside cannot be understood
    │   ├── FrameError         a 2-byte length-framed message is cut or oversize
    │   └── Iso8583Error       an ISO 8583 message does not decode/encode (field, offset)
    ├── JournalError           the terminal journal refused an operation
    │   └── StoreUnreadable    a store file to be read back is missing or cannot be opened
    ├── PowerLost              raised inside the simulation when a power dip cuts a step
    ├── SimulationError        the runtime broke its own rules: time ran backwards, a run
    │                          never settled, a harness process did not start
    └── UsageError             an object used in a state that does not allow it: a closed
                               link, a server that is not started

The printer package is a device package below terminal-sim with its own tree
(:mod:`printer.errors`: ``PrinterError``, ``PrinterConfigurationError``, ``EscPosError``,
``PrinterUnavailable``); :class:`EscPosError` is re-exported here so that
``from terminal_sim.errors import EscPosError`` keeps working.

The CLI maps them to exit codes: ``ScenarioError`` and ``ConfigurationError`` (and the
printer's ``PrinterConfigurationError``) give 2.
"""

from __future__ import annotations

from printer.errors import EscPosError

__all__ = [
    "ConfigurationError",
    "EscPosError",
    "FrameError",
    "Iso8583Error",
    "JournalError",
    "PowerLost",
    "ProtocolError",
    "ScenarioError",
    "TerminalSimError",
]


class TerminalSimError(Exception):
    """Base class of every error terminal-sim raises on purpose."""


class ScenarioError(TerminalSimError):
    """A scenario file is malformed; the message names the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str, reason: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {reason}")


class ConfigurationError(TerminalSimError):
    """An option is not one we know; the message says what is accepted."""


class ProtocolError(TerminalSimError):
    """A byte stream from outside the terminal cannot be understood.

    ``offset`` is the byte offset of the problem within the stream (or message),
    ``reason`` a short human explanation.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{reason}{where}")


class FrameError(ProtocolError):
    """A length-prefixed frame is truncated, empty or larger than allowed."""


class Iso8583Error(ProtocolError):
    """An ISO 8583 message could not be encoded or decoded.

    ``field`` names the data element (``"t"`` for the MTI, ``"p"`` the bitmap, ``"39"`` ...);
    ``partial`` holds the fields decoded before the failure (a host answers a format
    error to the terminal and STAN it could read).
    """

    def __init__(
        self,
        reason: str,
        offset: int | None = None,
        field: str | None = None,
        partial: dict[str, str] | None = None,
    ) -> None:
        self.field = field
        self.partial = dict(partial or {})
        prefix = f"field {field}: " if field is not None else ""
        super().__init__(prefix + reason, offset)


class JournalError(TerminalSimError):
    """The terminal journal refused an operation (closed store, unknown record ...)."""


class StoreUnreadable(JournalError):
    """A store file to be read back (a run's artifact) is missing or SQLite cannot open it."""


class PowerLost(TerminalSimError):
    """Power was cut at a crash point; the step in progress did not complete."""

    def __init__(self, crash_point: str, *, reboot_after_ms: int | None = None,
                 keeps_unsynced: bool = False) -> None:
        self.crash_point = crash_point
        self.reboot_after_ms = reboot_after_ms
        #: a process kill, not a power loss: the OS keeps what SQLite committed
        self.keeps_unsynced = keeps_unsynced
        super().__init__(f"power lost at {crash_point}")


class UsageError(TerminalSimError):
    """An object was used in a state that does not allow it (a closed link, a server that
    is not started): a bug of the caller, named so that it is not mistaken for bad input."""


class SimulationError(TerminalSimError):
    """The runtime could not go on: virtual time would run backwards, a run did not settle
    within its step budget, a process the harness started did not come up. A bug of the
    simulator or its environment, not of the scenario."""
