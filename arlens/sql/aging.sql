-- Open items and aging at any as-of date. Parameters: $as_of; $basis ('due' | 'invoice');
-- $edges (bucket upper bounds, e.g. [30, 60, 90, 120]); filters $segment, $country,
-- $salesperson, $customer, $currency (NULL = all). A document or payment without a currency
-- (a store from before currencies were filled in) is in the home currency (settings), as in
-- kpis.sql, so that it is neither dropped from a sum nor lost to the currency filter.

-- name: open_items
-- One row per open invoice or debit memo, plus unapplied cash and credits as negative items.
WITH items AS (
    SELECT d.doc_type AS item_type, d.invoice_id AS document_id, d.customer_id,
           coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           d.invoice_date AS document_date, d.due_date, d.open_amount, d.days_past_due,
           d.days_outstanding,
           bucket_index(CASE WHEN $basis = 'due' THEN d.days_past_due ELSE d.days_outstanding END,
                        $edges, $basis) AS bucket_index
    FROM open_documents($as_of) d
    UNION ALL
    SELECT u.item_type, u.document_id, u.customer_id,
           coalesce(u.currency, (SELECT value FROM settings WHERE key = 'home_currency')), u.document_date, NULL, u.open_amount,
           NULL, NULL, -1
    FROM unapplied_items($as_of) u
)
SELECT i.item_type, i.document_id, i.customer_id, i.currency, i.document_date, i.due_date,
       i.open_amount, i.days_past_due, i.days_outstanding, i.bucket_index
FROM items i
JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
WHERE $currency IS NULL OR i.currency = $currency
ORDER BY currency, customer_id, document_date, document_id

-- name: aging
-- Open amount per (currency, group, bucket) at $as_of; bucket -1 is unapplied cash and credits.
-- $group_by: customer | segment | country | salesperson | currency | none. Items are summed per
-- customer first, so the customer filter and grouping touch one row per customer and bucket.
WITH items AS (
    SELECT d.customer_id, coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, d.open_amount,
           bucket_index(CASE WHEN $basis = 'due' THEN d.days_past_due ELSE d.days_outstanding END,
                        $edges, $basis) AS bucket_index,
           d.days_past_due > 0 AS is_past_due
    FROM open_documents($as_of) d
    UNION ALL
    SELECT customer_id, coalesce(currency, (SELECT value FROM settings WHERE key = 'home_currency')), open_amount, -1, false
    FROM unapplied_items($as_of)
),
per_customer AS (
    SELECT customer_id, currency, bucket_index, sum(open_amount) AS amount,
           coalesce(sum(open_amount) FILTER (WHERE is_past_due), 0) AS past_due
    FROM items
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY ALL
)
SELECT i.currency,
       CASE $group_by WHEN 'customer' THEN c.customer_id WHEN 'segment' THEN c.segment
                      WHEN 'country' THEN c.country WHEN 'salesperson' THEN c.salesperson END
           AS group_key,
       CASE WHEN $group_by = 'customer' THEN any_value(c.name) END AS group_name,
       i.bucket_index,
       sum(i.amount) AS amount,
       sum(i.past_due) AS past_due
FROM per_customer i
JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
GROUP BY ALL

-- name: trend
-- Open amount per (month-end, currency, bucket) for every month-end in [$start, $end]; summed per
-- customer before the customer filter is applied.
WITH per_customer AS (
    SELECT o.month_end, coalesce(o.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, o.customer_id,
           bucket_index(CASE WHEN $basis = 'due' THEN o.days_past_due ELSE o.days_outstanding END,
                        $edges, $basis) AS bucket_index,
           sum(o.open_amount) AS amount
    FROM open_at_month_ends($start, $end) o
    WHERE $currency IS NULL OR coalesce(o.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency
    GROUP BY ALL
)
SELECT p.month_end, p.currency, p.bucket_index, sum(p.amount) AS amount
FROM per_customer p
JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
GROUP BY ALL
ORDER BY month_end, currency, bucket_index

-- name: trend_from_balances
-- The same trend for the due basis and the default edges, from the month-end balances
-- (`month_end_open`): no expansion of invoices × month-ends where they cover the month-ends.
SELECT b.month_end, coalesce(b.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
       b.bucket_index, sum(b.open_amount) AS amount
FROM month_end_open($start, $end) b
JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
WHERE $currency IS NULL OR coalesce(b.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency
GROUP BY ALL
ORDER BY month_end, currency, bucket_index

-- name: trend_all_from_balances
-- The same without customer filters: no join with the customers (a third of the time at 10M).
SELECT b.month_end, coalesce(b.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
       b.bucket_index, sum(b.open_amount) AS amount
FROM month_end_open($start, $end) b
WHERE $currency IS NULL OR coalesce(b.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency
GROUP BY ALL
ORDER BY month_end, currency, bucket_index

-- name: customer_open_invoices
-- One customer's open invoices at $as_of, oldest due first (the Aging page's drill-down); an
-- invoice due in instalments has a row per open instalment (`instalment`: its number).
SELECT d.invoice_id, d.instalment, d.doc_type, coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, d.invoice_date,
       d.due_date, d.amount, d.open_amount, d.days_past_due
FROM open_documents($as_of) d
WHERE d.customer_id = $customer
ORDER BY d.due_date, d.invoice_id
