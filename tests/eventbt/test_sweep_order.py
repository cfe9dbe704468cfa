"""The order a sweep hands its combinations out in (eventbt/sweeps/executors.py, ``snake_order``): blocks of as
many tasks as workers, every other block reversed, so that a cost growing along the grid is shared evenly."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import pytest

from eventbt.bench import workloads
from eventbt.sweeps.executors import LocalExecutor, Task, snake_order


def tasks(n: int) -> list[Task]:
    return [Task(index=k, overrides=(f"strategy.params.top_n={k}",)) for k in range(1, n + 1)]


@pytest.mark.parametrize(("n", "workers", "expected"), [
    (8, 2, [1, 2, 4, 3, 5, 6, 8, 7]),
    (7, 3, [1, 2, 3, 6, 5, 4, 7]),
    (5, 2, [1, 2, 4, 3, 5]),
    (3, 1, [1, 2, 3]),
    (3, 0, [1, 2, 3]),  # a cluster with no worker yet: the grid's order
    (2, 4, [1, 2]),
    (0, 2, []),
])
def test_blocks_of_one_task_per_worker_every_other_one_reversed(n: int, workers: int, expected: list[int]) -> None:
    """Written out by hand from the rule."""
    assert [task.index for task in snake_order(tasks(n), workers)] == expected


def test_a_cost_growing_along_the_grid_is_shared_evenly() -> None:
    """Two workers taking tasks in turn (each the next one when it is free), tasks costing 1..8 in grid order: in
    that order one worker gets 1+3+5+7 = 16 and the other 2+4+6+8 = 20; in the snake order 1+4+5+8 = 18 each. The
    turns are played out here with the costs as whole numbers (no clock)."""
    def finish(order: list[int]) -> list[int]:
        free_at = [0, 0]
        for cost in order:
            worker = free_at.index(min(free_at))  # the first free worker takes the next task
            free_at[worker] += cost
        return sorted(free_at)

    assert finish([task.index for task in tasks(8)]) == [16, 20]
    assert finish([task.index for task in snake_order(tasks(8), 2)]) == [18, 18]


def test_the_local_pool_submits_in_the_snake_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool (replaced by one that runs each task at once in this process) is given the tasks in the snake
    order, after one start-up task per worker; every row still arrives once, under its combination's number."""
    submitted: list[int] = []

    class InlinePool:
        def __init__(self, workers: int, **kwargs: Any) -> None:
            assert workers == 2

        def __enter__(self) -> InlinePool:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def submit(self, function: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            if args:
                submitted.append(args[0].index)
                future.set_result({"combination": args[0].index})
            else:
                future.set_result(None)
            return future

        def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
            return None

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", InlinePool)
    rows: list[dict[str, Any]] = []
    LocalExecutor(2).run(workloads.rotation_config(), workloads.gbm_prices(3, 30), tasks(8), rows.append)
    assert submitted == [1, 2, 4, 3, 5, 6, 8, 7]
    assert sorted(row["combination"] for row in rows) == list(range(1, 9))
