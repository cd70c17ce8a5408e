"""The mock acquirer: decides by documented rules, keeps a host ledger, speaks ISO 8583.

==============  ==============================================================
module          job
==============  ==============================================================
``rules``       the outcome rules, as data (and from a YAML file)
``ledger``      the host ledger in SQLite: messages, transactions, balances
``host``        ``MockAcquirer.handle(bytes, now, wall)``: transport-free
``server``      the host over TCP (asyncio): accept loop, idle sweep, clean shutdown
``connection``  one TCP connection as an asyncio ``Protocol``: frames, bounds, closing
``durable``     the group commit and the pipelined sync (no reply before its record)
``loops``       the live host's event loop: uvloop when installed, else asyncio
``client``      the terminal's side over TCP: ``TcpAcquirerLink``, ``exchange``
``commands``    ``pos-sim acquirer serve`` (also ``python -m terminal_sim acquirer serve``)
==============  ==============================================================
"""
