"""Built-in faults register here (by importing their modules)."""

from faults import card, clock, link, maintenance, operator, power, printer_faults, sync

__all__ = ["card", "clock", "link", "maintenance", "operator", "power", "printer_faults", "sync"]
