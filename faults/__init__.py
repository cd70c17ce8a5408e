"""Fault injection: faults are data plus hooks on the ports they wrap.

A fault never adds a branch inside the terminal core. It wraps a port (card reader,
acquirer link, journal, printer, back office) or observes crash points, the way
pyserial's ``spy://`` wraps a serial port. See :mod:`terminal_sim.plugins.registry`.
"""
