"""Receipt printers addressed by URL, the way pyserial's ``serial_for_url`` addresses ports.

:func:`open_printer` returns a python-escpos ``Escpos`` object for a URL; each scheme
parses and validates its own options, and its errors (:class:`PrinterConfigurationError`) show
the form it expects:

==================================================  ==========================================
URL                                                 printer
==================================================  ==========================================
``virtual://[NAME][?paper=ok|near-end|out``         an in-process
``&cover=closed|open&columns=48&chinese=no``        :class:`~printer.virtual.VirtualPrinter`
``&profile=NAME]``                                  (NAME is a label, nothing more)
``file://PATH[?auto_flush=yes&profile=NAME]``       raw bytes written to a file or device
                                                    (python-escpos ``File``);
                                                    ``file:///abs/path`` or ``file://rel``
``tcp://HOST[:PORT][?timeout=60&profile=NAME]``     a network printer (python-escpos
                                                    ``Network``), port 9100 by default;
                                                    ``tcp://[::1]:9100`` for IPv6
``serial://DEVICE[?baudrate=9600&bytesize=8``       a serial port opened by pyserial's
``&parity=N&stopbits=1&timeout=1&write_timeout=``   ``serial_for_url``: a device
``&xonxoff=no&rtscts=no&dsrdtr=no&profile=NAME]``   (``serial:///dev/ttyUSB0``) or any
                                                    pyserial URL (``serial://loop://``,
                                                    ``serial://socket://127.0.0.1:7000``)
``usb://VID:PID[?in_ep=0x82&out_ep=0x01``           a USB printer (python-escpos ``Usb``);
``&timeout=0&profile=NAME]``                        needs the ``usb`` extra (pyusb); VID and
                                                    PID non-zero hex ids, ``in_ep`` an IN
                                                    endpoint (0x81-0x8F), ``out_ep`` an OUT
                                                    one (0x01-0x0F)
==================================================  ==========================================

Options a pyserial URL understands itself (``loop://?logging=debug``) are passed on to
it. Booleans are ``yes``/``no`` (also ``1``/``0``, ``true``/``false``, ``on``/``off``).

``open_printer(url)`` connects at once (``connect=False`` defers that to the first
write, as python-escpos does): a printer that cannot be reached raises
:class:`PrinterUnavailable` with python-escpos's or pyserial's error as ``__cause__``.
More schemes can be added with :func:`register_scheme`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from printer.errors import PrinterConfigurationError, PrinterUnavailable
from printer.escpos_loader import escpos_module

__all__ = [
    "SCHEMES",
    "PrinterUnavailable",
    "open_printer",
    "register_scheme",
    "serial_port_printer_class",
    "split_url",
]


Handler = Callable[[str, dict[str, str], bool], Any]


class _Scheme:
    def __init__(self, name: str, form: str, handler: Handler) -> None:
        self.name = name
        self.form = form
        self.handler = handler


SCHEMES: dict[str, _Scheme] = {}


def register_scheme(name: str, form: str, handler: Handler) -> None:
    """Add a scheme: ``handler(rest, options, connect)`` returns the printer.

    ``rest`` is the URL after ``name://`` without its query, ``options`` the query.
    The handler removes the options it uses and raises ``PrinterConfigurationError`` (quoting
    ``form``) for bad values; options left over are reported as unknown.
    """
    SCHEMES[name.lower()] = _Scheme(name.lower(), form, handler)


def split_url(url: str) -> tuple[str, str, dict[str, str]]:
    """``(scheme, rest, options)`` of a printer URL; the query is split at the last ``?``."""
    if not isinstance(url, str) or "://" not in url:
        raise PrinterConfigurationError(
            f"a printer URL looks like SCHEME://..., not {url!r}; schemes: {_scheme_list()}")
    scheme, rest = url.split("://", 1)
    query = ""
    if "?" in rest:
        rest, query = rest.rsplit("?", 1)
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in options:
            raise PrinterConfigurationError(f"{scheme}:// option {key!r} is given twice in {url!r}")
        options[key] = value
    return scheme.lower(), rest, options


def open_printer(url: str, *, connect: bool = True) -> Any:
    """The python-escpos printer ``url`` names (an ``escpos.Escpos``)."""
    scheme_name, rest, options = split_url(url)
    scheme = SCHEMES.get(scheme_name)
    if scheme is None:
        raise PrinterConfigurationError(
            f"unknown printer URL scheme {scheme_name!r} in {url!r}; known: {_scheme_list()}")
    left = dict(options)
    printer = scheme.handler(rest, left, connect)
    if left:
        _close_quietly(printer)
        raise PrinterConfigurationError(
            f"unknown option(s) {', '.join(sorted(left))} for {scheme.name}://; "
            f"expected {scheme.form}")
    return printer


def _scheme_list() -> str:
    return ", ".join(f"{name}://" for name in SCHEMES)


def _close_quietly(printer: Any) -> None:
    with contextlib.suppress(Exception):  # best effort on an object we are discarding
        printer.close()


# -- option parsing -------------------------------------------------------------------------

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def _fail(scheme: str, message: str) -> PrinterConfigurationError:
    return PrinterConfigurationError(f"{message}; expected {SCHEMES[scheme].form}")


def _bool(scheme: str, options: dict[str, str], key: str, default: bool) -> bool:
    if key not in options:
        return default
    value = options.pop(key).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _fail(scheme, f"{scheme}:// option {key} must be yes or no, not {value!r}")


def _number(scheme: str, options: dict[str, str], key: str, default: float | None,
            low: float, high: float, *, integer: bool = False) -> Any:
    if key not in options:
        return default
    raw = options.pop(key)
    if raw.lower() in ("", "none") and not integer:
        return None
    try:
        value: float = int(raw, 0) if integer else float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise _fail(scheme, f"{scheme}:// option {key} must be {kind} from {low:g} to "
                            f"{high:g}, not {raw!r}")
    return value


def _choice(scheme: str, options: dict[str, str], key: str, default: str,
            accepted: tuple[str, ...]) -> str:
    if key not in options:
        return default
    value = options.pop(key)
    if value not in accepted:
        raise _fail(scheme, f"{scheme}:// option {key} must be one of {', '.join(accepted)}, "
                            f"not {value!r}")
    return value


def _upper(options: dict[str, str], key: str) -> dict[str, str]:
    if key in options:
        options[key] = options[key].upper()
    return options


def _profile(scheme: str, options: dict[str, str]) -> str | None:
    name = options.pop("profile", None)
    if name is None:
        return None
    escpos_module()
    from escpos.capabilities import CAPABILITIES

    profiles = CAPABILITIES["profiles"]
    if name not in profiles:
        examples = ", ".join(sorted(profiles)[:6])
        raise _fail(scheme, f"unknown python-escpos profile {name!r} (e.g. {examples} ...)")
    return name


def _connect(printer: Any, url: str) -> Any:
    from escpos.exceptions import Error as EscposError

    try:
        printer.open()
    except PrinterUnavailable:
        raise
    except (EscposError, OSError, ValueError) as exc:
        raise PrinterUnavailable(f"cannot open printer {url}: {exc}") from exc
    return printer


# -- schemes --------------------------------------------------------------------------------


def _virtual(rest: str, options: dict[str, str], connect: bool) -> Any:
    from printer.state import PrinterState
    from printer.virtual import VirtualPrinter

    paper = _choice("virtual", options, "paper", "ok", ("ok", "near-end", "out"))
    cover = _choice("virtual", options, "cover", "closed", ("closed", "open"))
    columns = _number("virtual", options, "columns", 48, 1, 255, integer=True)
    chinese = _bool("virtual", options, "chinese", False)
    profile = _profile("virtual", options)
    state = PrinterState(paper=paper, cover_open=cover == "open")
    return VirtualPrinter(profile, state=state, columns=columns, chinese_mode=chinese)


def _file(rest: str, options: dict[str, str], connect: bool) -> Any:
    path = unquote(rest)
    if not path:
        raise _fail("file", "file:// needs a path")
    auto_flush = _bool("file", options, "auto_flush", True)
    profile = _profile("file", options)
    escpos_module()
    from escpos.printer import File

    printer = File(path, auto_flush=auto_flush, profile=profile)
    return _connect(printer, f"file://{path}") if connect else printer


def _host_port(scheme: str, rest: str, default_port: int) -> tuple[str, int]:
    rest = rest.rstrip("/")
    if rest.startswith("["):  # [IPv6]:port
        host, sep, tail = rest[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise _fail(scheme, f"bad IPv6 address in {scheme}://{rest}")
        port_text = tail[1:]
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    else:
        host, port_text = rest, ""
    if not host:
        raise _fail(scheme, f"{scheme}:// needs a host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise _fail(scheme, f"{scheme}:// port must be 1..65535, not {port_text!r}")
    return host, int(port_text)


def _tcp(rest: str, options: dict[str, str], connect: bool) -> Any:
    host, port = _host_port("tcp", rest, 9100)
    timeout = _number("tcp", options, "timeout", 60.0, 0.001, 86400)
    profile = _profile("tcp", options)
    escpos_module()
    from escpos.printer import Network

    printer = Network(host, port, timeout=timeout, profile=profile)
    return _connect(printer, f"tcp://{host}:{port}") if connect else printer


_SERIAL_KEYS = ("baudrate", "bytesize", "parity", "stopbits", "timeout", "write_timeout",
                "xonxoff", "rtscts", "dsrdtr", "profile")


def _serial(rest: str, options: dict[str, str], connect: bool) -> Any:
    device = unquote(rest)
    if not device:
        raise _fail("serial", "serial:// needs a device or a pyserial URL")
    settings: dict[str, Any] = {
        "baudrate": _number("serial", options, "baudrate", 9600, 50, 4_000_000, integer=True),
        "bytesize": _number("serial", options, "bytesize", 8, 5, 8, integer=True),
        "parity": _choice("serial", _upper(options, "parity"), "parity", "N",
                          ("N", "E", "O", "M", "S")),
        "stopbits": float(_choice("serial", options, "stopbits", "1", ("1", "1.5", "2"))),
        "timeout": _number("serial", options, "timeout", 1.0, 0, 3600),
        "write_timeout": _number("serial", options, "write_timeout", None, 0, 3600),
        "xonxoff": _bool("serial", options, "xonxoff", False),
        "rtscts": _bool("serial", options, "rtscts", False),
        "dsrdtr": _bool("serial", options, "dsrdtr", False),
    }
    if settings["stopbits"] == 1.0 or settings["stopbits"] == 2.0:
        settings["stopbits"] = int(settings["stopbits"])
    profile = _profile("serial", options)
    if "://" in device and options:
        # what is left belongs to the pyserial URL (loop://?logging=debug ...)
        device += "?" + "&".join(f"{k}={v}" for k, v in options.items())
        options.clear()
    printer = serial_port_printer_class()(device, profile=profile, **settings)
    return _connect(printer, f"serial://{device}") if connect else printer


_HEX_ID = re.compile(r"[0-9A-Fa-f]{1,4}")


def _usb(rest: str, options: dict[str, str], connect: bool) -> Any:
    ids = rest.strip("/").split(":")
    try:
        if len(ids) != 2 or not all(_HEX_ID.fullmatch(part) for part in ids):
            raise ValueError
        vendor, product = (int(part, 16) for part in ids)
    except ValueError:
        raise _fail("usb", f"usb:// needs VID:PID in hex (04b8:0e15), not {rest!r}") from None
    if not vendor or not product:
        # 0000 is no vendor or product: pyusb would take whatever device it finds first
        raise _fail("usb", f"usb:// needs a non-zero vendor and product id, not {rest!r}")
    in_ep = _number("usb", options, "in_ep", 0x82, 0x81, 0x8F, integer=True)
    out_ep = _number("usb", options, "out_ep", 0x01, 0x01, 0x0F, integer=True)
    timeout = _number("usb", options, "timeout", 0, 0, 86_400_000, integer=True)
    profile = _profile("usb", options)
    if importlib.util.find_spec("usb") is None:
        raise PrinterConfigurationError(
            "usb:// needs pyusb, which is not installed: pip install 'terminal-sim[usb]' "
            "(and libusb from your system's packages)")
    escpos_module()
    from escpos.printer import Usb

    printer = Usb(vendor, product, timeout=timeout, in_ep=in_ep, out_ep=out_ep,
                  profile=profile)
    return _connect(printer, f"usb://{vendor:04x}:{product:04x}") if connect else printer


# -- a python-escpos printer on a pyserial port -------------------------------------------


def _serial_printer_class() -> type[Any]:
    base: Any = escpos_module().Escpos

    class _SerialPortPrinter(base):  # type: ignore[misc]  # python-escpos is untyped
        """An ``Escpos`` printer on a port made by pyserial's ``serial_for_url``.

        python-escpos's own ``Serial`` opens device paths only; this one also takes
        ``loop://``, ``socket://``, ``rfc2217://`` ... and reads status replies without
        waiting for a full buffer (``_read`` returns as soon as a byte has arrived).
        """

        def __init__(self, url: str, *, profile: str | None = None, **settings: Any) -> None:
            base.__init__(self, profile)
            self.url = url
            self.settings = settings
            self._device: Any = False

        def open(self, raise_not_found: bool = True) -> None:
            import serial

            if self._device:
                self.close()
            try:
                self.device = serial.serial_for_url(self.url, **self.settings)
            except (serial.SerialException, ValueError, KeyError, OSError) as exc:
                self.device = None
                if raise_not_found:
                    raise PrinterUnavailable(
                        f"cannot open serial port {self.url}: {exc}") from exc

        @property
        def port(self) -> Any:
            """The pyserial port (opened on first use)."""
            if not self._device:
                self.open()
            return self._device

        def _raw(self, msg: bytes) -> None:
            port = self.port
            port.write(msg)
            port.flush()

        def _read(self) -> bytes:
            port = self.port
            first = port.read(1)  # waits up to the port's timeout
            if not first:
                return b""
            waiting = port.in_waiting
            reply: bytes = first + (port.read(min(waiting, 15)) if waiting else b"")
            return reply

        def close(self) -> None:
            device = self._device
            self._device = False
            if device:
                try:
                    device.flush()
                finally:
                    device.close()

    _SerialPortPrinter.__name__ = _SerialPortPrinter.__qualname__ = "SerialPortPrinter"
    return _SerialPortPrinter


@cache
def serial_port_printer_class() -> type[Any]:
    """The ``SerialPortPrinter`` class (built on first use: it subclasses python-escpos's
    ``Escpos``, and importing python-escpos is deferred until a printer is wanted)."""
    return _serial_printer_class()


def __getattr__(name: str) -> Any:
    if name == "SerialPortPrinter":
        return serial_port_printer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_scheme(
    "virtual",
    "virtual://[NAME][?paper=ok|near-end|out&cover=closed|open&columns=48&chinese=no"
    "&profile=NAME]",
    _virtual)
register_scheme("file", "file://PATH[?auto_flush=yes&profile=NAME]", _file)
register_scheme("tcp", "tcp://HOST[:PORT][?timeout=60&profile=NAME] (port 9100 by default)",
                _tcp)
register_scheme(
    "serial",
    "serial://DEVICE-OR-PYSERIAL-URL[?baudrate=9600&bytesize=8&parity=N&stopbits=1"
    "&timeout=1&write_timeout=&xonxoff=no&rtscts=no&dsrdtr=no&profile=NAME]",
    _serial)
register_scheme("usb", "usb://VID:PID[?in_ep=0x82&out_ep=0x01&timeout=0&profile=NAME] "
                       "(hex ids, e.g. usb://04b8:0e15)", _usb)
