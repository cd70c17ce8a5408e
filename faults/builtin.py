"""Built-in faults register here (by importing their modules)."""

from faults import card, clock, maintenance, operator, power, printer_faults, sync

__all__ = ["card", "clock", "maintenance", "operator", "power", "printer_faults", "sync"]
