-- Dunning (arlens/collections/dunning.py): where each past-due customer stands at $as_of, and the
-- notices sent. A notice is an activity of kind `dunning`; its level is the `level` column, else
-- "level N" in its outcome (how the sample and many exports write it), else 1.

-- name: state
-- One row per (customer, currency) with past due at $as_of (an item is past due when it is more
-- than $grace_days past its due date; its days past due still count from the due date, so the
-- policy's thresholds and the letters read as the Aging page does): the past due, the oldest past-due
-- item (due date, days past due, invoice), Σ open amount × days past due (for interest), the
-- past-due invoices in open dispute (the invoice's dispute flag, or a dispute activity on it dated
-- on or before $as_of), and the customer's latest notice that counts: dated after the oldest
-- past-due item fell due (an earlier notice was about something since paid) and on or before
-- $as_of, the highest level on its day.
WITH past_due AS (
    SELECT d.customer_id, coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           d.invoice_id, d.due_date, d.open_amount, d.days_past_due
    FROM open_documents($as_of) d
    WHERE d.days_past_due > $grace_days
),
dated_disputes AS (
    SELECT invoice_id, min(activity_date) AS disputed_on
    FROM activities
    WHERE lower(kind) = 'dispute' AND invoice_id IS NOT NULL AND activity_date <= $as_of
    GROUP BY invoice_id
),
per_currency AS (
    SELECT p.customer_id, p.currency, sum(p.open_amount) AS past_due,
           min(p.due_date) AS oldest_due, max(p.days_past_due) AS oldest_days,
           list(p.invoice_id ORDER BY p.due_date, p.invoice_id)[1] AS oldest_invoice,
           sum(p.open_amount * p.days_past_due) AS amount_days,
           list(p.invoice_id ORDER BY p.due_date, p.invoice_id)
               FILTER (WHERE i.disputed OR dd.disputed_on IS NOT NULL) AS disputed
    FROM past_due p
    JOIN invoices i USING (invoice_id)
    LEFT JOIN dated_disputes dd USING (invoice_id)
    GROUP BY p.customer_id, p.currency
    HAVING sum(p.open_amount) > 0
),
oldest AS (
    SELECT customer_id, min(oldest_due) AS oldest_due FROM per_currency GROUP BY customer_id
),
notices AS (
    SELECT a.customer_id, a.activity_date,
           coalesce(a.level, TRY_CAST(regexp_extract(a.outcome, 'level\s*([0-9]+)', 1, 'i') AS INTEGER), 1)
               AS level
    FROM activities a JOIN oldest o USING (customer_id)
    WHERE lower(a.kind) = 'dunning' AND a.activity_date <= $as_of AND a.activity_date > o.oldest_due
),
latest AS (
    SELECT customer_id,
           max(activity_date) AS last_notice_date,
           list(level ORDER BY activity_date DESC, level DESC)[1] AS last_level
    FROM notices
    GROUP BY customer_id
)
SELECT c.customer_id, c.currency, c.past_due, c.oldest_due, c.oldest_days, c.oldest_invoice,
       c.amount_days,
       -- each invoice once (one due in instalments is on a row per past-due instalment)
       list_filter(coalesce(c.disputed, []), lambda v, i: list_position(c.disputed, v) = i)
           AS disputed,
       coalesce(l.last_level, 0) AS last_level, l.last_notice_date
FROM per_currency c
LEFT JOIN latest l USING (customer_id)
ORDER BY c.customer_id, c.currency

-- name: history
-- Every dunning notice on or before $as_of (NULL: all), newest first, of $customer (NULL: all),
-- with its level (as in `state`), letter and outcome.
SELECT a.activity_date, a.customer_id, coalesce(nullif(trim(c.name), ''), a.customer_id) AS name,
       coalesce(a.level, TRY_CAST(regexp_extract(a.outcome, 'level\s*([0-9]+)', 1, 'i') AS INTEGER), 1)
           AS level,
       a.invoice_id, a.document, a.outcome, a.activity_id
FROM activities a LEFT JOIN customers c USING (customer_id)
WHERE lower(a.kind) = 'dunning'
  AND ($customer IS NULL OR a.customer_id = $customer)
  AND ($as_of IS NULL OR a.activity_date <= $as_of)
ORDER BY a.activity_date DESC, a.customer_id, level DESC, a.activity_id

-- name: record_notices
-- A confirmed run's notices as activities of kind `dunning` (one per customer and day: a notice
-- already recorded under the same id stays as it was).
INSERT INTO activities (activity_id, customer_id, invoice_id, activity_date, kind, level, document,
                        outcome)
SELECT unnest($ids), unnest($customers), unnest($invoices), $as_of::DATE, 'dunning',
       unnest($levels), unnest($documents), unnest($outcomes)
ON CONFLICT (activity_id) DO NOTHING
