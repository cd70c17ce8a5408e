"""A lab with its control API (and, optionally, a script playing): what ``pos-sim lab``
runs and what the ``pos_lab`` pytest fixture starts for a test."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from terminal_sim.errors import UsageError
from terminal_sim.lab.client import LabClient
from terminal_sim.lab.control import ControlServer
from terminal_sim.lab.lab import Lab, LabConfig


class LabSession:
    """``with LabSession(config) as session: session.client.add_fault(...)``."""

    def __init__(self, config: LabConfig, *, control: tuple[str, int] = ("127.0.0.1", 0),
                 token: str | None = None, script: Path | None = None) -> None:
        self.config = config
        self.lab = Lab(config)
        self.control_address = control
        self.token = token
        self.control: ControlServer | None = None
        self.script_path = script
        self.script: Any = None
        self._player: threading.Thread | None = None
        self._stop = threading.Event()
        if script is not None:
            from terminal_sim.lab.script import load_script

            self.script = load_script(script)  # a bad script fails before anything starts

    def start(self) -> LabSession:
        self.lab.start()
        try:
            self.control = ControlServer(self.lab, host=self.control_address[0],
                                         port=self.control_address[1],
                                         token=self.token).start()
        except Exception:
            self.lab.stop()
            raise
        if self.script is not None:
            from terminal_sim.lab.script import play

            script = self.script
            self._player = threading.Thread(target=play, args=(script, self.lab, self._stop),
                                            name="lab-script", daemon=True)
            self._player.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._player is not None:
            self._player.join(5)
        if self.control is not None:
            self.control.stop()
        self.lab.stop()

    def __enter__(self) -> LabSession:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def client(self) -> LabClient:
        if self.control is None:
            raise UsageError("the lab is not started")
        return LabClient(self.control.address, token=self.token)

    @property
    def acquirer(self) -> tuple[str, int]:
        address = self.lab.acquirer_address
        if address is None:
            raise UsageError("this lab serves no acquirer")
        return address

    def printer(self, name: str = "p1") -> str:
        """The endpoint of printer ``name`` (``tcp://HOST:PORT`` or ``serial:///dev/pts/N``)."""
        for printer in self.lab.printers:
            if printer.name == name:
                return printer.endpoint
        raise KeyError(name)
