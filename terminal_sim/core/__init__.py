"""The terminal core: a sans-I/O state machine. Events in, effects out, no I/O."""

from terminal_sim.core.effects import (
    CancelTimer,
    Effect,
    JournalEntry,
    PrintSlip,
    QueueReversal,
    ReadCard,
    SendToHost,
    StartTimer,
    WriteJournal,
)
from terminal_sim.core.events import (
    CardRead,
    Event,
    HostReplied,
    PowerLost,
    PowerOn,
    PrintDone,
    RefundRequested,
    ReprintRequested,
    SaleRequested,
    SendFailed,
    TimerExpired,
    VoidRequested,
)
from terminal_sim.core.lifecycle import STATES, TRANSITIONS, TerminalCore, TerminalFleet
from terminal_sim.core.profiles import PROFILES, Profile, get_profile
from terminal_sim.core.slips import Slip

__all__ = [
    "PROFILES",
    "STATES",
    "TRANSITIONS",
    "CancelTimer",
    "CardRead",
    "Effect",
    "Event",
    "HostReplied",
    "JournalEntry",
    "PowerLost",
    "PowerOn",
    "PrintDone",
    "PrintSlip",
    "Profile",
    "QueueReversal",
    "ReadCard",
    "RefundRequested",
    "ReprintRequested",
    "SaleRequested",
    "SendFailed",
    "SendToHost",
    "Slip",
    "StartTimer",
    "TerminalCore",
    "TerminalFleet",
    "TimerExpired",
    "VoidRequested",
    "WriteJournal",
    "get_profile",
]
