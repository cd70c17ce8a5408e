"""The mock acquirer: decides by documented rules, keeps a host ledger, speaks ISO 8583.

=============  ==============================================================
module         job
=============  ==============================================================
``rules``      the outcome rules, as data (and from a YAML file)
``ledger``     the host ledger in SQLite: messages, transactions, balances
``host``       ``MockAcquirer.handle(bytes, now, wall)``: transport-free
``server``     the host over TCP (asyncio), group commit, clean shutdown
``client``     the terminal's side over TCP: ``TcpAcquirerLink``, ``exchange``
``commands``   ``pos-sim acquirer serve`` (also ``python -m terminal_sim acquirer serve``)
=============  ==============================================================
"""
