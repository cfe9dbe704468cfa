"""The tutorials in docs/cost-models.md run as written: the model and fee files, their checks and their runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.eventbt.doc_code import DOCS, python_blocks

DOC = DOCS / "cost-models.md"


def test_tutorial_code_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model and fee-handler files are written out, then every other python block runs in order."""
    blocks = python_blocks(DOC)
    files = [block for block in blocks if block["file"]]
    assert [block["file"] for block in files] == ["my_costs.py", "my_order_costs.py", "my_fees.py"]
    for block in files:
        (tmp_path / block["file"]).write_text(block["code"], encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "my_costs", raising=False)
    monkeypatch.delitem(sys.modules, "my_fees", raising=False)
    monkeypatch.delitem(sys.modules, "my_order_costs", raising=False)
    namespace: dict[str, object] = {}
    snippets = [block["code"] for block in blocks if not block["file"]]
    assert len(snippets) == 4
    for code in snippets:
        exec(compile(code, str(DOC), "exec"), namespace)
    assert namespace["result"].summary["costs"]["commission"]["amount"] == 5.0  # type: ignore[attr-defined]
    # the ticket fee of the day-one buy, booked at day two: 2.00
    assert namespace["with_fee"].summary["costs"]["fee:ticket_fee"]["amount"] == 2.0  # type: ignore[attr-defined]
    sys.modules.pop("my_costs", None)
    sys.modules.pop("my_fees", None)
    sys.modules.pop("my_order_costs", None)


def test_tutorial_model_fails_the_contract_when_broken() -> None:
    """The contract the tutorial relies on catches a model that charges for nothing filled."""
    from eventbt.testing import check_commission_model

    class ChargesForNothing:
        def commission(self, quantity: int, value: float) -> float:
            return 4.0

    with pytest.raises(AssertionError, match="nothing filled must cost 0"):
        check_commission_model(ChargesForNothing())
