"""terminal-sim: a deterministic simulator of a card-payment POS terminal with fault injection."""

__version__ = "0.1.0"
