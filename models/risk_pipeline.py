"""The estimators of the risk model, its baselines, and per-invoice explanations.

- `late_model`: gradient-boosted trees calibrated on the newest training rows
  (`HoldoutCalibratedClassifier`), P(late).
- `logistic_baseline`: logistic regression on the same features, reported beside it.
- `days_model`: gradient-boosted trees for the expected days late (capped), for payment dates.
- `explain`: which feature groups moved each invoice's P(late), by setting each group to the
  training set's typical value and measuring how the score changes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

NUMERIC = [
    "amount", "amount_vs_usual", "terms_days", "invoice_disputed", "prior_invoices", "tenure_days",
    "settled_count", "late_share", "late_share_recent", "days_late_mean", "days_late_median",
    "days_late_sd", "days_late_recent", "days_late_trend", "last_days_late", "days_to_settle_mean",
    "disputed_share", "days_since_last_payment", "open_balance", "past_due", "past_due_30",
    "past_due_share", "credit_utilisation", "disputes_raised", "promises_made", "broken_promises",
    "collection_actions",
]  # fmt: skip
CATEGORICAL = [
    "month", "doc_type", "currency", "segment", "country", "billing_channel", "last_payment_method",
]  # fmt: skip
FEATURES = NUMERIC + CATEGORICAL
# Read as of the scoring date, not the invoice date: the invoice's own dispute (for a training
# invoice: as of the last day it would be scored, its due date plus grace days).
AS_OF_SCORING = ["invoice_disputed"]

# Explanations speak in groups of features a collector recognises; the first one is shown.
REASONS = {
    "dispute": ["invoice_disputed", "disputes_raised", "disputed_share"],
    "payment history": ["late_share", "settled_count", "days_late_mean", "days_late_median",
                        "days_late_sd", "last_days_late", "days_to_settle_mean"],
    "recent lateness": ["days_late_recent", "late_share_recent", "days_late_trend"],
    "past due balance": ["past_due", "past_due_30", "past_due_share"],
    "open balance": ["open_balance", "credit_utilisation"],
    "promises and reminders": ["broken_promises", "promises_made", "collection_actions"],
    "invoice amount": ["amount_vs_usual", "amount"],
    "terms and month": ["terms_days", "month"],
    "billing and payment": ["billing_channel", "last_payment_method", "days_since_last_payment"],
    "relationship": ["prior_invoices", "tenure_days"],
    "customer profile": ["segment", "country", "currency", "doc_type"],
}  # fmt: skip
_SHOWN = {
    "invoice_disputed": lambda v: "this invoice is disputed" if v >= 0.5 else "not disputed",
    "late_share": "{:.0%} of earlier invoices late".format,
    "days_late_recent": "lately {:+.0f} days vs due".format,
    "past_due": "{:,.0f} past due".format,
    "open_balance": "{:,.0f} open".format,
    "broken_promises": "{:.0f} broken promises".format,
    "amount_vs_usual": "{:.1f}× the usual amount".format,
    "terms_days": "{:.0f}-day terms".format,
    "billing_channel": "{} billing".format,
    "prior_invoices": "{:.0f} earlier invoices".format,
    "segment": "{}".format,
}


def usable_features(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) features that vary in `X`: a column that is constant or empty in
    the training rows (no credit limits, no segments, no payments in a plain register) carries
    nothing and is kept away from the estimators."""
    varies = [c for c in FEATURES if X[c].nunique(dropna=True) >= 2]
    return [c for c in NUMERIC if c in varies], [c for c in CATEGORICAL if c in varies]


