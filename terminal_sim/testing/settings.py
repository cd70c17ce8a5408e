"""Hypothesis settings profiles for terminal-sim's test suite, and for yours.

==========  ==============================================================================
profile     for
==========  ==============================================================================
``ci``      every push: derandomized (the same examples on every run, so a red build is
            reproducible and a green one is not luck), no example database, no deadline
            (virtual time, but a shared runner is slow now and then), 100 examples of up
            to 50 steps, and the ``@reproduce_failure`` blob printed with a failure
``dev``     a developer's machine: random, remembers failures in ``.hypothesis/``
``nightly`` the long run: 5,000 examples of up to 100 steps, random, blob printed
==========  ==============================================================================

Nothing happens at import. :func:`load_profile` registers the profiles and loads the one
the environment variable ``TERMINAL_SIM_HYPOTHESIS_PROFILE`` names (``ci`` when unset)::

    # conftest.py
    from terminal_sim.testing.settings import load_profile

    load_profile()

A profile of the same name registered before is replaced; use
:func:`register_profiles` with ``prefix="terminal-sim-"`` to keep yours.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

from terminal_sim.errors import ConfigurationError

#: The environment variable that names the profile to load.
ENV_VAR = "TERMINAL_SIM_HYPOTHESIS_PROFILE"
DEFAULT_PROFILE = "ci"

# Built on Hypothesis's own "default" profile, not on whatever profile happens to be
# loaded when this module is imported.
_BASE = settings.get_profile("default")

CI = settings(
    _BASE,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    max_examples=100,
    stateful_step_count=50,
    suppress_health_check=[HealthCheck.too_slow],
)
DEV = settings(_BASE, deadline=None, print_blob=True)
NIGHTLY = settings(
    _BASE,
    deadline=None,
    print_blob=True,
    max_examples=5_000,
    stateful_step_count=100,
    suppress_health_check=[HealthCheck.too_slow],
)

#: name -> settings, as :func:`register_profiles` registers them
PROFILES: dict[str, settings] = {"ci": CI, "dev": DEV, "nightly": NIGHTLY}


def register_profiles(*, prefix: str = "") -> list[str]:
    """Register ``ci``, ``dev`` and ``nightly`` (each name after ``prefix``); the names."""
    names = []
    for name, profile in PROFILES.items():
        settings.register_profile(prefix + name, profile)
        names.append(prefix + name)
    return names


def load_profile(name: str | None = None, *, prefix: str = "") -> str:
    """Register the profiles, then load ``name`` (default: ``$TERMINAL_SIM_HYPOTHESIS_PROFILE``,
    else ``ci``); returns the name loaded.

    An unknown name is a :class:`~terminal_sim.errors.ConfigurationError` naming the
    profiles there are, so a typo in CI's environment fails the run instead of silently
    testing with other settings.
    """
    register_profiles(prefix=prefix)
    chosen = name if name is not None else os.environ.get(ENV_VAR) or DEFAULT_PROFILE
    wanted = chosen if chosen.startswith(prefix) else prefix + chosen
    try:
        # looked up first: Hypothesis records the name as current before it fails
        settings.get_profile(wanted)
    except InvalidArgument as exc:
        known = ", ".join(PROFILES)
        source = f"${ENV_VAR}" if name is None else "load_profile()"
        raise ConfigurationError(
            f"{source}: unknown Hypothesis profile {chosen!r}; choose one of: {known} "
            "(or one you registered yourself)"
        ) from exc
    settings.load_profile(wanted)
    return wanted


__all__ = ["CI", "DEFAULT_PROFILE", "DEV", "ENV_VAR", "NIGHTLY", "PROFILES", "load_profile",
           "register_profiles"]
