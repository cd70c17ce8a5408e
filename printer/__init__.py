"""Receipt printers: layout through python-escpos, a virtual printer, and real ones.

Importing this package is cheap: python-escpos is imported lazily by the modules
that need it (its import costs ~200 ms and configures the root logger).
"""
