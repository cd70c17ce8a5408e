"""A Python client of the lab's control API (the standard library's ``http.client``).

    from terminal_sim.lab import LabClient

    lab = LabClient("127.0.0.1:8474")
    fault = lab.add_fault("printer-paper-out")          # {"id": "f1", ...}
    lab.add_fault("link-drop-reply", message="0200", limit=1)
    lab.faults(); lab.state(); lab.evidence()
    lab.remove_fault(fault["id"]); lab.reset()

A refused request raises :class:`LabRequestError` with the HTTP status, the server's
message and, for a bad fault, the field it names.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

from terminal_sim.errors import ConfigurationError, TerminalSimError


class LabRequestError(TerminalSimError):
    """The control API refused a request (``status``, ``field`` when it named one)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(f"{status}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.message = message
        self.field = field


def parse_control(address: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``http://HOST:PORT`` -> (host, port); port 0 (any free one) is
    for the addresses a lab listens on."""
    text = address.removeprefix("http://").rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigurationError(f"control address {address!r}: expected HOST:PORT, "
                                 "e.g. 127.0.0.1:8474")
    return host.strip("[]") or "127.0.0.1", int(port)


class LabClient:
    """Talks to a running lab's control API."""

    def __init__(self, address: str | tuple[str, int], *, token: str | None = None,
                 timeout: float = 15.0) -> None:
        self.host, self.port = (parse_control(address) if isinstance(address, str)
                                else address)
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One request; the decoded JSON answer, or :class:`LabRequestError`."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except OSError as exc:
            raise LabRequestError(0, f"cannot reach the lab at {self.host}:{self.port}: "
                                     f"{exc}") from exc
        finally:
            connection.close()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise LabRequestError(response.status, "the answer is not JSON") from exc
        if response.status >= 400:
            error = answer.get("error", "") if isinstance(answer, dict) else str(answer)
            field = answer.get("field") if isinstance(answer, dict) else None
            raise LabRequestError(response.status, error, field)
        return answer

    def add_fault(self, name: str, **params: Any) -> dict[str, Any]:
        """Add a fault as in a scenario file; its description with its ``id``."""
        answer: dict[str, Any] = self.request("POST", "/faults", {"name": name, **params})
        return answer

    def remove_fault(self, fault_id: str) -> None:
        self.request("DELETE", f"/faults/{fault_id}")

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self.request("GET", "/faults")["faults"]
        return faults

    def reset(self) -> int:
        return int(self.request("POST", "/reset", {})["removed"])

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.request("GET", "/state")
        return state

    def evidence(self) -> dict[str, Any]:
        evidence: dict[str, Any] = self.request("GET", "/evidence")
        return evidence

    def describe(self) -> dict[str, Any]:
        about: dict[str, Any] = self.request("GET", "/")
        return about
