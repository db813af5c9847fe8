-- The late-payment risk model (models/risk.py): point-in-time features, labels, and the tables
-- its scores are kept in. "Late" = settled more than $grace_days after the due date
-- (DESIGN.md §4).
-- No future leaks: an invoice's features use only rows dated strictly before its invoice date.

-- name: features
-- One row per target document with what was known the day before its invoice date d, about its
-- customer: earlier invoices (count, usual amount, tenure); earlier settlements with
-- settled_on < d (count; share late, write-offs included; mean, spread, last and recent
-- (90-day half-life) days late and its trend; days to settle; share disputed); open balance,
-- past due and past due over 30 days (invoices dated < d less applications dated < d); dispute,
-- promise and collection activities dated < d; promises broken by d (promised date < d);
-- utilisation of the credit limit in force then (the credit_limits row with the latest
-- effective_from < d, else customers.credit_limit, the current limit; −1 without one).
-- Targets ($scope): 'all' = every invoice and debit memo; 'score' = the documents open at
-- $as_of and not yet more than $grace_days past due, plus one typical next invoice per customer
-- dated $as_of + 1 (column target = 'next'), whose score is the customer's risk score.
-- Events older than the oldest target are summed into one row per customer before the running
-- totals, which keeps scoring fast without changing any value. Sums of money are rounded to the
-- cent and ratios to 6 places, so that the order DuckDB adds in (in parallel) cannot move a
-- value across a split of the trees.
WITH docs AS (
    SELECT invoice_id, customer_id, invoice_date, due_date, amount::DOUBLE AS amount, doc_type,
           currency, disputed, written_off_on, settled_on,
           lower(trim(billing_channel)) AS billing_channel
    FROM invoices WHERE amount > 0
),
dated_disputes AS (
    -- When each invoice's dispute became known: its first dispute activity.
    SELECT invoice_id, min(activity_date) AS disputed_on
    FROM activities WHERE lower(kind) = 'dispute' AND invoice_id IS NOT NULL
    GROUP BY invoice_id
),
typical AS (
    -- The next invoice of each customer that has invoiced by $as_of: its usual amount and terms.
    SELECT customer_id, median(amount) AS amount, median(due_date - invoice_date)::INTEGER AS terms,
           mode(currency) AS currency,
           arg_max(billing_channel, invoice_date) AS billing_channel
    FROM docs WHERE $scope = 'score' AND invoice_date <= $as_of
    GROUP BY customer_id
),
targets AS (
    SELECT 'invoice' AS target, invoice_id, customer_id, invoice_date, due_date, amount, doc_type,
           currency, disputed, billing_channel
    FROM docs
    WHERE $scope = 'all'
       OR ($scope = 'score' AND invoice_date <= $as_of AND due_date + $grace_days >= $as_of
           AND coalesce(settled_on, DATE '9999-12-31') > $as_of)
    UNION ALL
    SELECT 'next', 'next:' || customer_id, customer_id, $as_of::DATE + 1,
           $as_of::DATE + 1 + terms, amount, 'invoice', currency, false, billing_channel
    FROM typical
),
since AS (
    -- Running totals are needed from here on; what is older is summed into the day before.
    SELECT coalesce(min(invoice_date), DATE '1900-01-01') AS first_day FROM targets
),
issued AS (
    SELECT customer_id, greatest(invoice_date, s.first_day - 1) AS day,
           count(*)::DOUBLE AS invoices, sum(amount) AS amounts
    FROM docs, since s GROUP BY ALL
),
applied AS (
    SELECT d.customer_id, d.invoice_date, d.due_date, a.applied_on, a.amount::DOUBLE AS amount
    FROM applications a JOIN docs d USING (invoice_id)
),
owed AS (
    -- Paid (of what was issued) by day, and what fell past due (and 30 days past due) by day.
    SELECT customer_id, greatest(day, s.first_day - 1) AS day,
           sum(paid) AS paid, sum(due) AS due, sum(due_30) AS due_30
    FROM (
        SELECT customer_id, due_date AS day, 0.0 AS paid, amount AS due, 0.0 AS due_30 FROM docs
        UNION ALL
        SELECT customer_id, due_date + 30, 0.0, 0.0, amount FROM docs
        UNION ALL
        SELECT customer_id, greatest(applied_on, invoice_date), amount, 0.0, 0.0 FROM applied
        UNION ALL
        SELECT customer_id, greatest(applied_on, due_date), 0.0, -amount, 0.0 FROM applied
        UNION ALL
        SELECT customer_id, greatest(applied_on, due_date + 30), 0.0, 0.0, -amount FROM applied
    ), since s
    GROUP BY ALL
),
settled AS (
    SELECT customer_id, greatest(settled_on, s.first_day - 1) AS day,
           count(*)::DOUBLE AS settled, sum(late) AS late, sum(days_late) AS days_late,
           sum(days_late * days_late) AS days_late_squared,
           max({'day': settled_on, 'days_late': days_late}).days_late AS last_days_late,
           sum(settled_on - invoice_date)::DOUBLE AS days_to_settle,
           sum(disputed::DOUBLE) AS disputed,
           sum(weight) AS weight, sum(weight * days_late) AS weighted_days_late,
           sum(weight * late) AS weighted_late
    FROM (
        SELECT *, (settled_on - due_date)::DOUBLE AS days_late,
               (written_off_on IS NOT NULL OR settled_on - due_date > $grace_days)::DOUBLE AS late,
               -- recency weight with a 90-day half-life; the ratios cancel the scale
               exp(ln(2) / 90 * (settled_on - DATE '2000-01-01')) AS weight
        FROM docs WHERE settled_on IS NOT NULL
    ), since s
    GROUP BY ALL
),
noted AS (
    SELECT customer_id, greatest(day, s.first_day - 1) AS day, sum(disputes) AS disputes,
           sum(promises) AS promises, sum(actions) AS actions, sum(broken) AS broken
    FROM (
        SELECT customer_id, activity_date AS day,
               (lower(kind) = 'dispute')::DOUBLE AS disputes,
               (lower(kind) = 'promise')::DOUBLE AS promises,
               (lower(kind) IN ('call', 'email', 'letter', 'dunning'))::DOUBLE AS actions,
               0.0 AS broken
        FROM activities
        UNION ALL
        SELECT customer_id, greatest(activity_date, promised_date), 0.0, 0.0, 0.0, 1.0
        FROM activities
        WHERE lower(kind) = 'promise' AND lower(outcome) = 'broken' AND promised_date IS NOT NULL
    ), since s
    GROUP BY ALL
),
-- Running totals per customer: the row for day t holds everything dated ≤ t.
issued_so_far AS (
    SELECT customer_id, day, sum(invoices) OVER w AS invoices, sum(amounts) OVER w AS amounts
    FROM issued WINDOW w AS (PARTITION BY customer_id ORDER BY day ROWS UNBOUNDED PRECEDING)
),
owed_so_far AS (
    SELECT customer_id, day, sum(paid) OVER w AS paid, sum(due) OVER w AS past_due,
           sum(due_30) OVER w AS past_due_30
    FROM owed WINDOW w AS (PARTITION BY customer_id ORDER BY day ROWS UNBOUNDED PRECEDING)
),
settled_so_far AS (
    SELECT customer_id, day, sum(settled) OVER w AS settled, sum(late) OVER w AS late,
           sum(days_late) OVER w AS days_late, sum(days_late_squared) OVER w AS days_late_squared,
           last_days_late,
           sum(days_to_settle) OVER w AS days_to_settle, sum(disputed) OVER w AS disputed,
           sum(weight) OVER w AS weight, sum(weighted_days_late) OVER w AS weighted_days_late,
           sum(weighted_late) OVER w AS weighted_late
    FROM settled WINDOW w AS (PARTITION BY customer_id ORDER BY day ROWS UNBOUNDED PRECEDING)
),
noted_so_far AS (
    SELECT customer_id, day, sum(disputes) OVER w AS disputes, sum(promises) OVER w AS promises,
           sum(actions) OVER w AS actions, sum(broken) OVER w AS broken
    FROM noted WINDOW w AS (PARTITION BY customer_id ORDER BY day ROWS UNBOUNDED PRECEDING)
),
first_invoice AS (
    SELECT customer_id, min(invoice_date) AS first_day FROM docs GROUP BY customer_id
),
settled_medians AS (
    -- The median days late of a customer's invoices settled up to each settlement day.
    SELECT DISTINCT ON (customer_id, settled_on) customer_id, settled_on AS day,
           median(settled_on - due_date) OVER (
               PARTITION BY customer_id ORDER BY settled_on
               RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS days_late_median
    FROM docs WHERE settled_on IS NOT NULL
),
paid_days AS (
    -- The days each customer paid: its payments (with their method), or, in a register that
    -- carries settled dates only, the days its invoices were settled.
    SELECT customer_id, day, mode(method) AS method
    FROM (
        SELECT customer_id, payment_date AS day, lower(trim(method)) AS method
        FROM payments WHERE amount > 0
        UNION ALL
        SELECT d.customer_id, a.applied_on, NULL
        FROM applications a JOIN docs d USING (invoice_id) WHERE a.source_type = 'paid_date'
    )
    GROUP BY ALL
)
SELECT t.target, t.invoice_id, t.customer_id, t.invoice_date, t.due_date,
       -- the invoice itself
       t.amount,
       round(t.amount / (i.amounts / i.invoices), 6) AS amount_vs_usual,
       (t.due_date - t.invoice_date)::DOUBLE AS terms_days,
       month(t.invoice_date)::VARCHAR AS month,
       coalesce(t.doc_type, 'invoice') AS doc_type,
       coalesce(t.currency, cu.currency, '(unknown)') AS currency,
       coalesce(cu.segment, '(unknown)') AS segment,
       coalesce(cu.country, '(unknown)') AS country,
       coalesce(t.billing_channel, '(unknown)') AS billing_channel,
       -- the invoice's own dispute: from dated dispute activities when the store has any (known
       -- by $as_of when scoring; by the last day the model scores it, due + grace, in training),
       -- else the register's flag (its status at export)
       CASE WHEN (SELECT count(*) > 0 FROM dated_disputes) THEN
                coalesce(dd.disputed_on <= CASE WHEN $scope = 'score' THEN $as_of::DATE
                                                ELSE t.due_date + $grace_days END, false)
            ELSE coalesce(t.disputed, false) END::DOUBLE AS invoice_disputed,
       -- the relationship so far
       coalesce(i.invoices, 0) AS prior_invoices,
       CASE WHEN f.first_day < t.invoice_date THEN (t.invoice_date - f.first_day)::DOUBLE END
           AS tenure_days,
       -- how earlier invoices were paid
       coalesce(s.settled, 0) AS settled_count,
       (t.invoice_date - p.day)::DOUBLE AS days_since_last_payment,
       coalesce(p.method, '(unknown)') AS last_payment_method,
       s.late / s.settled AS late_share,
       round(s.weighted_late / s.weight, 6) AS late_share_recent,
       s.days_late / s.settled AS days_late_mean,
       sm.days_late_median::DOUBLE AS days_late_median,
       CASE WHEN s.settled >= 2
            THEN round(sqrt(greatest(s.days_late_squared / s.settled
                                     - power(s.days_late / s.settled, 2), 0)), 4)
       END AS days_late_sd,
       round(s.weighted_days_late / s.weight, 4) AS days_late_recent,
       round(s.weighted_days_late / s.weight - s.days_late / s.settled, 4) AS days_late_trend,
       s.last_days_late,
       s.days_to_settle / s.settled AS days_to_settle_mean,
       s.disputed / s.settled AS disputed_share,
       -- what was owed then
       round(coalesce(i.amounts, 0) - coalesce(o.paid, 0), 2) AS open_balance,
       round(coalesce(o.past_due, 0), 2) AS past_due,
       round(coalesce(o.past_due_30, 0), 2) AS past_due_30,
       round(round(o.past_due, 2)
             / NULLIF(round(coalesce(i.amounts, 0) - coalesce(o.paid, 0), 2), 0), 6)
           AS past_due_share,
       -- −1: no credit limit on record (a plain invoice register has none)
       coalesce(round(round(coalesce(i.amounts, 0) - coalesce(o.paid, 0), 2)
                      / NULLIF(CASE WHEN cl.customer_id IS NOT NULL THEN cl.credit_limit
                                    ELSE cu.credit_limit END::DOUBLE, 0), 6), -1)
           AS credit_utilisation,
       -- collectors' notes so far
       coalesce(n.disputes, 0) AS disputes_raised,
       coalesce(n.promises, 0) AS promises_made,
       coalesce(n.broken, 0) AS broken_promises,
       coalesce(n.actions, 0) AS collection_actions
