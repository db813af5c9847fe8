-- Suggested credit limits (arlens/credit_limits.py holds the rule, the arithmetic and the words).
-- Filters as in aging.sql. Everything is in the customer's currency (customers.currency).

-- name: limit_inputs
-- One row per customer with a credit limit at $as_of or a credit sale in the window: the
-- $months calendar months ending with the month of $as_of (the last one up to $as_of).
-- Current limit: the limit in force at $as_of (`credit_limits_at`, as the credit review reads it).
-- Stale: a limit whose review is missing or more than $stale_months months before $as_of (as the
-- credit review).
-- Credit sales: invoices and debit memos (amount > 0) dated in the window in the customer's
-- currency, summed per calendar month: the peak month (the later one on a tie), the total and
-- the months with a sale; documents in other currencies are only counted.
-- Terms: customers.payment_terms_days, else the median of due date − invoice date over the
-- window's invoices (a register with due dates only). Days late: the median of settled date − due
-- date over the customer's invoices settled in full in the window (written-off ones left out)
-- and of days past due over its invoices still open and past due at $as_of (late at least that
-- much so far: a customer that stopped paying is not taken as punctual).
WITH bounds AS (
    SELECT (date_trunc('month', $as_of::DATE) - to_months($months::INTEGER - 1))::DATE AS start_date
),
people AS (
    SELECT c.customer_id, coalesce(nullif(trim(c.name), ''), c.customer_id) AS name,
           coalesce(c.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           c.payment_terms_days
    FROM filtered_customers($segment, $country, $salesperson, $customer) c
),
limits AS (
    SELECT p.customer_id, p.name, p.currency, p.payment_terms_days, l.credit_limit, l.reviewed_on
    FROM people p
    JOIN credit_limits_at($as_of, []::VARCHAR[], []::DOUBLE[]) l USING (customer_id)
    WHERE $currency IS NULL OR p.currency = $currency
),
window_sales AS (
    SELECT s.customer_id, s.currency = l.currency AS own_currency,
           date_trunc('month', s.invoice_date)::DATE AS month, s.amount
    FROM invoiced() s JOIN limits l USING (customer_id)
    WHERE s.invoice_date >= (SELECT start_date FROM bounds) AND s.invoice_date <= $as_of
),
monthly AS (
    SELECT customer_id, month, sum(amount) AS sales
    FROM window_sales WHERE own_currency
    GROUP BY ALL
),
sales AS (
    SELECT customer_id,
           max(sales) AS peak_sales,
           list(month ORDER BY sales DESC, month DESC)[1] AS peak_month,
           sum(sales) AS window_sales,
           count(*) AS months_with_sales
    FROM monthly
    GROUP BY customer_id
),
other_currencies AS (
    SELECT customer_id, count(*) AS other_currency_documents
    FROM window_sales WHERE NOT own_currency
    GROUP BY customer_id
),
their_invoices AS (
    SELECT i.customer_id, i.invoice_date, i.due_date, i.settled_on, i.written_off_on
    FROM invoices i JOIN limits l USING (customer_id)
    WHERE i.doc_type = 'invoice' AND i.amount > 0
),
terms AS (
    SELECT customer_id, median(due_date - invoice_date) AS terms_from_dates
    FROM their_invoices
    WHERE invoice_date >= (SELECT start_date FROM bounds) AND invoice_date <= $as_of
      AND due_date IS NOT NULL
    GROUP BY customer_id
),
lateness AS (
    SELECT customer_id, median(days_late) AS median_days_late, count(*) AS timed_invoices
    FROM (
        SELECT customer_id, (settled_on - due_date)::INTEGER AS days_late
        FROM their_invoices
        WHERE settled_on >= (SELECT start_date FROM bounds) AND settled_on <= $as_of
          AND written_off_on IS NULL AND due_date IS NOT NULL
        UNION ALL  -- still open and past due at $as_of: late by at least this much so far
        SELECT d.customer_id, d.days_past_due
        FROM open_documents($as_of) d JOIN limits l USING (customer_id)
        WHERE d.doc_type = 'invoice' AND d.days_past_due > 0
    )
    GROUP BY customer_id
)
SELECT l.customer_id, l.name, l.currency, l.credit_limit, l.reviewed_on,
       l.credit_limit IS NOT NULL AND (l.reviewed_on IS NULL
           OR l.reviewed_on < ($as_of::DATE - to_months($stale_months::INTEGER))::DATE) AS stale,
       l.payment_terms_days, t.terms_from_dates,
       s.peak_month, s.peak_sales, s.window_sales, coalesce(s.months_with_sales, 0) AS months_with_sales,
       d.median_days_late, coalesce(d.timed_invoices, 0) AS timed_invoices,
       coalesce(o.other_currency_documents, 0) AS other_currency_documents,
       (SELECT start_date FROM bounds) AS window_start
FROM limits l
LEFT JOIN sales s USING (customer_id)
LEFT JOIN other_currencies o USING (customer_id)
LEFT JOIN terms t USING (customer_id)
LEFT JOIN lateness d USING (customer_id)
WHERE l.credit_limit IS NOT NULL OR s.customer_id IS NOT NULL
ORDER BY l.customer_id
