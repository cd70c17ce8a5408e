"""One TCP connection of the acquirer server, as an asyncio ``Protocol``.

No task, stream or future per message: :meth:`HostConnection.data_received` cuts the
bytes into frames and hands each to the server's
:class:`~terminal_sim.acquirer.durable.GroupCommit` at once (processed in the ledger's
open group transaction), which delivers the replies with :meth:`HostConnection.send`
once their group is committed (and synced). The connection keeps what the server needs
to be fair and to stay bounded:

* **owed**: messages handed over whose reply is not yet delivered. At most
  :data:`MAX_OWED` at once; frames read beyond that wait in ``backlog`` (at most one
  read's worth: reading stops while anything waits there).
* **reading stops** while replies are owed beyond that bound, while the transport's
  write buffer is above its high-water mark (``pause_writing``: a peer that does not read
  its replies), and for good after end of stream, a frame error or shutdown. Then the
  connection closes as soon as everything read is answered.
* **idleness** is seen by the server's periodic sweep (:meth:`idle_for`), not by a
  timer per message: ``active`` is set on every read and on ``resume_writing``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, cast

from terminal_sim.iso.framing import Frame

if TYPE_CHECKING:
    from terminal_sim.acquirer.server import AcquirerServer

#: Replies a connection may be owed at once before it stops reading (pipelining peers).
MAX_OWED = 64


class HostConnection(asyncio.Protocol):
    """The server's side of one terminal's connection."""

    def __init__(self, server: AcquirerServer) -> None:
        self.server = server
        self.decoder = server.framing.decoder(max_size=server.max_frame)
        self._take = server.group.take
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.owed = 0
        self.backlog: deque[Frame] = deque()
        self.out: list[bytes] = []  # replies of the group being delivered
        self.ending = False  # read nothing more; close once everything read is answered
        self.lost = False
        self.closed = False  # close() called: the sweep looks no more
        self.write_blocked = False
        self.active = True  # read or written since the sweep last looked
        self.quiet_since = 0.0
        self._reading = True

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a TCP transport (uvloop's does not derive from asyncio.Transport)
        self.transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        self.peer = (f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple)
                     else str(peername))
        self.server.connection_opened(self)

    def data_received(self, data: bytes) -> None:
        if self.ending:  # read after a frame error or shutdown asked to stop: ignored
            return
        self.active = True
        frames, error = self.decoder.split_frames(data)
        if frames:
            self.backlog.extend(frames)
            self.pump()
        if error is not None:
            self.server.frame_error(self, error)
            self.end()
        else:
            self._settle()

    def eof_received(self) -> bool:
        self.end()
        return True  # keep the transport: replies still owed are written, then it closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.backlog.clear()  # read but never handed over: not processed, not answered
        self.server.connection_closed(self, exc)

    def pause_writing(self) -> None:
        self.write_blocked = True
        self._pause()

    def resume_writing(self) -> None:
        self.write_blocked = False
        self.active = True
        self.pump()
        self._settle()

    # -- the server's side ---------------------------------------------------------------

    def pump(self) -> None:
        """Hand frames waiting in the backlog to the server, within the bound."""
        backlog, take = self.backlog, self._take
        while backlog and self.owed < MAX_OWED and not self.write_blocked and not self.lost:
            self.owed += 1
            take(self, backlog.popleft())

    def end(self, *, shutdown: bool = False) -> None:
        """Read nothing more (end of stream, frame error, shutdown); close once answered."""
        if self.ending:
            return
        self.ending = True
        if self.decoder.pending:
            self.server.truncated(self, shutdown=shutdown)
        self._pause()
        self._settle()

    def send(self) -> None:
        """Write the replies delivered to ``out``; then go on with the backlog."""
        out = self.out
        if out and not self.lost and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
            self.server.stats.replies += len(out)
        out.clear()
        self.pump()
        self._settle()

    def idle_for(self, now: float) -> float:
        """Seconds the connection has been idle as the sweep saw it (0 when it was not).

        Waiting for the server (replies owed, frames in the backlog) is not idleness,
        unless the replies wait for the peer to read them.
        """
        busy = (self.owed or self.backlog) and not self.write_blocked
        if self.active or busy:
            self.active = False
            self.quiet_since = now
            return 0.0
        return now - self.quiet_since

    def close(self, *, abort: bool = False) -> None:
        """Close (after the buffered replies) or abort (dropping them) the connection."""
        self.closed = True
        transport = self.transport
        if transport is not None and not self.lost:
            if abort:
                transport.abort()
            else:
                transport.close()

    # -- reading on and off --------------------------------------------------------------

    def _settle(self) -> None:
        if self.ending:
            if not self.backlog and not self.owed:
                self.close()
        elif not self._reading and not self.backlog and self.owed < MAX_OWED \
                and not self.write_blocked:
            self._reading = True
            if self.transport is not None and not self.lost:
                self.transport.resume_reading()
        elif self.backlog or self.owed >= MAX_OWED:
            self._pause()

    def _pause(self) -> None:
        if self._reading:
            self._reading = False
            if self.transport is not None and not self.lost:
                self.transport.pause_reading()