FROM targets t
ASOF LEFT JOIN issued_so_far i ON i.customer_id = t.customer_id AND t.invoice_date > i.day
ASOF LEFT JOIN owed_so_far o ON o.customer_id = t.customer_id AND t.invoice_date > o.day
ASOF LEFT JOIN settled_so_far s ON s.customer_id = t.customer_id AND t.invoice_date > s.day
ASOF LEFT JOIN noted_so_far n ON n.customer_id = t.customer_id AND t.invoice_date > n.day
ASOF LEFT JOIN settled_medians sm ON sm.customer_id = t.customer_id AND t.invoice_date > sm.day
ASOF LEFT JOIN paid_days p ON p.customer_id = t.customer_id AND t.invoice_date > p.day
ASOF LEFT JOIN credit_limits cl
    ON cl.customer_id = t.customer_id AND t.invoice_date > cl.effective_from
LEFT JOIN first_invoice f ON f.customer_id = t.customer_id
LEFT JOIN customers cu ON cu.customer_id = t.customer_id
LEFT JOIN dated_disputes dd ON dd.invoice_id = t.invoice_id

-- name: labels
-- What is known at $horizon about each invoice and debit memo. Late (= 1) when written off by
-- then, or settled more than $grace_days after due, or still open at $horizon. An invoice is
-- labelled only when its outcome is settled either way: due_date + $grace_days < $horizon (an
-- invoice not yet that far past due could still go either way, so it is left out, whether paid
-- or not: keeping the paid ones would bias recent months towards "on time"). days_late (for the
-- expected payment date) needs a longer wait: it is known when due_date + $cap < $horizon, and
-- is capped at $cap (written off or still open then: $cap).
SELECT invoice_id, invoice_date,
       due_date + $grace_days < $horizon AS known,
       (coalesce(written_off_on <= $horizon, false)
        OR settled_on IS NULL OR settled_on > $horizon
        OR settled_on - due_date > $grace_days)::INTEGER AS late,
       CASE WHEN due_date + $cap < $horizon THEN
           CASE WHEN written_off_on <= $horizon THEN $cap
                WHEN settled_on <= $horizon THEN least(greatest(settled_on - due_date, -60), $cap)
                ELSE $cap END
       END::DOUBLE AS days_late
