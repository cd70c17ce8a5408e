"""One seed drives everything: a tree of independent random streams.

Each component asks for its own stream by name (``seeds.stream("acquirer")``); the
stream is seeded from SHA-256 of (root seed, name), so adding a component or a fault
never perturbs the draws of the others. Python only guarantees that
``random.Random(int).random()`` gives the same sequence across versions, so every
integer is derived from ``random()`` here, never from ``randint``/``choice``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

from terminal_sim.errors import ConfigurationError

T = TypeVar("T")


def derive_seed(root: int, name: str) -> int:
    """A 64-bit seed for ``name`` under ``root``; stable across Python versions and hosts."""
    digest = hashlib.sha256(f"{root}\x1f{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class Stream:
    """A named random stream. Integers are derived from ``random()`` only."""

    __slots__ = ("_random", "name")

    def __init__(self, seed: int, name: str) -> None:
        self.name = name
        self._random = random.Random(seed)

    def random(self) -> float:
        """A float in [0, 1), identical across Python versions for the same seed."""
        return self._random.random()

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        if n <= 0:
            raise ConfigurationError(f"below() needs a positive bound, got {n}")
        return min(int(self._random.random() * n), n - 1)

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high], both ends included."""
        if high < low:
            raise ConfigurationError(f"between({low}, {high}): high is below low")
        return low + self.below(high - low + 1)

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self._random.random() < probability

    def pick(self, items: Sequence[T]) -> T:
        """One item, uniformly."""
        return items[self.below(len(items))]

    def weighted(self, items: Sequence[T], weights: Sequence[int]) -> T:
        """One item with integer weights (integers keep the choice exact)."""
        total = sum(weights)
        point = self.below(total)
        for item, weight in zip(items, weights, strict=True):
            if point < weight:
                return item
            point -= weight
        return items[-1]

    def token(self, alphabet: str, length: int) -> str:
        """A string of ``length`` characters drawn from ``alphabet``."""
        size = len(alphabet)
        if size <= 0:
            raise ConfigurationError(f"below() needs a positive bound, got {size}")
        draw, last = self._random.random, size - 1
        # below(size) for each character, inlined (the host draws one per approval)
        return "".join([alphabet[min(int(draw() * size), last)] for _ in range(length)])


class SeedTree:
    """The root of all randomness of one run."""

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ConfigurationError(f"a seed is a non-negative integer, got {seed!r}")
        self.seed = seed
        self._streams: dict[str, Stream] = {}

    def stream(self, name: str) -> Stream:
        """The stream of component ``name``; the same object on every call."""
        found = self._streams.get(name)
        if found is None:
            found = self._streams[name] = Stream(derive_seed(self.seed, name), name)
        return found

    def child(self, name: str) -> SeedTree:
        """A sub-tree for a component that hands out streams of its own."""
        return SeedTree(derive_seed(self.seed, name))
