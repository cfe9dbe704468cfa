"""The pipeline: a run's handlers in delivery order, each built from the scenario.

Every event goes to its subscribers in the order of :data:`STAGES`:

1. ``portfolio`` (:class:`handlers.portfolio.PortfolioHandler`): books fills, deposits, withdrawals, fees,
   split adjustments and dividends, marks the book at each bar's closes and publishes a snapshot at each
   bar's end. It comes first, so every handler after it sees the bar's marks and every fill booked so far
   (through the read-only view).
2. ``corporate_actions`` (:class:`handlers.corporate_actions.CorporateActionsHandler`, only when the scenario
   reads corporate actions): turns each split and dividend into what the portfolio books. Next after the
   portfolio, so that what it publishes in answer to an action is the first thing queued after it (before
   the execution handler's notices about the orders the split restates), and is booked before the bar's
   open.
3. ``execution`` (:class:`handlers.execution.ExecutionHandler`): fills orders at the close or the next open.
   Before the decision makers, so fills still owed from earlier bars (carried remainders) are queued ahead
   of this bar's signal; before the delisting handler, so a symbol's waiting orders are cancelled when its
   series ends before its position is sold.
4. ``delisting`` (:class:`handlers.delisting.DelistingHandler`, only when some symbol's prices end before
   the data does): liquidates such a position at its last close, before that bar's signal.
5. ``margin`` (:class:`handlers.margin.MarginHandler`, only with ``[portfolio] maintenance_margin``): checks
   the margin rule at the close, before the bar's signal, and answers a call (``docs/long-short.md``).
6. ``strategy`` (:class:`handlers.strategy.StrategyHandler`): bars in, a ``SignalEvent`` on rebalance bars.
7. ``rebalance`` (:class:`handlers.rebalance.RebalanceHandler`): a signal in, notices and orders out.
8. ``financing`` (:class:`handlers.fees.Financing` and :class:`handlers.fees.Borrow`, only with ``[portfolio]
   financing_rate``, ``borrow_rate`` or ``borrow_rates``): the fees of a margin account.
9. ``handlers``: the scenario's ``[[handlers]]`` (fee handlers, users' own), in the file's order.
10. ``injected`` (:class:`handlers.injected.InjectedEvents`, only with ``[[events]]``): the scenario's
    deposits, withdrawals and manual orders, after the bar's rebalance is decided.

Then any extra handlers a :class:`~eventbt.simulation.Simulation` is given. The data feed
(:class:`handlers.data_feed.DataFeed`) is the bus's source. :func:`build_pipeline` builds all of it, with
the book, its read-only view in the handlers' context, and the history the results are built from; the
stages in :data:`REPLACEABLE` can be swapped for a class of the user's (``eventbt replay --handler``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs

from eventbt.data.fit import Fit, check_fit, order_type_asks
from eventbt.data.frames import IN_MEMORY_NAME, data_label
from eventbt.errors import ContractError, PluginError, ScenarioError, did_you_mean
from eventbt.events import DataEndEvent
from eventbt.handler import Context, Handler
from eventbt.portfolio import BookHistory, Portfolio, PortfolioView
from eventbt.prices import PriceData
from eventbt.protocols import CommissionModel, SlippageModel, fills_on_signal_bar, named_symbols
from eventbt.scenario import ScenarioConfig, plugins
from eventbt.schedule import rebalance_mask
from handlers.corporate_actions import CorporateActionsHandler
from handlers.data_feed import DataFeed
from handlers.delisting import DelistingHandler
from handlers.execution import ExecutionHandler
from handlers.fees import Borrow, Financing
from handlers.injected import InjectedEvents
from handlers.margin import MarginHandler
from handlers.portfolio import PortfolioHandler
from handlers.rebalance import RebalanceHandler
from handlers.strategy import StrategyHandler

__all__ = ["REPLACEABLE", "STAGES", "Pipeline", "build_pipeline"]

STAGES = ("portfolio", "corporate_actions", "execution", "delisting", "margin", "strategy", "rebalance", "financing",
          "handlers", "injected")
"""The stages in delivery order (see the module docstring)."""

REPLACEABLE = ("strategy", "rebalance", "execution", "portfolio")
"""The stages a replacement class may take the place of; it is built with the built-in's keyword arguments."""

_H = TypeVar("_H", bound=Handler)


@attrs.frozen(kw_only=True)
class Pipeline:
    """A run's wiring: the book and its history, the context, the handlers in delivery order, the feed."""

    book: Portfolio
    history: BookHistory
    context: Context
    stages: Mapping[str, tuple[Handler, ...]]
    handlers: tuple[Handler, ...]
    feed: DataFeed
    fit: Fit

    def stage(self, name: str) -> Handler:
        """The one handler of a single-handler stage (``strategy``, ``rebalance``, ``execution``, ``portfolio``)."""
        (handler,) = self.stages[name]
        return handler