FROM invoices
WHERE amount > 0
ORDER BY invoice_date, invoice_id

-- name: dispute_basis
-- Where an invoice's own dispute status comes from: dated dispute activities (true) or the
-- register's dispute flag, its status at export (false).
SELECT count(*) > 0 FROM activities WHERE lower(kind) = 'dispute' AND invoice_id IS NOT NULL

-- name: data_end
-- The newest date in the store (invoice, payment or settlement): outcomes are known up to it.
SELECT max(d) FROM (
    SELECT max(invoice_date) AS d FROM invoices
    UNION ALL SELECT max(payment_date) FROM payments
    UNION ALL SELECT max(applied_on) FROM applications
)

-- name: open_documents
-- The invoices and debit memos open at $as_of, with their open amount and days past due.
SELECT invoice_id, customer_id, currency, invoice_date, due_date, open_amount, days_past_due
FROM open_documents($as_of)

-- name: required_columns
-- The columns (and their types) of the tables the features read: a model is only loaded against
-- a store whose columns it was trained on are still there, with the same types.
SELECT table_name || '.' || column_name AS column_name, data_type
FROM duckdb_columns()
WHERE table_name IN ('invoices', 'applications', 'activities', 'customers', 'payments')
  AND database_name = current_database() AND schema_name = 'main'

