-- Customer personas (models/personas.py): behaviour features per customer at an as-of date, and the
-- tables the results are stored in. Point in time: only documents dated ≤ $as_of, settlements with
-- settled_on ≤ $as_of, open items via open_documents($as_of), activities dated ≤ $as_of.

-- name: behaviour_features
-- One row per customer with an invoice dated ≤ $as_of. Lookback window W = ($as_of − $lookback_days,
-- $as_of]. Days late of a settled invoice = settled_on − due_date; over the invoices settled in W:
-- mean and spread (sample standard deviation) of days late, share late (days late > $grace_days),
-- trend = least-squares slope of days late against settlement date, in days per month (NULL below 4
-- settled invoices). Over the invoices dated in W: dispute rate (share with a dispute activity dated
-- ≤ $as_of, or flagged `disputed` when no dispute activity names them), invoices per month (over W or
-- the tenure when shorter) and average size. Broken-promise rate: broken ÷ promises whose promised
-- date falls in W before $as_of (kept or broken by then: macros.sql promises_at). At $as_of, in the customer's currency: open
-- AR, past due, share of AR past due, utilisation = open AR ÷ credit limit. Tenure = days since the
-- first invoice; days since the last payment dated ≤ $as_of, a register's settled date counting
-- as a payment (the tenure when none). A document
-- without a currency is in the home currency (settings), as in aging.sql.
WITH known AS (
    SELECT i.invoice_id, i.customer_id, i.invoice_date, i.due_date, i.amount,
           coalesce(i.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           i.disputed, i.settled_on,
           i.invoice_date > $as_of::DATE - $lookback_days::INTEGER AS recent
    FROM invoices i
    WHERE i.doc_type = 'invoice' AND i.amount > 0 AND i.invoice_date <= $as_of
),
customer_base AS (
    SELECT k.customer_id,
           coalesce(any_value(c.currency), mode(k.currency), (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           any_value(c.credit_limit) AS credit_limit,
           ($as_of::DATE - min(k.invoice_date))::INTEGER AS tenure_days,
           count(*) FILTER (WHERE k.recent) AS recent_invoices,
           avg(k.amount) FILTER (WHERE k.recent) AS recent_average,
           avg(k.amount) AS average_amount
    FROM known k LEFT JOIN customers c USING (customer_id)
    GROUP BY k.customer_id
),
settled AS (
    SELECT customer_id, (settled_on - due_date)::INTEGER AS days_late,
           (settled_on - ($as_of::DATE - $lookback_days::INTEGER))::INTEGER AS day_in_window
    FROM known
    WHERE settled_on <= $as_of AND settled_on > $as_of::DATE - $lookback_days::INTEGER
),
settled_stats AS (
    SELECT customer_id,
           count(*) AS settled_invoices,
           avg(days_late) AS mean_days_late,
           coalesce(stddev_samp(days_late), 0) AS sd_days_late,
           avg(CASE WHEN days_late > $grace_days THEN 1.0 ELSE 0.0 END) AS late_share,
           CASE WHEN count(*) >= 4 THEN regr_slope(days_late, day_in_window) * 30.4375 END
               AS trend_days_late
    FROM settled
    GROUP BY customer_id
),
first_dispute AS (
    SELECT invoice_id, min(activity_date) AS raised_on
    FROM activities
    WHERE kind = 'dispute' AND invoice_id IS NOT NULL
    GROUP BY invoice_id
),
disputes AS (
    SELECT k.customer_id,
           avg(CASE WHEN f.raised_on <= $as_of OR (f.raised_on IS NULL AND k.disputed) THEN 1.0
                    ELSE 0.0 END) AS dispute_rate
    FROM known k LEFT JOIN first_dispute f USING (invoice_id)
    WHERE k.recent
    GROUP BY k.customer_id
),
promises AS (  -- promises_at: kept or broken once their date has passed (macros.sql)
    SELECT customer_id, count(*) AS promises_due,
           count(*) FILTER (WHERE status = 'broken') AS promises_broken
    FROM promises_at($as_of)
    WHERE status <> 'open' AND promised_date > $as_of::DATE - $lookback_days::INTEGER
    GROUP BY customer_id
),
open_ar AS (
    SELECT o.customer_id, sum(o.open_amount) AS open_ar,
           coalesce(sum(o.open_amount) FILTER (WHERE o.days_past_due > 0), 0) AS past_due
    FROM open_documents($as_of) o JOIN customer_base b USING (customer_id)
    WHERE coalesce(o.currency, (SELECT value FROM settings WHERE key = 'home_currency')) IS NOT DISTINCT FROM b.currency
    GROUP BY o.customer_id
),
last_payment AS (
    -- a payment, or a register's settled date (a paid_date application): what it was paid on
    SELECT customer_id, max(paid_on) AS last_payment_date
    FROM (
        SELECT customer_id, payment_date AS paid_on FROM payments WHERE payment_date <= $as_of
        UNION ALL
        SELECT k.customer_id, a.applied_on
        FROM applications a JOIN known k USING (invoice_id)
        WHERE a.source_type = 'paid_date' AND a.applied_on <= $as_of
    ) paid
    GROUP BY customer_id
)
SELECT b.customer_id, c.name, c.segment, c.country, c.salesperson, b.currency,
       coalesce(s.settled_invoices, 0) AS settled_invoices,
       s.mean_days_late, s.sd_days_late, s.late_share, s.trend_days_late,
       coalesce(d.dispute_rate, 0) AS dispute_rate,
       coalesce(p.promises_due, 0) AS promises_due,
       coalesce(p.promises_broken / NULLIF(p.promises_due, 0), 0) AS broken_promise_rate,
       coalesce(o.open_ar, 0) AS open_ar,
       coalesce(o.past_due, 0) AS past_due,
       coalesce(o.past_due / NULLIF(o.open_ar, 0), 0) AS past_due_share,
       coalesce(o.open_ar, 0) / NULLIF(b.credit_limit, 0) AS credit_utilisation,
       b.recent_invoices / (least(greatest(b.tenure_days, 1), $lookback_days::INTEGER) / 30.4375)
           AS invoices_per_month,
       coalesce(b.recent_average, b.average_amount) AS average_invoice,
       b.tenure_days,
       coalesce(($as_of::DATE - l.last_payment_date)::INTEGER, b.tenure_days)
           AS days_since_last_payment
FROM customer_base b
LEFT JOIN customers c USING (customer_id)
LEFT JOIN settled_stats s USING (customer_id)
LEFT JOIN disputes d USING (customer_id)
LEFT JOIN promises p USING (customer_id)
LEFT JOIN open_ar o USING (customer_id)
LEFT JOIN last_payment l USING (customer_id)
ORDER BY b.customer_id

-- name: create_tables
-- The stored results, one set per as-of date: personas per customer, the quarter-on-quarter moves,
-- and each run's model quality (chosen k, silhouette per k, bootstrap stability) as JSON.
CREATE TABLE IF NOT EXISTS customer_personas (
    customer_id     VARCHAR NOT NULL,
    as_of           DATE NOT NULL,
    persona         VARCHAR NOT NULL,
    severity        INTEGER,
    description     VARCHAR,
    strategy        VARCHAR,
    credit_action   VARCHAR,
    cluster         INTEGER,          -- the model's cluster, -1 for New / thin history
    pca_x           DOUBLE,
    pca_y           DOUBLE,
    currency        VARCHAR,
    open_ar         DOUBLE,
    past_due        DOUBLE,
    mean_days_late  DOUBLE,
    sd_days_late    DOUBLE,
    late_share      DOUBLE,
    trend_days_late DOUBLE,
    dispute_rate    DOUBLE,
    broken_promise_rate DOUBLE,
    credit_utilisation  DOUBLE,
    past_due_share  DOUBLE,
    invoices_per_month  DOUBLE,
    average_invoice DOUBLE,
    tenure_days     INTEGER,
    days_since_last_payment INTEGER,
    settled_invoices INTEGER,
    computed_at     TIMESTAMP NOT NULL,
    data_version    BIGINT,
    PRIMARY KEY (customer_id, as_of)
);
CREATE TABLE IF NOT EXISTS persona_migrations (
    customer_id  VARCHAR NOT NULL,
    as_of        DATE NOT NULL,     -- the run that found the move
    name         VARCHAR,
    from_date    DATE NOT NULL,
    quarter_end  DATE NOT NULL,     -- the end of the period the move happened in
    from_persona VARCHAR NOT NULL,
    to_persona   VARCHAR NOT NULL,
    worse        BOOLEAN NOT NULL,
    PRIMARY KEY (customer_id, as_of, quarter_end)
);
CREATE TABLE IF NOT EXISTS persona_runs (
    as_of        DATE PRIMARY KEY,
    computed_at  TIMESTAMP NOT NULL,
    data_version BIGINT,
    k            INTEGER NOT NULL,
    method       VARCHAR NOT NULL,
    metrics      JSON NOT NULL
);

-- name: delete_run
-- Replacing a run: the rows stored earlier for the same $as_of go first.
DELETE FROM customer_personas WHERE as_of = $as_of;
DELETE FROM persona_migrations WHERE as_of = $as_of;
DELETE FROM persona_runs WHERE as_of = $as_of;

-- name: insert_personas
-- The rows of `persona_rows` (a data frame registered on the connection), matched by column name.
INSERT INTO customer_personas BY NAME
SELECT customer_id, as_of, persona, severity, description, strategy, credit_action, cluster,
       pca_x, pca_y, currency, open_ar, past_due, mean_days_late, sd_days_late, late_share,
       trend_days_late, dispute_rate, broken_promise_rate, credit_utilisation, past_due_share,
       invoices_per_month, average_invoice, tenure_days, days_since_last_payment,
       settled_invoices, computed_at, (SELECT data_version FROM store_meta) AS data_version
FROM persona_rows

-- name: insert_migrations
-- The rows of `migration_rows`, matched by column name.
INSERT INTO persona_migrations BY NAME
SELECT customer_id, as_of, name, from_date, quarter_end, from_persona, to_persona, worse
FROM migration_rows

-- name: insert_run
-- One run's model quality.
INSERT INTO persona_runs VALUES ($as_of, $computed_at, $data_version, $k, $method, $metrics)

-- name: worklist_personas
-- Persona, strategy and credit action per customer from the newest run on or before $as_of (the
-- newest run when $as_of is NULL): what the collections worklist shows beside each customer.
SELECT customer_id, persona, strategy, credit_action, as_of AS persona_as_of
FROM customer_personas
WHERE as_of = (SELECT max(as_of) FROM customer_personas
               WHERE $as_of::DATE IS NULL OR as_of <= $as_of::DATE)
ORDER BY customer_id

-- name: stored_personas
-- Every stored column of the newest run on or before $as_of (the newest run when $as_of is NULL).
SELECT *
FROM customer_personas
WHERE as_of = (SELECT max(as_of) FROM customer_personas
               WHERE $as_of::DATE IS NULL OR as_of <= $as_of::DATE)
ORDER BY customer_id