def check_replacements(replacements: Mapping[str, str | type]) -> dict[str, str | type]:
    """``replacements`` checked: every key a stage of :data:`REPLACEABLE`."""
    unknown = sorted(set(replacements) - set(REPLACEABLE))
    if unknown:
        raise PluginError(f"--handler {unknown[0]}=...: unknown stage {unknown[0]!r}"
                          f"{did_you_mean(unknown[0], REPLACEABLE)}; the stages are {', '.join(REPLACEABLE)}",
                          reference=unknown[0])
    return dict(replacements)


def _build(stage: str, default: type[_H], replacements: Mapping[str, str | type], **arguments: Any) -> _H:
    """The built-in handler of ``stage``, or its replacement, built with the same keyword arguments."""
    replacement = replacements.get(stage)
    if replacement is None:
        return default(**arguments)
    cls = replacement if isinstance(replacement, type) else plugins.resolve_class(
        replacement, plugins.HANDLERS, group=plugins.HANDLER_GROUP, kind="handler")
    label = replacement if isinstance(replacement, str) else f"{cls.__module__}:{cls.__qualname__}"
    if not (isinstance(cls, type) and issubclass(cls, Handler)):
        raise PluginError(f"--handler {stage}={label}: {cls!r} does not subclass eventbt.handler.Handler",
                          reference=label)
    try:
        handler = cls(**arguments)
    except TypeError as exc:
        raise PluginError(f"--handler {stage}={label}: {exc}; a replacement takes the keyword arguments of "
                          f"{default.__name__}: {', '.join(arguments)}", reference=label) from exc
    return handler  # type: ignore[return-value]


def _margin_fees(config: ScenarioConfig) -> tuple[Handler, ...]:
    """The fee handlers of a margin account the scenario's ``[portfolio]`` rates ask for."""
    portfolio = config.portfolio
    fees: list[Handler] = []
    if portfolio.financing_rate:
        fees.append(Financing(annual_rate=portfolio.financing_rate, day_count=portfolio.day_count))
    if portfolio.borrow_rate or portfolio.borrow_rates:
        fees.append(Borrow(annual_rate=portfolio.borrow_rate, rates=portfolio.borrow_rates,
                           day_count=portfolio.day_count))
    return tuple(fees)


def build_pipeline(config: ScenarioConfig, prices: PriceData, *, replacements: Mapping[str, str | type] = {},
                   extra_handlers: Sequence[Handler] = (), progress: Callable[[int], None] | None = None) -> Pipeline:
    """Build every stage of ``config``'s run on ``prices``, check the prices fit, bind the handlers.

    Scenario mistakes (a plug-in that does not resolve or build, data that lacks what the scenario needs)
    raise :class:`~eventbt.errors.ScenarioError` or :class:`~eventbt.errors.DataError` before anything runs; a
    ``ScenarioError`` names the ``--set`` that caused it, as the scenario's key checks do.
    """
    with config.blaming_overrides():
        return _build_pipeline(config, prices, replacements=replacements, extra_handlers=extra_handlers,
                               progress=progress)