-- name: create_score_tables
-- The scores of the last `arlens score`: one row per open document, one per customer. Both carry
-- the model version, the as-of date and the data version they were computed from.
CREATE TABLE IF NOT EXISTS invoice_scores (
    invoice_id            VARCHAR NOT NULL,
    customer_id           VARCHAR NOT NULL,
    currency              VARCHAR,
    invoice_date          DATE NOT NULL,
    due_date              DATE NOT NULL,
    open_amount           DECIMAL(18,2) NOT NULL,
    days_past_due         INTEGER NOT NULL,
    p_late                DOUBLE NOT NULL,   -- 1 when already more than grace_days past due
    p_model               DOUBLE,            -- the model's P(late) from what was known on the
                                             -- invoice date (NULL when already late: not asked)
    already_late          BOOLEAN NOT NULL,
    expected_days_late    DOUBLE,
    expected_payment_date DATE,              -- NULL: collection doubtful (long past due)
    amount_at_risk_of_late_payment DOUBLE NOT NULL,  -- open amount × p_late (not a credit loss)
    reasons               VARCHAR,           -- the features that moved p_model most, as text
    explanation           JSON,              -- the same, with their effects
    as_of                 DATE NOT NULL,
    model_version         VARCHAR NOT NULL,
    data_version          BIGINT NOT NULL,
    stale_model           BOOLEAN NOT NULL,
    scored_at             TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_scores (
    customer_id    VARCHAR NOT NULL,
    currency       VARCHAR,
    risk_score     DOUBLE NOT NULL,   -- P(late) of the customer's next typical invoice
    open_invoices  INTEGER NOT NULL,
    open_amount    DOUBLE NOT NULL,
    amount_at_risk_of_late_payment DOUBLE NOT NULL,  -- Σ open amount × p_late of its invoices
    as_of          DATE NOT NULL,
    model_version  VARCHAR NOT NULL,
    data_version   BIGINT NOT NULL,
    stale_model    BOOLEAN NOT NULL,
    scored_at      TIMESTAMP NOT NULL
);

-- name: outdated_scores
-- Score tables of an older AR Lens (they named open amount × P(late) `expected_loss`): 1 or 0.
SELECT count(*) > 0 FROM duckdb_columns()
WHERE table_name IN ('invoice_scores', 'customer_scores') AND column_name = 'expected_loss'
  AND database_name = current_database() AND schema_name = 'main'

-- name: drop_score_tables
-- Scores are derived: outdated tables are dropped and rebuilt by the next `arlens score`.
DROP TABLE IF EXISTS invoice_scores;
DROP TABLE IF EXISTS customer_scores;

-- name: replace_scores
-- The new scores (the registered frames new_invoice_scores, new_customer_scores) replace the last.
DELETE FROM invoice_scores;
DELETE FROM customer_scores;
INSERT INTO invoice_scores BY NAME SELECT * FROM new_invoice_scores;
INSERT INTO customer_scores BY NAME SELECT * FROM new_customer_scores;

-- name: has_scores
-- Whether `arlens score` has written scores into this store.
SELECT count(*) FROM duckdb_tables()
WHERE table_name = 'customer_scores' AND database_name = current_database() AND schema_name = 'main'

-- name: scored_customers
-- How many customers the last `arlens score` scored (0: the tables exist but hold nothing).
SELECT count(*) FROM customer_scores

-- name: scores_info
-- What the stored scores were computed with: as-of date, model, data version, when, how many.
SELECT any_value(as_of) AS as_of, any_value(model_version) AS model_version,
       any_value(data_version) AS data_version, bool_or(stale_model) AS stale_model,
       max(scored_at) AS scored_at, count(*) AS invoices
FROM invoice_scores

-- name: scores_as_of
-- The as-of date the stored scores were computed for.
SELECT max(as_of) FROM invoice_scores

-- name: customer_risk_scores
-- Each scored customer's risk score (P(late) of its next invoice), for the worklist priority.
SELECT customer_id, risk_score FROM customer_scores ORDER BY customer_id

-- name: expected_collections
-- Open amounts by the calendar week (Monday) of their expected payment date, for the $weeks weeks
-- from the one holding $as_of + 1, per currency ($currency NULL: every currency, apart). Items
-- with no expected date (long past due) are left out; dates before the first week count in it.
-- With $reporting, every currency in it at the closing rate on or before $as_of (a currency
-- without a rate is left out, as on every translated page).
WITH weeks AS (
    SELECT (date_trunc('week', $as_of::DATE + 1) + INTERVAL (7 * i) DAY)::DATE AS week_start
    FROM range($weeks) r(i)
),
scored AS (
    SELECT coalesce($reporting, s.currency) AS currency, s.expected_payment_date,
           CASE WHEN $reporting IS NULL THEN s.open_amount
                ELSE round(s.open_amount * r.rate, 2)::DECIMAL(18,2) END AS open_amount
    FROM invoice_scores s
    LEFT JOIN fx_closing($as_of, $reporting) r ON r.currency = s.currency
    WHERE ($reporting IS NULL OR r.rate IS NOT NULL)
      AND ($currency IS NULL OR s.currency = $currency)
),
currencies AS (SELECT DISTINCT currency FROM scored),
expected AS (
    SELECT currency,
           greatest(date_trunc('week', expected_payment_date),
                    date_trunc('week', $as_of::DATE + 1))::DATE AS week_start,
           sum(open_amount)::DOUBLE AS expected_amount, count(*) AS invoices
    FROM scored
    WHERE expected_payment_date IS NOT NULL
    GROUP BY ALL
)
SELECT w.week_start, c.currency, coalesce(e.expected_amount, 0) AS expected_amount,
       coalesce(e.invoices, 0) AS invoices
FROM weeks w CROSS JOIN currencies c
LEFT JOIN expected e ON e.week_start = w.week_start AND e.currency IS NOT DISTINCT FROM c.currency
ORDER BY c.currency, w.week_start

-- name: ranked_invoices
-- Open documents by amount at risk of late payment (open amount × P(late)), largest first, in
-- $currency (NULL: every currency).
SELECT s.invoice_id, s.customer_id, c.name, s.currency, s.due_date, s.days_past_due,
       s.open_amount::DOUBLE AS open_amount, s.p_late, s.amount_at_risk_of_late_payment,
       s.expected_payment_date, s.reasons
FROM invoice_scores s LEFT JOIN customers c USING (customer_id)
WHERE $currency IS NULL OR s.currency = $currency
ORDER BY s.amount_at_risk_of_late_payment DESC, s.invoice_id
LIMIT $limit

-- name: score_distribution
-- How the model's P(late) spreads over the open documents not yet late, in 20 bins of 5 points.
SELECT least(floor(p_model * 20), 19)::INTEGER AS bin, count(*) AS invoices,
       sum(open_amount)::DOUBLE AS open_amount
FROM invoice_scores
WHERE NOT already_late AND ($currency IS NULL OR currency = $currency)
GROUP BY ALL
ORDER BY bin

-- name: collected_by_week
-- What was actually collected (payments, credit memos, settled dates; not write-offs) on the
-- documents open at $as_of, by calendar week (Monday) over the $weeks weeks from the one holding
-- $as_of + 1, per currency: the truth a back-tested cash forecast is measured against.
WITH first_week AS (SELECT date_trunc('week', $as_of::DATE + 1)::DATE AS monday)
SELECT coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
       date_trunc('week', a.applied_on)::DATE AS week_start, sum(a.amount)::DOUBLE AS collected
FROM (SELECT DISTINCT invoice_id, currency FROM open_documents($as_of)) d  -- instalments: once
JOIN applications a ON a.invoice_id = d.invoice_id
WHERE a.source_type <> 'write_off' AND a.applied_on > $as_of
  AND a.applied_on < (SELECT monday FROM first_week) + 7 * $weeks
GROUP BY ALL
ORDER BY currency, week_start
