"""Option types the commands share (argparse ``type`` functions): each turns an option's text into its value or
an :class:`argparse.ArgumentTypeError` with the message, a usage error (exit 2)."""

from __future__ import annotations

import argparse

__all__ = ["risk_free_option"]


def risk_free_option(text: str) -> float:
    """The ``--risk-free RATE`` option of ``show``, ``report`` and ``compare`` (an argparse ``type``): a finite
    annual rate as a fraction, below 100% either way (:func:`eventbt.results.inputs.check_risk_free`), else an
    :class:`argparse.ArgumentTypeError` with its message (``--risk-free 5`` is 500%, surely meant as 0.05)."""
    from eventbt.errors import DataError
    from eventbt.results.inputs import check_risk_free

    try:
        return check_risk_free(text, source="rate")
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
