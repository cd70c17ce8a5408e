"""TCP addresses and the connection cap of a device server."""

from __future__ import annotations

import resource

from printer.errors import PrinterConfigurationError

__all__ = ["default_max_connections", "parse_address"]

_DESCRIPTORS_PER_SERVER = 16  # listeners, selector, wake pipe, index, spool files ...


def parse_address(text: str, *, default_port: int = 9100) -> tuple[str, int]:
    """``"HOST:PORT"`` (``"[::1]:9100"``, ``":9100"`` = 127.0.0.1) to ``(host, port)``."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = text, str(default_port)
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise PrinterConfigurationError(
            f"a TCP address is HOST:PORT with a port from 0 to 65535 (0: any free port), "
            f"not {text!r}")
    return host, int(port_text)


def default_max_connections(wanted: int = 64) -> int:
    """``wanted``, or fewer when this process's descriptor limit would not allow it (a
    connection can hold two descriptors: its socket and its job's spool file)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, (soft - _DESCRIPTORS_PER_SERVER) // 2))
