"""A receipt printer as a device: an ESC/POS interpreter, a virtual printer, real ones.

=======================  ==================================================================
module                   what it is
=======================  ==================================================================
``interpreter``          ESC/POS bytes read back as paper (a package split by concern:
                         dispatch, text and code pages, graphics, symbols, status)
``roll``, ``state``      the paper that came out; the printer's hardware state
``virtual``              :class:`~printer.virtual.VirtualPrinter`, a python-escpos printer
                         printing to a simulated roll
``urls``                 printers by URL (``virtual://``, ``tcp://``, ``serial://`` ...)
``servers``              a simulated printer on TCP or a pseudo-terminal
``render``               receipts as PNG or HTML (with ``glyphs``, ``symbology``, ``pcf``)
``pan_check``            card numbers on paper, checked against a masking policy
``errors``               the package's exception tree
=======================  ==================================================================

The package knows nothing of the terminal that prints on it (what a slip says is the
terminal's business: ``terminal_sim.receipts``). Importing it is cheap and has no side
effects: python-escpos (~200 ms, a root logger configured) is imported on first use.
"""
