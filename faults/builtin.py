"""Built-in faults register here (by importing their modules)."""
