"""The model card read back in words and tables, for the Late-payment risk page and the Overview:
which scorer won, by how much on validation and test, with intervals; how far the payment dates
and the cash forecast were off. No Streamlit here, so the wording is tested without a browser.
"""

from __future__ import annotations

import pandas as pd

from models.risk_eval import METRIC_NAMES

SHOWN_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "accuracy", "top_decile_lift")


def _value(value, interval=None) -> str:
    if value is None or pd.isna(value):
        return "–"
    if interval and interval[0] is not None and interval[1] is not None:
        return f"{value:.3f} ({interval[0]:.3f}–{interval[1]:.3f})"
    return f"{value:.3f}"


def candidates_table(card: dict) -> pd.DataFrame:
    """One row per candidate: shipped or not, validation ROC AUC (pooled over the origins), and
    every test metric with its 95% interval where one was computed."""
    rows = []
    validation = card["validation"].get("metrics") or {}
    intervals = card.get("intervals") or {}
    for key, about in card["candidates"].items():
        test = card["metrics"].get(key) or {}
        row = {
            "Candidate": about["label"] + (" ✓ shipped" if key == card["shipped"] else ""),
            "Validation ROC AUC": _value((validation.get(key) or {}).get("roc_auc")),
        }
        for metric in SHOWN_METRICS:
            bounds = (intervals.get(key) or {}).get(metric)
            row[f"Test {METRIC_NAMES[metric]}"] = _value(test.get(metric), bounds)
        rows.append(row)
    return pd.DataFrame(rows)


def context_line(card: dict) -> str:
    """Accuracy next to the majority-class rate, lift next to its ceiling, for the shipped one."""
    shipped = card["metrics"].get(card["shipped"]) or {}
    context = card.get("context") or {}
    parts = []
    if shipped.get("accuracy") is not None and context.get("majority_rate") is not None:
        parts.append(
            f"accuracy {shipped['accuracy']:.1%} against {context['majority_rate']:.1%} for "
            "always answering the more common outcome"
        )
    if shipped.get("top_decile_lift") is not None and context.get("top_decile_lift_ceiling"):
        parts.append(
            f"the top tenth of scores holds {shipped['top_decile_lift']:.1f}× the average late "
            f"rate, of at most {context['top_decile_lift_ceiling']:.1f}× possible"
        )
    if not parts:
        return ""
    return f"{card['shipped_label']} on the test period: " + "; ".join(parts) + "."


def payment_dates_line(card: dict) -> str:
    """Which payment-date predictor is used, why, and its test error against the other one."""
    dates = card.get("payment_dates") or {}
    used = (
        "the days-late model"
        if dates.get("predictor") == "model"
        else "the customer's median days late"
    )
    text = f"Expected payment dates come from {used}"
    if dates.get("reason"):
        text += f" ({dates['reason']})"
    test = dates.get("mae_test") or {}
    if test.get("median") is not None:
        model = f"{test['model']:.1f} days for the model, " if test.get("model") is not None else ""
        text += f". On the test period they were off by {model}{test['median']:.1f} for the median (mean absolute error, {test['invoices']:,} invoices)"
    return text + "."


def backtest_line(backtest: dict | None) -> str:
    """The Overview's sentence beside the cash forecast."""
    if not backtest:
        return ""
    shipped, other = backtest["shipped"], backtest.get("other")
    dates = ", ".join(pd.Timestamp(d).strftime("%d %b %Y") for d in backtest["dates"])
    text = (
        f"Back-tested at {shipped['dates']} past month-ends ({dates}): week by week the forecast "
        f"was off by {shipped['weekly_error']:.0%} of what was collected, and its 8-week total by "
        f"{shipped['total_bias']:+.0%}"
    )
    if other:
        name = (
            "the days-late model"
            if other["predictor"] == "model"
            else "the customer's median days late"
        )
        text += (
            f" (with {name} instead: {other['weekly_error']:.0%} and {other['total_bias']:+.0%})"
        )
    return text + "."
