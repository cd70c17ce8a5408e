"""Shared test configuration: the Hypothesis profile the suite runs under."""

from terminal_sim.testing.settings import load_profile

load_profile()  # $TERMINAL_SIM_HYPOTHESIS_PROFILE: ci (default), dev, nightly
