"""The deterministic simulator: virtual clock, seeded scheduler, trace, ports, terminals."""
