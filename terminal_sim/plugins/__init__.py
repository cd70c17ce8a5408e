"""The plugin API for faults.

* :mod:`.host`: :class:`~.host.FaultHost` and :class:`~.host.FaultTerminal`, everything a
  fault may touch (the simulation implements them: ``terminal_sim.sim.fault_host``);
* :mod:`.ports`: the protocols of the ports a fault wraps, and the data they pass;
* :mod:`.faults`: the :class:`~.faults.Fault` base class, its parameters and trigger;
* :mod:`.registry`: fault classes by name, from the entry-point group ``terminal_sim.faults``.
"""
