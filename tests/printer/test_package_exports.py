"""The package's public names: ``from printer import VirtualPrinter`` works, lazily."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import printer


def _modules_after(code: str) -> list[str]:
    """The modules loaded by ``code`` in a fresh interpreter (printer, escpos, PIL)."""
    probe = (f"{code}\nimport sys, json\n"
             "print(json.dumps(sorted(m for m in sys.modules "
             "if m.split('.')[0] in ('printer', 'escpos', 'PIL'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_import_printer_loads_neither_escpos_nor_pillow_nor_a_submodule() -> None:
    assert _modules_after("import printer") == ["printer"]


def test_a_name_loads_its_module_only_when_asked() -> None:
    loaded = _modules_after("from printer import PrinterError")
    assert loaded == ["printer", "printer.errors"]


@pytest.mark.parametrize("name", printer.__all__)
def test_every_exported_name_is_its_module_object(name: str) -> None:
    value = getattr(printer, name)
    module = importlib.import_module(value.__module__)
    assert getattr(module, name) is value
    assert name in dir(printer)


def test_virtual_printer_from_the_package_prints() -> None:
    from printer import VirtualPrinter, parse

    device = VirtualPrinter(columns=32)
    device.text("HELLO\n")
    device.cut()
    assert [r.text for r in device.receipts] == ["HELLO"]
    assert parse(device.output).receipts[0].text == "HELLO"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = printer.nothing
