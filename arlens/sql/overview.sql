-- The headline figures of the Overview page.

-- name: latest_activity_date
-- The newest invoice or payment date: the natural default as-of date for an export.
SELECT max(d) FROM (
    SELECT max(invoice_date) AS d FROM invoices
    UNION ALL SELECT max(payment_date) FROM payments
)

-- name: headline
-- Open AR, past due and open invoice count at $as_of, per currency (sums never mix currencies).
-- Open amount = amount − applications dated ≤ as_of (payments, credits, paid dates, write-offs).
WITH settled AS (
    SELECT invoice_id, sum(amount) AS settled
    FROM applications WHERE applied_on <= $as_of GROUP BY invoice_id
),
open_items AS (
    SELECT i.currency, i.due_date, i.amount - coalesce(s.settled, 0) AS open_amount
    FROM invoices i LEFT JOIN settled s USING (invoice_id)
    WHERE i.invoice_date <= $as_of AND i.amount > 0
)
SELECT currency,
       sum(open_amount) AS open_ar,
       coalesce(sum(open_amount) FILTER (WHERE due_date < $as_of), 0) AS past_due,
       count(*) AS open_invoices
FROM open_items
WHERE open_amount <> 0
GROUP BY currency
ORDER BY open_ar DESC

-- name: import_history
-- Every import with its counts, newest first.
SELECT import_id, imported_at, file, target_table, rows_read, rows_loaded, rows_rejected,
       stub_customers
FROM import_log ORDER BY import_id DESC

-- name: main_currency
-- The currency with the most invoiced: the default when a figure must not mix currencies.
SELECT currency FROM invoices WHERE amount > 0 AND currency IS NOT NULL
GROUP BY currency ORDER BY sum(amount) DESC, currency LIMIT 1

-- name: filter_values
-- The values each sidebar filter can take.
SELECT 'segment' AS filter, segment AS value FROM customers WHERE segment IS NOT NULL
UNION SELECT 'country', country FROM customers WHERE country IS NOT NULL
UNION SELECT 'salesperson', salesperson FROM customers WHERE salesperson IS NOT NULL
UNION SELECT 'currency', currency FROM invoices WHERE currency IS NOT NULL
ORDER BY filter, value
