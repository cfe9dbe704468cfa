"""Shared test configuration: the hypothesis profiles.

``ci`` (the default) keeps the property suite bounded; ``deep`` runs many more examples
(``make test-deep`` sets ``EVENTBT_HYPOTHESIS_PROFILE=deep``). Neither has a deadline: a run's duration
depends on the machine, never on correctness.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("EVENTBT_HYPOTHESIS_PROFILE", "ci"))
