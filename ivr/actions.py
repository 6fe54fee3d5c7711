"""Self-service actions that ``action`` nodes call by name.

A registry is an explicit table built by the composition root (no import-time registration, no
module-level singleton). Actions are async because real ones query core banking; they take the
node's parameters as strings and return a flat mapping of scalars, which the engine checks
before trusting (see ``ivr.engine``). The demo actions are deterministic so that the simulator
and the tests give the same answers every time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping

Scalar = str | int | float | bool
ActionValues = Mapping[str, Scalar]
Action = Callable[[Mapping[str, str]], Awaitable[ActionValues]]


class ActionError(Exception):
    """An action failed in a way the caller may hear about (the node's error branch runs)."""


class ActionRegistry:
    def __init__(self, actions: Mapping[str, Action] | None = None) -> None:
        self._actions: dict[str, Action] = dict(actions or {})

    def register(self, name: str, action: Action) -> None:
        if name in self._actions:
            raise ValueError(f"action {name!r} is already registered")
        self._actions[name] = action

    def names(self) -> frozenset[str]:
        return frozenset(self._actions)

    async def call(self, name: str, params: Mapping[str, str], timeout_s: float) -> ActionValues:
        """Run an action within its deadline; every failure becomes ``ActionError``."""
        action = self._actions.get(name)
        if action is None:
            raise ActionError(f"no action named {name!r}")
        try:
            async with asyncio.timeout(timeout_s):
                return await action(params)
        except TimeoutError as exc:
            raise ActionError(f"{name} timed out after {timeout_s:g} s") from exc
        except ActionError:
            raise
        except Exception as exc:  # an action's bug must not end the call: the error branch runs
            raise ActionError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


def _digest_number(text: str, digits: int) -> int:
    value: int = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return value % int(10**digits)


async def demo_balance_inquiry(params: Mapping[str, str]) -> ActionValues:
    """A fake but stable balance for an account: ``{"balance": "12345.67", "currency": "CNY"}``."""
    account = params.get("account", "")
    if not account.isdigit():
        raise ActionError("account number missing")
    cents = _digest_number(account, 9)
    return {"balance": f"{cents // 100}.{cents % 100:02d}", "currency": "CNY"}


async def demo_report_lost_card(params: Mapping[str, str]) -> ActionValues:
    """Blocks nothing; answers a reference number derived from the card number."""
    card = params.get("card_number", "")
    if not card.isdigit():
        raise ActionError("card number missing")
    return {"reference": f"{_digest_number('lost:' + card, 8):08d}", "blocked": True}


async def demo_vip_lookup(params: Mapping[str, str]) -> ActionValues:
    # Stand-in for a CRM lookup: numbers ending in 888 are VIPs.
    return {"vip": params.get("caller", "").endswith("888")}


def demo_registry() -> ActionRegistry:
    return ActionRegistry(
        {
            "balance_inquiry": demo_balance_inquiry,
            "report_lost_card": demo_report_lost_card,
            "vip_lookup": demo_vip_lookup,
        }
    )
