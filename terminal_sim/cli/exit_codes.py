"""How every ``pos-sim`` command turns our errors into one line and an exit code.

0: done, expectations hold; 1: done, they do not (or a run failed); 2: bad input (a
malformed scenario, an unknown option value, a damaged or incomplete run directory, an
unusable --out). Never a traceback for an error of ours.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click

from printer.errors import PrinterConfigurationError, PrinterError
from terminal_sim.errors import (
    ConfigurationError,
    ScenarioError,
    StoreUnreadable,
    TerminalSimError,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def cli_errors() -> Iterator[None]:
    """Our errors as one line on stderr and an exit code, never a traceback."""
    try:
        yield
    except (ScenarioError, ConfigurationError, StoreUnreadable,
            PrinterConfigurationError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (TerminalSimError, PrinterError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)


def friendly_errors(func: F) -> F:
    """:func:`cli_errors` around a whole command."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with cli_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
