-- Statements of account (arlens/collections/statements.py). Parameters: $customers (a list of
-- customer ids, NULL = every customer), $start and $end (the period, both days included), $edges
-- (the aging bucket edges, e.g. [30, 60, 90, 120]). A document or payment without a currency is in
-- the home currency, as in aging.sql.

-- name: entries
-- Every movement of each customer's balance, per currency: an `opening` row with the balance
-- before $start (only when there is one), then one row per document dated in [$start, $end] in
-- date order. The balance at a day is open invoices and debit memos net of unapplied cash and
-- credits, exactly what open_items sums (DESIGN.md §4), so the movements are: an invoice or debit
-- memo adds its amount on its date; each settlement (`applications`: a payment, a credit memo, a
-- paid date, an open-items export's balance, a write-off) takes its amount off on the day it was
-- applied, or on the invoice's date when it was applied earlier (an invoice is in no balance
-- before its date); what a payment or credit memo left unapplied (`unapplied`) is taken off on
-- its own date. A payment's or credit memo's applications and unapplied rest make one line.
WITH home AS (
    SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency
),
docs AS (
    SELECT i.invoice_id, i.customer_id, i.doc_type, i.invoice_date, i.due_date, i.amount,
           i.po_number, i.applies_to, coalesce(i.currency, home.currency) AS currency
    FROM invoices i, home
    WHERE i.invoice_date <= $end
      AND ($customers IS NULL OR list_contains($customers, i.customer_id))
),
events AS (
    SELECT customer_id, currency, invoice_date AS entry_date, doc_type AS source_type,
           invoice_id AS document_id, amount, NULL::VARCHAR AS applied_to
    FROM docs WHERE amount > 0
    UNION ALL
    SELECT d.customer_id, d.currency, greatest(a.applied_on, d.invoice_date), a.source_type,
           a.source_id, -a.amount, a.invoice_id
    FROM applications a JOIN docs d ON d.invoice_id = a.invoice_id
    WHERE d.amount > 0 AND a.applied_on <= $end
    UNION ALL
    SELECT u.customer_id, coalesce(u.currency, home.currency), u.document_date, u.item_type,
           u.document_id, u.open_amount, NULL
    FROM unapplied u, home
    WHERE u.document_date <= $end
      AND ($customers IS NULL OR list_contains($customers, u.customer_id))
),
lines AS (
    SELECT customer_id, currency, entry_date,
           CASE WHEN source_type IN ('payment', 'unapplied_cash') THEN 'payment'
                WHEN source_type IN ('credit_memo', 'unapplied_credit') THEN 'credit_memo'
                ELSE source_type END AS kind,
           document_id,
           sum(amount) AS amount,
           coalesce(sum(amount) FILTER (WHERE source_type LIKE 'unapplied%'), 0) AS unapplied,
           list_sort(list_distinct(list(applied_to))) AS applied_to
    FROM events
    GROUP BY ALL
)
SELECT customer_id, currency, $start::DATE AS entry_date, 'opening' AS kind,
       NULL::VARCHAR AS document_id, sum(amount) AS amount, 0::DECIMAL(18,2) AS unapplied,
       []::VARCHAR[] AS applied_to, NULL::DATE AS due_date, NULL::VARCHAR AS reference, 0 AS rank
FROM lines WHERE entry_date < $start
GROUP BY customer_id, currency
UNION ALL
SELECT l.customer_id, l.currency, l.entry_date, l.kind, l.document_id, l.amount, l.unapplied,
       l.applied_to, d.due_date,
       CASE WHEN l.kind = 'payment' THEN concat_ws(' ', p.method, p.reference)
            ELSE d.po_number END AS reference,
       CASE l.kind WHEN 'invoice' THEN 1 WHEN 'debit_memo' THEN 2 WHEN 'credit_memo' THEN 3
                   WHEN 'payment' THEN 4 WHEN 'paid_date' THEN 5 WHEN 'open_balance' THEN 6
                   ELSE 7 END AS rank
FROM lines l
LEFT JOIN docs d ON d.invoice_id = l.document_id AND l.kind IN ('invoice', 'debit_memo', 'credit_memo')
LEFT JOIN payments p ON p.payment_id = l.document_id AND l.kind = 'payment'
WHERE l.entry_date >= $start
ORDER BY customer_id, currency, entry_date, rank, document_id

-- name: open_items
-- Each customer's open items at $end: open invoices and debit memos (open_documents) with their
-- amount, due date, days past due and due-date bucket on $edges (the Aging page's, 0 = Current),
-- then unapplied cash and credits (unapplied_items) as negative items in bucket -1. An invoice due
-- in instalments is a row per open instalment (`instalment` its number, `amount` its part). The
-- statement's aging summary sums them; its open-items variant lists them.
WITH home AS (
    SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency
)
SELECT d.customer_id, coalesce(d.currency, home.currency) AS currency, d.doc_type AS kind,
       d.invoice_id AS document_id, d.invoice_date AS document_date, d.due_date, d.amount,
       d.open_amount, d.days_past_due, bucket_index(d.days_past_due, $edges, 'due') AS bucket_index,
       d.instalment
FROM open_documents($end) d, home
WHERE $customers IS NULL OR list_contains($customers, d.customer_id)
UNION ALL
SELECT u.customer_id, coalesce(u.currency, home.currency), u.item_type, u.document_id,
       u.document_date, NULL, NULL, u.open_amount, NULL, -1, NULL
FROM unapplied_items($end) u, home
WHERE $customers IS NULL OR list_contains($customers, u.customer_id)
ORDER BY customer_id, currency, bucket_index = -1, due_date, document_date, document_id

-- name: customers
-- Whom a statement or notice is addressed to: name (the id when it has none), currency, billing
-- contact, email, phone, country and the dunning block, for $customers.
SELECT customer_id, coalesce(nullif(trim(name), ''), customer_id) AS name, currency,
       nullif(trim(contact_name), '') AS contact_name, nullif(trim(email), '') AS email,
       nullif(trim(phone), '') AS phone, country, coalesce(dunning_blocked, false) AS dunning_blocked
FROM customers
WHERE $customers IS NULL OR list_contains($customers, customer_id)
ORDER BY customer_id

-- name: past_due_customers
-- The customers with anything past due at $as_of (an open invoice or debit memo whose due date
-- is before it), as `arlens statements --past-due-only` picks them.
SELECT DISTINCT customer_id FROM open_documents($as_of) WHERE days_past_due > 0 ORDER BY customer_id

-- name: customer_ids
-- Every customer id and name (to suggest one when an unknown id is given).
SELECT customer_id, name FROM customers ORDER BY customer_id
