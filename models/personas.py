"""Customer personas: payment behaviour clustered into named groups, each with a collection strategy.

Credit practice treats customers differently because they need different handling: a strong
customer who pays late to hold cash is not a struggling one, nor a disorganised one that loses
invoices. This module

1. computes behaviour features per customer at an as-of date (SQL: `arlens/sql/personas.sql`,
   point in time: nothing dated after the as-of date counts);
2. sets customers with too little history apart ("New / thin history") and clusters the rest
   with scikit-learn — impute → signed log of day counts → standard scaling → KMeans (or a
   GaussianMixture), k in 3..7 chosen by silhouette (or BIC) — and measures stability as the
   adjusted Rand index between the model and refits on bootstrap resamples;
3. names each cluster from its centroid (the median of its members, in original units) by
   explicit rules (`name_cluster`, in models/persona_rules.py with the personas' strategies and
   credit actions), with a one-line description in numbers;
4. assigns personas at each quarter-end with the same fitted model (one yardstick, point-in-time
   features) and lists who moved to a worse persona: the early-warning list;
5. stores the results in DuckDB (`customer_personas`, `persona_migrations`, `persona_runs`) for
   the pages, the worklist and the command line.

With fewer than MIN_CUSTOMERS_TO_CLUSTER established customers there is nothing to cluster: each
customer is then named by the same rules applied to its own features (method "rules"). With no
established customer at all (or no customer) there is nothing to name: `analyse` raises
PersonaDataError, whose one-line message says what the data needs.

Nothing here imports streamlit or plotly.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from arlens import queries
from arlens.store import Store
from models.persona_rules import (  # noqa: F401 (the rules are part of this module's API)
    CLUSTER_FEATURES,
    DAY_FEATURES,
    DETERIORATING,
    DETERIORATING_TREND,
    DISORGANISED,
    DISORGANISED_DISPUTES,
    FEATURE_LABELS,
    GRACE_DAYS,
    HAS_ROOM,
    K_VALUES,
    KEEPS_PROMISES,
    LOOKBACK_DAYS,
    MIN_CUSTOMERS_TO_CLUSTER,
    MIN_SETTLED_INVOICES,
    MIN_TENURE_DAYS,
    N_BOOTSTRAP,
    NEW,
    ON_TIME,
    ON_TIME_DAYS,
    PLAYBOOK,
    PROFILE_FEATURES,
    PROMPT,
    PROMPT_DAYS,
    RATE_FEATURES,
    SEVERITY,
    STEADY_SPREAD,
    STRAINED,
    STRETCHER,
    UTILISATION_CAP,
    describe,
    feature_value,
    is_worse,
    name_cluster,
)


class PersonaDataError(ValueError):
    """Too little behaviour data to name personas; the message says in one line what is needed
    (a ValueError, so the command line prints it as `arlens: <message>`)."""


MIGRATION_COLUMNS = [
    "customer_id",
    "name",
    "from_date",
    "quarter_end",
    "from_persona",
    "to_persona",
    "worse",
    "currency",
    "open_ar",
    "past_due",
]


# -- 1. Features ---------------------------------------------------------------------------------


def behaviour_features(
    store: Store,
    as_of: dt.date,
    lookback_days: int = LOOKBACK_DAYS,
    grace_days: int = GRACE_DAYS,
) -> pd.DataFrame:
    """One row per customer with an invoice dated ≤ `as_of`: the behaviour features
    (`personas.behaviour_features` in arlens/sql/personas.sql says how each is computed) and
    `thin_history` (tenure under MIN_TENURE_DAYS or fewer than MIN_SETTLED_INVOICES settled)."""
    frame = store.df(
        queries.sql("personas", "behaviour_features"),
        {"as_of": as_of, "lookback_days": int(lookback_days), "grace_days": int(grace_days)},
    )
    numeric = [c for c in PROFILE_FEATURES if c in frame] + ["open_ar", "past_due"]
    frame[numeric] = frame[numeric].astype(float)
    frame["thin_history"] = (frame["tenure_days"] < MIN_TENURE_DAYS) | (
        frame["settled_invoices"] < MIN_SETTLED_INVOICES
    )
    return frame


# -- 3. The model --------------------------------------------------------------------------------


def signed_log(x):
    """sign(x)·log(1 + |x|): day counts have long tails (a few customers pay 150 days late)."""
    return np.sign(x) * np.log1p(np.abs(x))


def clip_utilisation(x):
    return np.clip(x, 0, UTILISATION_CAP)


def preprocessing() -> Pipeline:
    """impute (median) → signed log of day counts, capped utilisation, rates as they are → scale."""
    columns = ColumnTransformer(
        [
            ("days", FunctionTransformer(signed_log, feature_names_out="one-to-one"),
             list(DAY_FEATURES)),
            ("utilisation", FunctionTransformer(clip_utilisation, feature_names_out="one-to-one"),
             ["credit_utilisation"]),
            ("rates", "passthrough", list(RATE_FEATURES)),
        ]
    )  # fmt: skip
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("columns", columns),
            ("scale", StandardScaler()),
        ]
    ).set_output(transform="pandas")


def _clusterer(method: str, k: int, random_state: int):
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=10, random_state=random_state)
    if method == "gmm":
        return GaussianMixture(
            n_components=k, covariance_type="full", n_init=3, random_state=random_state
        )
    raise ValueError("method is 'kmeans' or 'gmm'")


@dataclass
class PersonaModel:
    """A fitted persona model: the pipeline, the chosen k, its quality and its named clusters."""

    method: str  # "kmeans", "gmm" or "rules" (too few customers to cluster)
    k: int | None
    pipeline: Pipeline  # impute → columns → scale (→ cluster)
    projection: PCA | None  # 2-D map of the scaled features
    scores: pd.DataFrame  # per k: silhouette, bic
    stability: dict  # bootstrap adjusted Rand index: mean, min, values
    clusters: pd.DataFrame  # per cluster: size, persona, severity, description, ..., centroid
    customers: int = 0  # established customers the model was fitted on
    thin: int = 0  # set apart as New / thin history
    explained_variance: list[float] = field(default_factory=list)

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Persona per customer: customer_id, cluster (-1 = thin history, or the row number in
        rules mode), persona, severity, description, strategy, credit_action, pca_x, pca_y."""
        out = pd.DataFrame({"customer_id": features["customer_id"].to_numpy()})
        if features.empty:
            return out.assign(cluster=[], persona=[], severity=[], description=[], strategy=[],
                              credit_action=[], pca_x=[], pca_y=[])  # fmt: skip
        X = features[list(CLUSTER_FEATURES)]
        thin = features["thin_history"].to_numpy(bool)
        if self.method == "rules":
            named = [name_cluster(row) for row in features.to_dict("records")]
            out["cluster"] = np.where(thin, -1, np.arange(len(features)))
            out["persona"], out["description"], out["strategy"], out["credit_action"] = (
                list(column) for column in zip(*named, strict=True)
            )
        else:
            clusters = self.clusters.set_index("cluster")
            labels = np.where(thin, -1, self.pipeline.predict(X))
            out["cluster"] = labels
            for column in ("persona", "description", "strategy", "credit_action"):
                out[column] = [
                    clusters.at[label, column] if label >= 0 else None for label in labels
                ]
            if thin.any():
                thin_rows = features[thin].to_dict("records")
                named = [name_cluster({**row, "settled_invoices": 0}) for row in thin_rows]
                for column, values in zip(
                    ("persona", "description", "strategy", "credit_action"),
                    zip(*named, strict=True),
                    strict=True,
                ):
                    out.loc[thin, column] = list(values)
        out["severity"] = out["persona"].map(SEVERITY).astype("Int64")
        out["pca_x"], out["pca_y"] = self._project(X)
        return out

    def _project(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if self.projection is None:
            return np.zeros(len(X)), np.zeros(len(X))
        scaled = self.pipeline[:3].transform(X)
        points = self.projection.transform(scaled)
        return points[:, 0], points[:, 1]

    def metrics(self) -> dict:
        """Quality and stability, JSON-ready."""
        return {
            "method": self.method,
            "k": self.k,
            "customers_clustered": self.customers,
            "thin_history": self.thin,
            "scores": [
                {
                    "k": int(row["k"]),
                    "silhouette": _round(row["silhouette"]),
                    "bic": _round(row["bic"], 1),
                }
                for row in self.scores.to_dict("records")
            ],
            "silhouette": _round(self.scores.set_index("k")["silhouette"].get(self.k))
            if self.k
            else None,
            "stability_ari_mean": _round(self.stability.get("mean")),
            "stability_ari_min": _round(self.stability.get("min")),
            "bootstrap_resamples": len(self.stability.get("values", [])),
            "pca_explained_variance": [round(v, 4) for v in self.explained_variance],
            "features": list(CLUSTER_FEATURES),
        }


def _round(value, digits: int = 4):
    return None if value is None or pd.isna(value) else round(float(value), digits)


def _centroids(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per cluster: its size and the median of each profile feature in original units."""
    frame = features[list(PROFILE_FEATURES)].assign(cluster=labels)
    medians = frame.groupby("cluster").median()
    medians.insert(0, "size", frame.groupby("cluster").size())
    return medians.reset_index()


def _named(centroids: pd.DataFrame) -> pd.DataFrame:
    named = [name_cluster(row) for row in centroids.to_dict("records")]
    columns = pd.DataFrame(named, columns=["persona", "description", "strategy", "credit_action"])
    out = pd.concat([centroids[["cluster", "size"]], columns, centroids.drop(columns=["cluster", "size"])], axis=1)  # fmt: skip
    out.insert(3, "severity", out["persona"].map(SEVERITY).astype("Int64"))
    return out


def fit_personas(
    features: pd.DataFrame,
    random_state: int = 0,
    method: str = "kmeans",
    k_values: tuple[int, ...] = K_VALUES,
    n_bootstrap: int = N_BOOTSTRAP,
) -> PersonaModel:
    """Fit the persona model on `behaviour_features` output.

    Customers with thin history are set apart. The others are clustered for each k in
    `k_values`: KMeans keeps the k with the best silhouette, GaussianMixture ("gmm") the lowest
    BIC (both are reported for every k). Stability: the pipeline is refitted with the chosen k on
    `n_bootstrap` resamples (drawn with replacement) and each refit's labels of all customers are
    compared with the model's by adjusted Rand index.

    Fits run on one thread: with hundreds or thousands of customers, thread start-up costs more
    than it saves, and on a busy machine OpenMP/BLAS threads oversubscribe the cores (measured:
    20 s instead of 0.3 s for the sample)."""
    with threadpool_limits(limits=1):
        return _fit(features, random_state, method, k_values, n_bootstrap)


def _fit(
    features: pd.DataFrame,
    random_state: int = 0,
    method: str = "kmeans",
    k_values: tuple[int, ...] = K_VALUES,
    n_bootstrap: int = N_BOOTSTRAP,
) -> PersonaModel:
    if "thin_history" not in features:
        raise ValueError("features come from behaviour_features()")
    established = features[~features["thin_history"].to_numpy(bool)]
    X = established[list(CLUSTER_FEATURES)]
    thin = int(features["thin_history"].sum())
    prep = preprocessing()
    empty_scores = pd.DataFrame(columns=["k", "silhouette", "bic"])
    if len(established) < MIN_CUSTOMERS_TO_CLUSTER:
        projection, variance = None, []
        if len(established) >= 3:
            scaled = prep.fit_transform(X)
            projection = PCA(n_components=2, random_state=random_state).fit(scaled)
            variance = [float(v) for v in projection.explained_variance_ratio_]
        elif len(features):
            prep.fit(features[list(CLUSTER_FEATURES)])
        clusters = _named(_centroids(established, np.arange(len(established))))
        return PersonaModel(
            "rules", None, prep, projection, empty_scores, {}, clusters, len(established), thin,
            variance,
        )  # fmt: skip

    scaled = prep.fit_transform(X)
    rows, fitted = [], {}
    for k in k_values:
        if k >= len(established):
            continue
        km = _clusterer("kmeans", k, random_state).fit(scaled)
        gm = _clusterer("gmm", k, random_state).fit(scaled)
        labels = (km if method == "kmeans" else gm).predict(scaled)
        silhouette = silhouette_score(scaled, labels) if len(set(labels)) > 1 else float("nan")
        rows.append({"k": k, "silhouette": silhouette, "bic": gm.bic(scaled)})
        fitted[k] = km if method == "kmeans" else gm
    scores = pd.DataFrame(rows)
    ranked = scores.dropna(subset=["silhouette" if method == "kmeans" else "bic"])
    if ranked.empty:  # every k found one cluster (customers alike): the smallest k
        k = int(scores["k"].min())
    elif method == "kmeans":
        k = int(ranked.loc[ranked["silhouette"].idxmax(), "k"])
    else:
        k = int(ranked.loc[ranked["bic"].idxmin(), "k"])
    pipeline = Pipeline([*prep.steps, ("cluster", fitted[k])])
    labels = pipeline.predict(X)

    rng = np.random.default_rng(random_state)
    aris = []
    for b in range(n_bootstrap):
        sample = rng.integers(0, len(X), len(X))
        refit = Pipeline([*clone(prep).steps, ("cluster", _clusterer(method, k, random_state + 1 + b))])  # fmt: skip
        refit.fit(X.iloc[sample])
        aris.append(float(adjusted_rand_score(labels, refit.predict(X))))
    stability = {
        "mean": float(np.mean(aris)) if aris else None,
        "min": float(np.min(aris)) if aris else None,
        "values": aris,
    }
    projection = PCA(n_components=2, random_state=random_state).fit(scaled)
    return PersonaModel(
        method,
        k,
        pipeline,
        projection,
        scores,
        stability,
        _named(_centroids(established, labels)),
        len(established),
        thin,
        [float(v) for v in projection.explained_variance_ratio_],
    )


# -- 4. Assignment, history, migration -----------------------------------------------------------


@dataclass
class PersonaResult:
    """Everything one run computes: personas at as_of, the quarter-end history, the moves."""

    as_of: dt.date
    model: PersonaModel
    personas: pd.DataFrame  # assign()
    history: pd.DataFrame  # customer_id, date, persona, severity
    migrations: pd.DataFrame  # migration()
    summary: pd.DataFrame  # persona_summary()
    seconds: dict = field(default_factory=dict)


def _assigned(features: pd.DataFrame, model: PersonaModel) -> pd.DataFrame:
    predicted = model.predict(features)
    keep = ["customer_id", "name", "segment", "country", "salesperson", "currency", "open_ar",
            "past_due", *PROFILE_FEATURES, "promises_due", "thin_history"]  # fmt: skip
    return predicted.merge(features[keep], on="customer_id", how="left")


def quarter_ends(as_of: dt.date, quarters: int) -> list[dt.date]:
    """The `quarters` calendar quarter-ends strictly before `as_of`, oldest first."""
    ends: list[dt.date] = []
    year, month = as_of.year, (as_of.month - 1) // 3 * 3 + 3  # the last month of as_of's quarter
    while len(ends) < quarters:
        end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        if end < as_of:
            ends.append(end)
        month -= 3
        if month == 0:
            year, month = year - 1, 12
    return ends[::-1]


def _migrations(history: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Consecutive dates of each customer's history where the persona changed."""
    if history.empty:
        return pd.DataFrame(columns=MIGRATION_COLUMNS)
    ordered = history.sort_values(["customer_id", "date"])
    previous = ordered.groupby("customer_id").shift(1)
    moved = ordered.assign(from_date=previous["date"], from_persona=previous["persona"])
    moved = moved[moved["from_persona"].notna() & (moved["from_persona"] != moved["persona"])]
    moved = moved.rename(columns={"date": "quarter_end", "persona": "to_persona"})
    moved["worse"] = [is_worse(a, b) for a, b in zip(moved["from_persona"], moved["to_persona"], strict=True)]  # fmt: skip
    moved = moved.merge(names, on="customer_id", how="left")
    for column in ("from_date", "quarter_end"):
        moved[column] = pd.to_datetime(moved[column]).dt.date
    moved["worse"] = moved["worse"].astype(bool)
    return moved.sort_values(["quarter_end", "worse", "past_due"], ascending=[False, False, False],
                             ignore_index=True)[MIGRATION_COLUMNS]  # fmt: skip


def analyse(
    store: Store,
    as_of: dt.date,
    random_state: int = 0,
    quarters: int = 4,
    method: str = "kmeans",
) -> PersonaResult:
    """One run: fit at `as_of`, assign, apply the same model to the point-in-time features at
    the `quarters` quarter-ends before `as_of`, and list the moves between consecutive dates
    (the last one: from the latest quarter-end to `as_of`)."""
    seconds = {}
    start = time.perf_counter()
    features = behaviour_features(store, as_of)
    seconds["features"] = time.perf_counter() - start
    _require_behaviour(features, as_of)
    start = time.perf_counter()
    model = fit_personas(features, random_state=random_state, method=method)
    seconds["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    personas = _assigned(features, model)
    dates = [*quarter_ends(as_of, quarters), as_of]
    parts = []
    for day in dates:
        at = personas if day == as_of else _assigned(behaviour_features(store, day), model)
        parts.append(at[["customer_id", "persona", "severity"]].assign(date=day))
    history = pd.concat(parts, ignore_index=True)
    names = personas[["customer_id", "name", "currency", "open_ar", "past_due"]]
    migrations = _migrations(history, names)
    seconds["history"] = time.perf_counter() - start
    return PersonaResult(as_of, model, personas, history, migrations,
                         persona_summary(personas), seconds)  # fmt: skip


def _require_behaviour(features: pd.DataFrame, as_of: dt.date) -> None:
    """PersonaDataError unless at least one customer has enough history to be named."""
    need = (
        f"personas need at least one customer with {MIN_TENURE_DAYS} days since its first "
        f"invoice and {MIN_SETTLED_INVOICES} invoices settled in the {LOOKBACK_DAYS} days to "
        f"{as_of.isoformat()}"
    )
    if features.empty:
        raise PersonaDataError(f"{need}; there are no invoices dated on or before it")
    if features["thin_history"].all():
        raise PersonaDataError(
            f"{need}; none of the {len(features):,} customers has that yet: choose a later "
            "date or import more history (settled dates or payments)"
        )


def assign(store: Store, as_of: dt.date, random_state: int = 0) -> pd.DataFrame:
    """Persona per customer at `as_of`: customer_id, persona, description, strategy,
    credit_action, cluster, severity, pca_x, pca_y, the customer's attributes and features."""
    features = behaviour_features(store, as_of)
    return _assigned(features, fit_personas(features, random_state=random_state))


def migration(
    store: Store, as_of: dt.date, quarters: int = 4, random_state: int = 0
) -> pd.DataFrame:
    """Who changed persona between consecutive quarter-ends (and from the last one to `as_of`):
    customer_id, name, from_date, quarter_end, from_persona, to_persona, worse (a move up the
    severity order), and the customer's currency, open AR and past due at `as_of`."""
    return analyse(store, as_of, random_state=random_state, quarters=quarters).migrations


def persona_history(
    store: Store, as_of: dt.date, quarters: int = 4, random_state: int = 0
) -> pd.DataFrame:
    """Persona per customer at each quarter-end and at `as_of` (long: customer_id, date, ...)."""
    return analyse(store, as_of, random_state=random_state, quarters=quarters).history


def persona_summary(personas: pd.DataFrame, currency: str | None = None) -> pd.DataFrame:
    """Per persona: customers (all of `personas`), the median of each profile feature (the
    typical member, also as a one-line description), strategy and credit action, and open AR and
    past due with their shares among the customers in `currency` — default: the currency with the
    most open AR, stated in column `currency` (amounts are never added across currencies).
    Ordered by severity, New / thin history last."""
    if personas.empty:
        return pd.DataFrame(columns=["persona", "customers", "currency", "open_ar", "share_of_ar"])
    if currency is None:
        by_currency = personas.groupby("currency", dropna=False)["open_ar"].sum()
        currency = by_currency.index[int(np.argmax(by_currency.to_numpy()))]
    grouped = personas.groupby("persona")
    same = personas["currency"].isna() if pd.isna(currency) else personas["currency"] == currency
    amounts = personas[same].groupby("persona")
    out = pd.DataFrame({"customers": grouped.size()})
    out["share_of_customers"] = out["customers"] / out["customers"].sum()
    out["currency"] = currency
    for column, share in (("open_ar", "share_of_ar"), ("past_due", "share_of_past_due")):
        out[column] = amounts[column].sum().reindex(out.index, fill_value=0.0)
        total = out[column].sum()
        out[share] = out[column] / total if total else 0.0
    out = out.join(grouped[list(PROFILE_FEATURES)].median()).reset_index()
    out["severity"] = out["persona"].map(SEVERITY).astype("Int64")
    out["description"] = [describe(row) for row in out.to_dict("records")]
    out["strategy"] = out["persona"].map(lambda p: PLAYBOOK[p][0])
    out["credit_action"] = out["persona"].map(lambda p: PLAYBOOK[p][1])
    order = out["severity"].fillna(len(SEVERITY)).astype(int)
    return out.assign(_order=order).sort_values(["_order", "persona"]).drop(columns="_order").reset_index(drop=True)  # fmt: skip


FILTER_KEYS = ("segment", "country", "salesperson", "currency", "customer_id")


def apply_filters(frame: pd.DataFrame, filters: dict | None) -> pd.DataFrame:
    """The rows whose customer passes the sidebar filters (segment, country, salesperson,
    currency, customer_id; a missing or empty value means all)."""
    keep = pd.Series(True, index=frame.index)
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise ValueError(f"unknown filter: {key}")
        if value:
            keep &= frame[key] == value
    return frame[keep]


# -- 5. Storage and the command line -------------------------------------------------------------


def _statements(sql: str) -> list[str]:
    return [part.strip() for part in sql.split(";") if part.strip()]


def _save(store: Store, result: PersonaResult) -> dict:
    """Write one run in one transaction, replacing an earlier run for the same date, and bump the
    data version it was computed on; pages see the new run through its computed_at."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = result.personas.assign(as_of=result.as_of, computed_at=now)
    moves = result.migrations.assign(as_of=result.as_of)
    info = run_metrics(result)
    store.con.register("persona_rows", rows)
    store.con.register("migration_rows", moves)
    try:
        with store.transaction():
            for statement in _statements(queries.sql("personas", "create_tables")):
                store.execute(statement)
            for statement in _statements(queries.sql("personas", "delete_run")):
                store.execute(statement, {"as_of": result.as_of})
            # Not a new data version (that would make the risk model look stale): the pages'
            # caches key on arlens.metrics.results_stamp, which sees this run's computed_at.
            version = store.data_version()
            store.execute(queries.sql("personas", "insert_personas"))
            store.execute(queries.sql("personas", "insert_migrations"))
            store.execute(
                queries.sql("personas", "insert_run"),
                {"as_of": result.as_of, "computed_at": now, "data_version": version,
                 "k": result.model.k or 0, "method": result.model.method,
                 "metrics": json.dumps(info, default=str)},
            )  # fmt: skip
    finally:
        store.con.unregister("persona_rows")
        store.con.unregister("migration_rows")
    return {**info, "data_version": version}


def store_personas(store: Store, as_of: dt.date, random_state: int = 0, quarters: int = 4) -> dict:
    """Compute personas and migrations at `as_of` and write them (store opened read-write) to
    `customer_personas`, `persona_migrations` and `persona_runs`, replacing an earlier run for the
    same date. Returns the run's metrics (run_metrics)."""
    return _save(store, analyse(store, as_of, random_state=random_state, quarters=quarters))


def stored_personas(store: Store, as_of: dt.date | None = None) -> pd.DataFrame:
    """Every stored column of the newest run on or before `as_of` (the newest run when None);
    empty when personas have not been stored. Reads only: fine on a read-only store."""
    if not store.has_table("customer_personas"):
        return pd.DataFrame()
    return store.df(queries.sql("personas", "stored_personas"), {"as_of": as_of})


def personas_for_worklist(store: Store, as_of: dt.date | None = None) -> pd.DataFrame:
    """customer_id, persona, strategy, credit_action, persona_as_of from the newest stored run on
    or before `as_of` (the newest run when None); empty when personas have not been stored.
    Reads only (query `personas.worklist_personas`): fine on a read-only store."""
    columns = ["customer_id", "persona", "strategy", "credit_action", "persona_as_of"]
    if not store.has_table("customer_personas"):
        return pd.DataFrame(columns=columns)
    frame = store.df(queries.sql("personas", "worklist_personas"), {"as_of": as_of})
    frame["persona_as_of"] = pd.to_datetime(frame["persona_as_of"]).dt.date
    return frame[columns]


def summary_text(info: dict) -> str:
    """The run's quality and early warning in two lines, for the command line."""
    if info.get("k"):
        model = (f"{info['k']} clusters ({info['method']}), silhouette {info['silhouette']:.3f}; "
                 f"bootstrap stability ARI mean {info['stability_ari_mean']:.3f}, "
                 f"min {info['stability_ari_min']:.3f} over {info['bootstrap_resamples']} resamples")  # fmt: skip
    else:
        model = "too few established customers to cluster: each is named by the rules"
    return (f"{info['customers']:,} customers, {info['thin_history']:,} with thin history; {model}\n"
            f"{info['moved_to_worse_since_last_quarter']:,} moved to a worse persona since the last "
            f"quarter-end ({info['moves_to_worse']:,} over {max(len(info['quarter_ends']) - 1, 0)} quarters)")  # fmt: skip


def run_metrics(result: PersonaResult) -> dict:
    """The run in numbers: model quality and stability, persona table, moves, timings."""
    summary = result.summary
    moves = result.migrations
    last = moves[moves["quarter_end"] == result.as_of] if len(moves) else moves
    return {
        **result.model.metrics(),
        "customers": len(result.personas),
        "personas": [
            {
                "persona": row["persona"],
                "customers": int(row["customers"]),
                "currency": row["currency"],
                "share_of_ar": _round(row["share_of_ar"]),
                "share_of_past_due": _round(row["share_of_past_due"]),
                "mean_days_late": _round(row["mean_days_late"], 1),
                "dispute_rate": _round(row["dispute_rate"]),
                "trend_days_late": _round(row["trend_days_late"], 2),
            }
            for row in summary.to_dict("records")
        ],
        "quarter_ends": sorted({d.isoformat() for d in result.history["date"]}),
        "moves": len(moves),
        "moves_to_worse": int(moves["worse"].sum()) if len(moves) else 0,
        "moved_to_worse_since_last_quarter": int(last["worse"].sum()) if len(last) else 0,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


REPORT_COLUMNS = ["customer_id", "name", "persona", "severity", "currency", "open_ar", "past_due",
                  "mean_days_late", "sd_days_late", "late_share", "trend_days_late", "dispute_rate",
                  "broken_promise_rate", "credit_utilisation", "past_due_share", "strategy",
                  "credit_action"]  # fmt: skip


def run_report(
    store: Store, as_of: dt.date, random_state: int = 0, save: bool = False
) -> tuple[pd.DataFrame, dict]:
    """For `arlens personas`: one row per customer (persona, strategy, key features) and the run's
    metrics. With `save` (a read-write store) the same run is stored as store_personas does."""
    result = analyse(store, as_of, random_state=random_state)
    info = _save(store, result) if save else run_metrics(result)
    rows = result.personas.sort_values(["severity", "customer_id"], na_position="last")
    return rows[REPORT_COLUMNS].reset_index(drop=True), info