def _build_pipeline(config: ScenarioConfig, prices: PriceData, *, replacements: Mapping[str, str | type],
                    extra_handlers: Sequence[Handler], progress: Callable[[int], None] | None) -> Pipeline:
    source = config.source
    execution = config.execution
    replacements = check_replacements(replacements)
    commission = plugins.build_model("commission", execution.commission, path=source, table="execution.commission")
    slippage = plugins.build_model("slippage", execution.slippage, path=source, table="execution.slippage")
    generator = plugins.build_strategy(config.strategy.name, config.strategy.params, path=source)
    schedule = config.schedule
    mask = rebalance_mask(prices.dates, rebalance=schedule.rebalance, every_n_bars=schedule.every_n_bars,
                          dates_list=schedule.dates, source=source, first_bar=prices.warmup_bars,
                          start=config.data.start, end=config.data.end)
    portfolio = config.portfolio
    events = [event.to_dict() for event in config.events]  # the [[events]] as the scenario's tables hold them
    # prices passed as a frame are named as such: the scenario's file is not what lacks a column
    from_frame = IN_MEMORY_NAME in prices.sources
    data_name = data_label(prices, config.data.path)  # what messages call the data
    fit = check_fit(prices, source=source, data_path=data_name,
                    from_frame=from_frame, timing=execution.timing,
                    volume_limit=execution.volume_limit, slippage=slippage,
                    slippage_reference=str(execution.slippage.get("model")), missing=config.data.missing,
                    order_types=order_type_asks({"order_type": execution.order_type}, events),
                    borrow_rates=tuple(portfolio.borrow_rates), strategy_symbols=named_symbols(generator),
                    strategy=config.strategy.name, data_symbols=tuple(config.data.symbols))
    # The rebalance's weights row: the signal bar's end when its orders fill there, else the next bar's.
    weights_lag = 0 if fills_on_signal_bar(execution.timing, execution.order_type) else 1
    # The rebalance's order type, passed only when set, so a replacement written before it existed still fits.
    rebalance_orders = {key: value for key, value, default in (
        ("order_type", execution.order_type, "market"), ("limit_offset_bps", execution.limit_offset_bps, 0.0),
        ("time_in_force", execution.time_in_force, "day"), ("expire_after", execution.expire_after, None))
        if value != default}
    book = Portfolio(prices.symbols, portfolio.initial_cash, margin=portfolio.margin, allow_short=portfolio.allow_short)
    # The keys of a margin account go to the built-in stages only when set, so a replacement written before
    # they existed still fits a scenario without them (docs/long-short.md).
    limits = {key: value for key, value in (("max_gross", portfolio.max_gross), ("max_net", portfolio.max_net))
              if value is not None}
    margin = {"margin": True} if portfolio.margin else {}
    history = BookHistory(prices.symbols)
    context = Context(symbols=prices.symbols, dates=prices.dates, portfolio=PortfolioView(book),
                      first_bar=prices.warmup_bars)
    stages: dict[str, tuple[Handler, ...]] = {
        "portfolio": (_build("portfolio", PortfolioHandler, replacements, book=book, history=history,
                             weights_lag=weights_lag, **limits),),
        "corporate_actions": (CorporateActionsHandler(withholding_tax=config.portfolio.withholding_tax,
                                                      dividend_payment=config.data.dividend_payment),)
                             if config.data.corporate_actions else (),
        "execution": (_build("execution", ExecutionHandler, replacements, commission=commission,
                             slippage=slippage, timing=execution.timing, volume_limit=execution.volume_limit,
                             remainder=execution.remainder,
                             # only when set, so a replacement written before it existed still fits
                             **({"commission_per": execution.commission_per}
                                if execution.commission_per != "order" else {}),
                             **({"rebalance_order_type": execution.order_type}
                                if execution.order_type != "market" else {}), **margin,
                             # a delisting: the symbols' last closes, to cancel their waiting orders there
                             **({"series_last": tuple(fit.bounds[1].tolist())} if fit.series_end_early else {})),),
        "delisting": (DelistingHandler(prices.close, policy=config.data.delisting, path=data_name,
                                       bounds=fit.bounds),) if fit.series_end_early else (),
        "margin": (MarginHandler(maintenance_margin=portfolio.maintenance_margin, response=portfolio.margin_call,
                                 commission=cast(CommissionModel, commission),
                                 slippage=cast(SlippageModel, slippage)),)
                  if portfolio.maintenance_margin is not None else (),
        "strategy": (_build("strategy", StrategyHandler, replacements, generator=generator, rebalance_bars=mask,
                            strategy_name=config.strategy.name,
                            # only when set, so a replacement written before it existed still fits
                            **({"prices": config.strategy.prices}
                               if config.strategy.prices != "split_adjusted" else {}),
                            **({"allow_short": True} if portfolio.allow_short else {}), **limits,
                            **({"data_symbols": tuple(config.data.symbols)} if config.data.symbols else {})),),
        "rebalance": (_build("rebalance", RebalanceHandler, replacements, commission=commission,
                             slippage=slippage, cash_buffer=config.rebalance.cash_buffer,
                             min_trade_value=config.rebalance.min_trade_value, **rebalance_orders, **margin),),
        "financing": _margin_fees(config),
        "handlers": tuple(plugins.build_handler(spec.name, spec.params, path=source, table=f"handlers[{index}]")
                          for index, spec in enumerate(config.handlers)),
        "injected": (InjectedEvents(events, source=source, withdrawal=config.portfolio.withdrawal,
                                    commission=commission, slippage=slippage, start=config.data.start),)
                    if config.events else (),
    }
    for extra in extra_handlers:  # a scenario's [[handlers]] are checked when built; these come from Python
        problem = plugins.handler_problem(extra)
        if problem is not None:
            raise ContractError(f"extra_handlers: {problem}", plugin=getattr(extra, "name", None))
    repeated = plugins.repeated_name_problem([*((f"handlers[{i}]", h) for i, h in enumerate(stages["handlers"])),
                                              *((f"extra_handlers[{i}]", h) for i, h in enumerate(extra_handlers))])
    if repeated is not None:
        label, problem = repeated
        if label.startswith("extra_"):
            raise ContractError(f"{label}: {problem}", plugin=label)
        raise ScenarioError(f"[{label}] {problem}", path=source, table=label, key="name")
    handlers = (*(handler for name in STAGES for handler in stages[name]), *extra_handlers)
    for handler in handlers:
        plugins.bind_handler(handler, context)  # a handler's own failure here is named, not a traceback
    with_data_end = any(DataEndEvent in handler.subscribes for handler in handlers)
    feed = DataFeed(prices, context.next_id, with_open=execution.timing == "next_open", with_data_end=with_data_end,
                    on_bar_end=progress, reserve_ids=context.reserve_ids)
    return Pipeline(book=book, history=history, context=context, stages=stages, handlers=handlers, feed=feed,
                    fit=fit)
