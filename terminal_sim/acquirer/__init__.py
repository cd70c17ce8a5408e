"""The mock acquirer: decides by documented rules, keeps a host ledger, speaks ISO 8583."""
