"""The event loop of the live host: uvloop when installed, else asyncio's own.

uvloop (the ``fast`` extra: ``pip install 'terminal-sim[fast]'``, Linux and macOS) runs
the same server code on libuv; only ``pos-sim acquirer serve`` uses it, simulated runs
never start an event loop. ``--loop asyncio`` keeps asyncio's loop where uvloop is
installed.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable

from terminal_sim.errors import ConfigurationError

#: ``auto``: uvloop when it can be imported, else asyncio.
LOOPS = ("auto", "asyncio", "uvloop")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(name: str = "auto") -> tuple[str, LoopFactory | None]:
    """(the loop's name, a factory for ``asyncio.Runner``; ``None``: asyncio's default)."""
    if name not in LOOPS:
        raise ConfigurationError(f"unknown event loop {name!r}; known: {', '.join(LOOPS)}")
    if name == "asyncio":
        return "asyncio", None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError as exc:
        if name == "uvloop":
            raise ConfigurationError("uvloop is not installed: pip install uvloop "
                                     "(or terminal-sim[fast])") from exc
        return "asyncio", None
    factory: LoopFactory = uvloop.new_event_loop
    return "uvloop", factory
