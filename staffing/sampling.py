"""Random draws for the simulator: durations from a ``Distribution``, outcomes by share."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate

from staffing.scenario import Distribution


class Sampler:
    """Draws from a ``Distribution`` with the simulation's RNG."""

    __slots__ = ("draw",)
    draw: Callable[[], float]

    def __init__(self, dist: Distribution, rng: random.Random) -> None:
        mean = dist.mean_s
        if dist.kind == "constant":
            self.draw = lambda: mean
        elif dist.kind == "exponential":
            rate = 1.0 / mean
            self.draw = lambda: rng.expovariate(rate)
        else:
            # Lognormal with mean m and coefficient of variation c: σ² = ln(1 + c²),
            # μ = ln m − σ²/2 (so that E = exp(μ + σ²/2) = m).
            sigma = math.sqrt(math.log1p(dist.cv**2))
            mu = math.log(mean) - sigma * sigma / 2
            self.draw = lambda: rng.lognormvariate(mu, sigma)


class Picker:
    """Picks one of several outcomes by share; the shares' remainder picks ``None``."""

    __slots__ = ("bounds", "values")

    def __init__(self, shares: Mapping[int, float], values: Sequence[object]) -> None:
        self.bounds = list(accumulate(shares.values()))
        self.values = [values[i] for i in shares]

    def pick(self, u: float) -> object:
        index = bisect_right(self.bounds, u)
        return self.values[index] if index < len(self.values) else None
