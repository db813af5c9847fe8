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
    "amount", "amount_vs_usual", "terms_days", "prior_invoices", "tenure_days", "settled_count",
    "late_share", "late_share_recent", "days_late_mean", "days_late_sd", "days_late_recent",
    "days_late_trend",
    "last_days_late", "days_to_settle_mean", "disputed_share", "open_balance", "past_due",
    "past_due_30", "past_due_share", "credit_utilisation", "disputes_raised", "promises_made",
    "broken_promises", "collection_actions",
]  # fmt: skip
CATEGORICAL = ["month", "doc_type", "currency", "segment", "country"]
FEATURES = NUMERIC + CATEGORICAL

# Explanations speak in groups of features a collector recognises; the first one is shown.
REASONS = {
    "payment history": ["late_share", "settled_count", "days_late_mean", "days_late_sd",
                        "last_days_late", "days_to_settle_mean"],
    "recent lateness": ["days_late_recent", "late_share_recent", "days_late_trend"],
    "past due balance": ["past_due", "past_due_30", "past_due_share"],
    "open balance": ["open_balance", "credit_utilisation"],
    "disputes": ["disputes_raised", "disputed_share"],
    "promises and reminders": ["broken_promises", "promises_made", "collection_actions"],
    "invoice amount": ["amount_vs_usual", "amount"],
    "terms and month": ["terms_days", "month"],
    "relationship": ["prior_invoices", "tenure_days"],
    "customer profile": ["segment", "country", "currency", "doc_type"],
}  # fmt: skip
_SHOWN = {
    "late_share": "{:.0%} of earlier invoices late",
    "days_late_recent": "lately {:+.0f} days vs due",
    "past_due": "{:,.0f} past due",
    "open_balance": "{:,.0f} open",
    "disputes_raised": "{:.0f} disputes",
    "broken_promises": "{:.0f} broken promises",
    "amount_vs_usual": "{:.1f}× the usual amount",
    "terms_days": "{:.0f}-day terms",
    "prior_invoices": "{:.0f} earlier invoices",
    "segment": "{}",
}


def _prepare_for_trees() -> ColumnTransformer:
    """Categories as ordinal codes (unknown or missing: NaN, which the trees route on their own)."""
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    return ColumnTransformer(
        [("categories", encoder, CATEGORICAL), ("numbers", "passthrough", NUMERIC)],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")


def _trees(estimator):
    return estimator(
        learning_rate=0.2,  # as good as 0.1 here, with half the trees to evaluate
        max_iter=300,
        max_leaf_nodes=31,
        min_samples_leaf=100,
        l2_regularization=1.0,
        categorical_features=CATEGORICAL,
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


def late_model() -> Pipeline:
    """P(late): gradient-boosted trees, calibrated (sigmoid: keeps the trees' ranking) on the
    newest 20% of the training invoices, then refitted on all of them. Fit it on rows in
    invoice-date order."""
    classifier = HoldoutCalibratedClassifier(
        _trees(HistGradientBoostingClassifier), holdout=0.2, method="sigmoid"
    )
    return Pipeline([("prepare", _prepare_for_trees()), ("classifier", classifier)])


def days_model() -> Pipeline:
    """Expected days late (negative: early), capped: drives the expected payment date."""
    return Pipeline([("prepare", _prepare_for_trees()), ("regressor", _trees(HistGradientBoostingRegressor))])  # fmt: skip


def logistic_baseline() -> Pipeline:
    """The linear baseline: imputed, squashed (arcsinh) and scaled numbers, one-hot categories."""
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("squash", FunctionTransformer(np.arcsinh)),
            ("scale", StandardScaler()),
        ]
    )
    categories = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)
    prepare = ColumnTransformer([("numbers", numbers, NUMERIC), ("categories", categories, CATEGORICAL)])  # fmt: skip
    return Pipeline([("prepare", prepare), ("classifier", LogisticRegression(max_iter=1000))])


def reference_row(X: pd.DataFrame) -> dict:
    """The typical invoice of the training set: medians and most frequent categories."""
    row = {c: float(X[c].median()) if X[c].notna().any() else None for c in NUMERIC}
    for c in CATEGORICAL:
        counts = X[c].value_counts()
        row[c] = str(counts.index[0]) if len(counts) else None
    return row


def explain(
    model: Pipeline,
    X: pd.DataFrame,
    p: np.ndarray,
    reference: dict,
    top: int = 3,
    min_effect: float = 0.01,
    chunk: int = 20_000,
) -> tuple[list[str], list[str]]:
    """For each row: (reasons text, JSON) of the `top` groups whose typical value moves P(late)
    most (by at least `min_effect`): effect = P(late) − P(late with that group set to typical).

    The variants are built after the pipeline's `prepare` step (numbers only), so each group
    costs one pass of the classifier and no re-encoding."""
    prepare, classifier = model[:-1], model[-1]
    prepared = prepare.transform(X)
    columns = list(prepared.columns)
    typical = prepare.transform(pd.DataFrame([reference])[X.columns]).to_numpy(dtype=float)[0]
    groups = list(REASONS)
    positions = [[columns.index(c) for c in REASONS[g]] for g in groups]
    values = prepared.to_numpy(dtype=float)
    effects = np.empty((len(groups), len(X)))
    for start in range(0, len(X), chunk):
        part = values[start : start + chunk]
        variants = np.tile(part, (len(groups), 1))
        for g, where in enumerate(positions):
            variants[g * len(part) : (g + 1) * len(part), where] = typical[where]
        q = classifier.predict_proba(pd.DataFrame(variants, columns=columns))[:, 1]
        effects[:, start : start + len(part)] = p[start : start + len(part)] - q.reshape(len(groups), len(part))  # fmt: skip
    texts, documents = [], []
    shown = X[[REASONS[g][0] for g in groups]].to_numpy(dtype=object)
    order = np.argsort(-np.abs(effects), axis=0, kind="stable")[:top]
    for i in range(len(X)):
        picked = [
            (groups[g], float(effects[g, i]), shown[i, g])
            for g in order[:, i]
            if abs(effects[g, i]) >= min_effect
        ]
        texts.append("; ".join(f"{name} {effect * 100:+.0f} pts" + _detail(name, value)
                               for name, effect, value in picked))  # fmt: skip
        documents.append(
            json.dumps([{"reason": name, "effect": round(effect, 4)} for name, effect, _ in picked])
        )
    return texts, documents


def _detail(group: str, value) -> str:
    column = REASONS[group][0]
    if column not in _SHOWN or value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f" ({_SHOWN[column].format(value)})"