def _prepare_for_trees(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Categories as ordinal codes (unknown or missing: NaN, which the trees route on their own)."""
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    parts = [("categories", encoder, categorical)] if categorical else []
    return ColumnTransformer(
        [*parts, ("numbers", "passthrough", numeric)], verbose_feature_names_out=False
    ).set_output(transform="pandas")


def _trees(estimator, categorical: list[str], leaves: int = 31, min_leaf: int = 100):
    return estimator(
        learning_rate=0.2,  # as good as 0.1 here, with half the trees to evaluate
        max_iter=300,
        max_leaf_nodes=leaves,
        min_samples_leaf=min_leaf,
        l2_regularization=1.0,
        categorical_features=categorical or None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=0,
    )


class HoldoutCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """A binary classifier calibrated on its newest rows, then refitted on all of them.

    Rows must come in time order. `estimator` is fitted on the oldest (1 − `holdout`) share;
    an isotonic (or sigmoid) calibrator learns how its scores on the newest share translate into
    observed rates; then `estimator` is refitted on every row (so the newest behaviour shapes the
    trees) and the calibrator maps its scores. The calibrator never sees scores of rows the
    estimator was fitted on. When either share lacks a class, nothing can be calibrated:
    `calibrated_` is False and the estimator's own probabilities are used.
    """

    def __init__(self, estimator=None, holdout: float = 0.2, method: str = "isotonic"):
        self.estimator = estimator
        self.holdout = holdout
        self.method = method

    def fit(self, X, y):
        X, y = validate_data(self, X, y, skip_check_array=True)
        X = self._check(X)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"Only binary classification is supported: got {len(self.classes_)} class(es)"
            )
        if self.method not in ("isotonic", "sigmoid"):
            raise ValueError("method is 'isotonic' or 'sigmoid'")
        positive = (y == self.classes_[1]).astype(int)
        split = int(len(y) * (1 - self.holdout))
        self.calibrated_ = all(
            0 < part.sum() < len(part) for part in (positive[:split], positive[split:])
        )
        self.calibrator_ = None
        if self.calibrated_:
            older = clone(self.estimator).fit(_rows(X, slice(None, split)), y[:split])
            scores = older.predict_proba(_rows(X, slice(split, None)))[:, 1]
            if self.method == "isotonic":
                self.calibrator_ = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
                self.calibrator_.fit(scores, positive[split:])
            else:
                self.calibrator_ = LogisticRegression(C=1e6).fit(_logit(scores), positive[split:])
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, self._check(X), reset=False, skip_check_array=True)
        scores = self.estimator_.predict_proba(X)[:, 1]
        if self.calibrator_ is None:
            p = scores
        elif self.method == "isotonic":
            p = self.calibrator_.predict(scores)
        else:
            p = self.calibrator_.predict_proba(_logit(scores))[:, 1]
        return np.column_stack([1 - p, p])

    def predict(self, X):
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _check(self, X):
        """Data frames pass as they are (the trees want their column names); arrays are checked."""
        if hasattr(X, "iloc"):
            return X
        return check_array(X, ensure_all_finite="allow-nan" if self._allow_nan() else True)

    def _allow_nan(self) -> bool:
        return self.estimator is not None and get_tags(self.estimator).input_tags.allow_nan

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = self._allow_nan()
        return tags


def _rows(X, rows: slice):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


class HistoricalRateClassifier(ClassifierMixin, BaseEstimator):
    """The customer's share of earlier settled invoices paid late (feature `late_share`), or the
    training late rate for a customer with none: the baseline every model must beat, and the
    scorer AR Lens ships when none does."""

    def __init__(self, column: str = "late_share"):
        self.column = column

    def fit(self, X, y):
        y = column_or_1d(y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self.base_rate_ = float(np.mean(y == self.classes_[-1]))
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        p = pd.to_numeric(X[self.column], errors="coerce").fillna(self.base_rate_).clip(0, 1)
        p = p.to_numpy(dtype=float)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def late_model(numeric: list[str], categorical: list[str], leaves: int = 31, min_leaf: int = 100) -> Pipeline:  # fmt: skip
    """P(late): gradient-boosted trees, calibrated (sigmoid: keeps the trees' ranking) on the
    newest 20% of the training invoices, then refitted on all of them. Fit it on rows in
    invoice-date order."""
    trees = _trees(HistGradientBoostingClassifier, categorical, leaves, min_leaf)
    classifier = HoldoutCalibratedClassifier(trees, holdout=0.2, method="sigmoid")
    return Pipeline([("prepare", _prepare_for_trees(numeric, categorical)), ("classifier", classifier)])  # fmt: skip


def days_model(numeric: list[str], categorical: list[str]) -> Pipeline:
    """Expected days late (negative: early), capped: drives the expected payment date."""
    regressor = _trees(HistGradientBoostingRegressor, categorical)
    return Pipeline([("prepare", _prepare_for_trees(numeric, categorical)), ("regressor", regressor)])  # fmt: skip


def logistic_baseline(numeric: list[str], categorical: list[str], C: float = 1.0) -> Pipeline:
    """Regularised logistic regression: imputed, squashed (arcsinh) and scaled numbers, one-hot
    categories."""
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("squash", FunctionTransformer(np.arcsinh)),
            ("scale", StandardScaler()),
        ]
    )
    parts = [("numbers", numbers, numeric)]
    if categorical:
        categories = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)
        parts.append(("categories", categories, categorical))
    classifier = LogisticRegression(C=C, max_iter=1000)
    return Pipeline([("prepare", ColumnTransformer(parts)), ("classifier", classifier)])


def reference_row(X: pd.DataFrame) -> dict:
    """The typical invoice of the training set: medians and most frequent categories."""
    row = {c: float(X[c].median()) if X[c].notna().any() else None for c in NUMERIC}
    for c in CATEGORICAL:
        counts = X[c].value_counts()
        row[c] = str(counts.index[0]) if len(counts) else None
    return row


def _groups(used: list[str]) -> dict[str, list[str]]:
    """The reason groups among the features a scorer uses (each with its used columns)."""
    groups = {g: [c for c in columns if c in used] for g, columns in REASONS.items()}
    return {g: columns for g, columns in groups.items() if columns}


def explain(
    model,
    X: pd.DataFrame,
    p: np.ndarray,
    reference: dict,
    used: list[str],
    top: int = 3,
    min_effect: float = 0.01,
    chunk: int = 20_000,
) -> tuple[list[str], list[str]]:
    """For each row: (reasons text, JSON) of the `top` groups of the features the scorer uses
    (`used`) whose typical value moves P(late) most (by at least `min_effect`): effect =
    P(late) − P(late with that group set to typical).

    For the trees the variants are built after the pipeline's `prepare` step (numbers only), so
    each group costs one pass of the classifier and no re-encoding; other scorers are asked
    again with the raw columns replaced."""
    groups = _groups(used)
    names = list(groups)
    fast = isinstance(model, Pipeline) and isinstance(model[-1], HoldoutCalibratedClassifier)
    if fast:
        prepare, classifier = model[:-1], model[-1]
        frame = prepare.transform(X)
        typical = prepare.transform(pd.DataFrame([reference])[X.columns])
    else:
        classifier = model
        frame = X.reset_index(drop=True)
        typical = pd.DataFrame([reference])[X.columns]
    columns = list(frame.columns)
    positions = [[columns.index(c) for c in groups[g]] for g in names]
    values = frame.to_numpy(dtype=float if fast else object)
    typical = typical.to_numpy(dtype=float if fast else object)[0]
    effects = np.empty((len(names), len(X)))
    for start in range(0, len(X), chunk):
        part = values[start : start + chunk]
        variants = np.tile(part, (len(names), 1))
        for g, where in enumerate(positions):
            variants[g * len(part) : (g + 1) * len(part), where] = typical[where]
        variants = pd.DataFrame(variants, columns=columns)
        if not fast:
            variants = variants.astype(X.dtypes.to_dict())
        q = classifier.predict_proba(variants)[:, 1]
        effects[:, start : start + len(part)] = p[start : start + len(part)] - q.reshape(len(names), len(part))  # fmt: skip
    texts, documents = [], []
    shown = X[[groups[g][0] for g in names]].to_numpy(dtype=object)
    order = np.argsort(-np.abs(effects), axis=0, kind="stable")[:top]
    for i in range(len(X)):
        picked = [
            (names[g], float(effects[g, i]), groups[names[g]][0], shown[i, g])
            for g in order[:, i]
            if abs(effects[g, i]) >= min_effect
        ]
        texts.append("; ".join(f"{name} {effect * 100:+.0f} pts" + _detail(column, value)
                               for name, effect, column, value in picked))  # fmt: skip
        documents.append(
            json.dumps(
                [{"reason": name, "effect": round(effect, 4)} for name, effect, *_ in picked]
            )
        )
    return texts, documents


def _detail(column: str, value) -> str:
    if column not in _SHOWN or value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f" ({_SHOWN[column](value)})"
