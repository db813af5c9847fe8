"""What the pages do to be fast must not change a figure: shared roll rates, shared cache entries."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from arlens import metrics
from arlens.store import Store
from ui.data import _bound

DAY = dt.date(2026, 6, 30)


def test_loss_views_from_roll_rates_read_once_are_the_same(sample_db):
    """The Bad-debt page reads the roll rates once and hands them to its three loss views."""
    with Store.open(sample_db, read_only=True) as store:
        rates = metrics.roll_rates(store, DAY, months=12)
        pd.testing.assert_frame_equal(
            metrics.allowance(store, DAY, history_months=12, rates=rates),
            metrics.allowance(store, DAY, history_months=12),
        )
        for group in ("customer", "segment"):
            pd.testing.assert_frame_equal(
                metrics.expected_credit_loss_by(store, DAY, group, 12, rates=rates),
                metrics.expected_credit_loss_by(store, DAY, group, 12),
            )


def test_a_call_with_and_without_its_defaults_is_one_cache_entry():
    """`kpis(as_of=d)` (Overview) and `kpis(as_of=d, window_days=90)` (DSO) share one entry."""
    short = _bound(metrics.kpis, {"as_of": DAY, "filters": {}})
    full = _bound(metrics.kpis, {"as_of": DAY, "window_days": 90, "filters": {}})
    assert short == full == {"as_of": DAY, "window_days": 90, "filters": {}}
