-- The headline figures of the Overview page.

-- name: latest_activity_date
-- The newest invoice or payment date: the natural default as-of date for an export.
SELECT max(d) FROM (
    SELECT max(invoice_date) AS d FROM invoices
    UNION ALL SELECT max(payment_date) FROM payments
)

-- name: headline
-- Open AR, past due and open invoice count at $as_of, per currency (sums never mix currencies; a
-- document without a currency is in the home currency).
-- Open amount = amount − applications dated ≤ as_of (payments, credits, paid dates, write-offs).
WITH settled AS (
    SELECT invoice_id, sum(amount) AS settled
    FROM applications WHERE applied_on <= $as_of GROUP BY invoice_id
),
open_items AS (
    SELECT coalesce(i.currency, (SELECT value FROM settings WHERE key = 'home_currency'))
               AS currency,
           i.due_date, i.amount - coalesce(s.settled, 0) AS open_amount
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
-- The currency with the most invoiced: the default when a figure must not mix currencies. A
-- document without a currency is in the home currency, which is also the answer for a store
-- with nothing invoiced yet.
WITH home AS (SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency),
invoiced AS (
    SELECT coalesce(i.currency, (SELECT currency FROM home)) AS currency, sum(i.amount) AS amount
    FROM invoices i WHERE i.amount > 0
    GROUP BY 1
)
SELECT coalesce(
    (SELECT currency FROM invoiced WHERE currency IS NOT NULL
     ORDER BY amount DESC, currency LIMIT 1),
    (SELECT currency FROM home))

-- name: filter_values
-- The values each sidebar filter can take.
SELECT 'segment' AS filter, segment AS value FROM customers WHERE segment IS NOT NULL
UNION SELECT 'country', country FROM customers WHERE country IS NOT NULL
UNION SELECT 'salesperson', salesperson FROM customers WHERE salesperson IS NOT NULL
UNION SELECT 'currency', currency FROM invoices WHERE currency IS NOT NULL
ORDER BY filter, value

-- name: data_health
-- What a careful user checks after importing: money not matched to invoices, guessed due dates,
-- customers without limits or created as stubs, rejected rows. Money is per currency (a row per
-- currency, or one row with 0 items when there is none); the other checks have no currency.
WITH home AS (SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency),
cash AS (
    SELECT coalesce(currency, (SELECT currency FROM home)) AS currency, count(*) AS items,
           -sum(open_amount) AS amount
    FROM unapplied WHERE item_type = 'unapplied_cash' AND document_date <= $as_of
    GROUP BY 1
),
credits AS (
    SELECT coalesce(currency, (SELECT currency FROM home)) AS currency, count(*) AS items,
           -sum(open_amount) AS amount
    FROM unapplied
    WHERE item_type = 'unapplied_credit'
      AND document_date < ($as_of::DATE - INTERVAL 1 YEAR)::DATE
    GROUP BY 1
),
derived AS (
    SELECT coalesce(currency, (SELECT currency FROM home)) AS currency, count(*) AS items,
           sum(amount) AS amount
    FROM invoices WHERE due_date_derived AND invoice_date <= $as_of
    GROUP BY 1
),
checks AS (
    SELECT 1 AS k, 'Unapplied cash (payments not matched to an invoice)' AS "check", currency,
           items, amount
    FROM cash
    UNION ALL SELECT 1, 'Unapplied cash (payments not matched to an invoice)', NULL, 0, NULL
    WHERE NOT EXISTS (SELECT 1 FROM cash)
    UNION ALL SELECT 2, 'Unapplied credits older than a year', currency, items, amount FROM credits
    UNION ALL SELECT 2, 'Unapplied credits older than a year', NULL, 0, NULL
    WHERE NOT EXISTS (SELECT 1 FROM credits)
    UNION ALL
    SELECT 3, 'Invoices without a due date (invoice date + terms used)', currency, items, amount
    FROM derived
    UNION ALL SELECT 3, 'Invoices without a due date (invoice date + terms used)', NULL, 0, NULL
    WHERE NOT EXISTS (SELECT 1 FROM derived)
    UNION ALL
    SELECT 4, 'Customers without a credit limit', NULL, count(*), NULL
    FROM customers WHERE credit_limit IS NULL
    UNION ALL
    SELECT 5, 'Customers created as stubs (named by documents, not in a customer file)', NULL,
           count(*), NULL
    FROM customers WHERE is_stub
    UNION ALL
    SELECT 6, 'Rejected rows kept from imports', NULL, count(*), NULL FROM rejected_rows
)
SELECT "check", currency, items, amount FROM checks ORDER BY k, currency NULLS FIRST

-- name: rejected_rows
-- The rows one import rejected, with what was wrong.
SELECT file, line, "column", raw_value, reason, raw_row FROM rejected_rows
WHERE import_id = $import_id ORDER BY line NULLS FIRST, "column"

-- name: import_mapping
-- The mapping one import used (source headers, detected formats, value maps).
SELECT mapping, notes FROM import_log WHERE import_id = $import_id
