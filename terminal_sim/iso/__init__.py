"""ISO 8583 on the wire: the spec, the codec over pyiso8583, framing, and message types."""
