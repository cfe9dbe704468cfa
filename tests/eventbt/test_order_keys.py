"""The order type keys of a scenario (``[execution]``, ``[[events]]``): each mistake a one-line error, in the docs.

Every message here appears verbatim in docs/errors.md (checked below); the keys' defaults leave the resolved
scenario, and so the digest of a scenario without them, as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventbt.errors import ScenarioError
from eventbt.scenario import ScenarioConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
BASE: dict[str, Any] = {"data": {"path": "prices.csv"}, "strategy": {"name": "ema_allocation"}}
ORDER: dict[str, Any] = {"date": "2013-01-02", "type": "order", "symbol": "KO", "side": "buy", "quantity": 100}


def _events(**keys: Any) -> dict[str, Any]:
    return {"events": [{**ORDER, **keys}]}


# (case, tables, table, key, message)
CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("a rebalance of stop orders", {"execution": {"order_type": "stop"}}, "execution", "order_type",
     "[execution] order_type must be one of 'market', 'market_on_open', 'market_on_close', 'limit', got 'stop'"),
    ("a misspelt order type", {"execution": {"order_type": "limt"}}, "execution", "order_type",
     "[execution] order_type must be one of 'market', 'market_on_open', 'market_on_close', 'limit', got 'limt' "
     "(did you mean 'limit'?)"),
    ("a negative offset", {"execution": {"limit_offset_bps": -1}}, "execution", "limit_offset_bps",
     "[execution] limit_offset_bps must be a number >= 0 and < 10000 (1 bp = 0.01%), got -1"),
    ("an unknown time in force", {"execution": {"time_in_force": "ioc"}}, "execution", "time_in_force",
     "[execution] time_in_force must be one of 'day', 'gtc', got 'ioc'"),
    ("no bars to wait", {"execution": {"expire_after": 0}}, "execution", "expire_after",
     "[execution] expire_after must be an integer >= 1, got 0"),
    ("a limit order without its price", _events(order_type="limit"), "events[0]", "limit_price",
     "[events[0]] missing required key 'limit_price' for order_type 'limit'"),
    ("a limit price of 0", _events(order_type="limit", limit_price=0), "events[0]", "limit_price",
     "[events[0]] limit_price must be a number > 0, got 0"),
    ("a limit price on a stop order", _events(order_type="stop", stop_price=4.0, limit_price=5.0), "events[0]",
     "limit_price", "[events[0]] limit_price applies to order_type 'limit' only, got order_type 'stop'"),
    ("a time in force on a market order", _events(time_in_force="gtc"), "events[0]", "time_in_force",
     "[events[0]] time_in_force applies to limit and stop orders only, got order_type 'market'"),
    ("expire_after on a day order", _events(order_type="limit", limit_price=5.0, expire_after=3), "events[0]",
     "expire_after", "[events[0]] expire_after applies to time_in_force 'gtc' only, got 'day'"),
    ("an unknown order type", _events(order_type="trailing_stop"), "events[0]", "order_type",
     "[events[0]] order_type must be one of 'market', 'market_on_open', 'market_on_close', 'limit', 'stop', got "
     "'trailing_stop'"),
]


@pytest.mark.parametrize(("tables", "table", "key", "message"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_each_mistake_is_one_line_naming_the_table_and_key(tables: dict[str, Any], table: str, key: str,
                                                           message: str) -> None:
    """The ScenarioError names the file, the table and the key, and keeps them as attributes."""
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_dict({**BASE, **tables}, source="scenarios/x.toml")
    assert str(caught.value) == f"scenarios/x.toml: {message}"
    assert (caught.value.table, caught.value.key) == (table, key)


@pytest.mark.parametrize("message", [case[4] for case in CASES], ids=[case[0] for case in CASES])
def test_each_message_is_in_the_error_catalogue(message: str) -> None:
    """docs/errors.md shows every message verbatim."""
    assert f"`scenarios/x.toml: {message}`" in DOC


def test_the_keys_are_written_into_the_resolved_scenario_only_when_set() -> None:
    """A scenario without them resolves as before; one with them round-trips through its TOML text."""
    plain = ScenarioConfig.from_dict(BASE)
    assert set(plain.to_dict()["execution"]) == {"timing", "commission", "slippage"}
    assert "events" not in plain.to_dict()
    typed = ScenarioConfig.from_dict({**BASE, "execution": {"order_type": "limit", "limit_offset_bps": 25.0,
                                                            "time_in_force": "gtc", "expire_after": 4},
                                      **_events(order_type="stop", stop_price=38.0)})
    execution = typed.to_dict()["execution"]
    assert (execution["order_type"], execution["limit_offset_bps"], execution["time_in_force"],
            execution["expire_after"]) == ("limit", 25.0, "gtc", 4)
    assert typed.to_dict()["events"] == [{**ORDER, "order_type": "stop", "stop_price": 38.0, "time_in_force": "day"}]
    assert ScenarioConfig.from_dict(typed.to_dict()) == typed
    market = ScenarioConfig.from_dict({**BASE, **_events()})
    assert market.to_dict()["events"] == [ORDER]  # a market order's entry as it always was
