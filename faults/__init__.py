"""Fault injection plugins: each fault is data plus wrappers around the ports it hits.

A fault never adds a branch inside the terminal core. Through the host protocol of
:mod:`terminal_sim.plugins.host` it swaps a port (card reader, acquirer link pipe,
printer, back-office link, clock) for a wrapper object, observes crash points, or acts
on the world around the terminal. The faults here register through the entry-point
group ``terminal_sim.faults`` like any third-party fault (see
:mod:`terminal_sim.plugins.registry`).
"""
