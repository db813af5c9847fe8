-- Derived tables, re-derived inside every import's transaction so they always agree with the inputs.
-- Each derivation runs over what an import touched (arlens/ingest/derive.py): `_scope_invoices`
-- (the documents it loaded, the invoices its payments and credit memos name before and after, and
-- the credit memos applying to those), `_scope_payments` (its payments and those naming a scoped
-- invoice) and `month_end_scope` (customers × month-ends). `_scoped_invoices` and
-- `_scoped_payments` hold those rows (views of the whole tables in a full rebuild). Every
-- application of a scoped payment or credit memo is on a scoped invoice, so the new applications
-- (`_new_applications`) are all that the settled dates and unapplied items need.

-- name: scope_credit_memos
-- Credit memos applying to a scoped invoice share its claims: they join the scope.
INSERT INTO _scope_invoices
SELECT invoice_id FROM invoices
WHERE amount < 0 AND applies_to IN (SELECT invoice_id FROM _scope_invoices)

-- name: scoped_payments
-- The scoped payments' rows: those naming a scoped invoice, and the import's own.
CREATE OR REPLACE TEMP TABLE _scoped_payments AS
SELECT * FROM payments WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)
UNION
SELECT * FROM payments WHERE payment_id IN (SELECT payment_id FROM _scope_payments)

-- name: scoped_invoices
-- The scoped invoices' rows (derive.py fetches a small scope through the key's index instead).
CREATE OR REPLACE TEMP TABLE _scoped_invoices AS
SELECT * FROM invoices WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)

-- name: new_applications
-- Who settled what: payments naming an invoice, credit memos naming the invoice they credit
-- (applies_to), a settled/paid date on the invoice itself, and write-offs. Claims on one invoice are
-- taken in date order (payments, then credits, then a paid date, then a write-off on the same day)
-- until the invoice is settled; what a payment or credit brings beyond that stays unapplied.
-- Unapplied credits are never matched by amount: only documented links apply (DESIGN.md §3).
CREATE OR REPLACE TEMP TABLE _new_applications AS
WITH claims AS (
    SELECT 'payment' AS source_type, p.payment_id AS source_id, p.invoice_id,
           p.payment_date AS applied_on, p.amount AS claim, 1 AS rank_in_day
    FROM _scoped_payments p JOIN _scoped_invoices i ON i.invoice_id = p.invoice_id
    WHERE p.amount > 0 AND i.amount > 0 AND p.currency IS NOT DISTINCT FROM i.currency
    UNION ALL
    SELECT 'credit_memo', memo.invoice_id, memo.applies_to, memo.invoice_date, -memo.amount, 2
    FROM _scoped_invoices memo JOIN _scoped_invoices i ON i.invoice_id = memo.applies_to
    WHERE memo.amount < 0 AND i.amount > 0 AND memo.currency IS NOT DISTINCT FROM i.currency
    UNION ALL
    SELECT 'paid_date', invoice_id, invoice_id, paid_date, amount, 3
    FROM _scoped_invoices WHERE paid_date IS NOT NULL AND amount > 0
    UNION ALL
    SELECT 'write_off', invoice_id, invoice_id, written_off_on, amount, 4
    FROM _scoped_invoices WHERE written_off_on IS NOT NULL AND amount > 0
),
-- An open-items export says what was still open on its day: whatever the claims above had not
-- settled by then was paid by that day (an 'open_balance' settlement dated the export).
open_balance AS (
    SELECT 'open_balance' AS source_type, i.invoice_id AS source_id, i.invoice_id,
           i.exported_on AS applied_on,
           (i.amount - i.open_amount_exported) - coalesce(sum(c.claim), 0) AS claim, 5 AS rank_in_day
    FROM _scoped_invoices i LEFT JOIN claims c ON c.invoice_id = i.invoice_id AND c.applied_on <= i.exported_on
    WHERE i.open_amount_exported IS NOT NULL AND i.amount > 0
    GROUP BY i.invoice_id, i.exported_on, i.amount, i.open_amount_exported
),
all_claims AS (
    SELECT * FROM claims UNION ALL SELECT * FROM open_balance WHERE claim > 0
),
ordered AS (
    SELECT c.*, i.amount AS invoice_amount,
           coalesce(sum(c.claim) OVER (
               PARTITION BY c.invoice_id
               ORDER BY c.applied_on, c.rank_in_day, c.source_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS claimed_before
    FROM all_claims c JOIN _scoped_invoices i ON i.invoice_id = c.invoice_id
)
SELECT source_type, source_id, invoice_id, applied_on,
       least(claim, invoice_amount - claimed_before) AS amount
FROM ordered
WHERE claimed_before < invoice_amount

-- name: clear_applications
-- The scoped invoices' old applications go (derive.py keeps them, RETURNING, to date the change).
DELETE FROM applications WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)

-- name: month_end_from_applications
-- Where an invoice's applications changed (`_old_applications` were deleted, `_new_applications`
-- replace them), its open amount changed from the earliest differing date on, and only then.
INSERT INTO _month_end_from
SELECT i.customer_id, min(d.applied_on)
FROM (
    (SELECT * FROM _old_applications EXCEPT ALL SELECT * FROM _new_applications)
    UNION ALL
    (SELECT * FROM _new_applications EXCEPT ALL SELECT * FROM _old_applications)
) d JOIN _scoped_invoices i USING (invoice_id)
GROUP BY i.customer_id

-- name: insert_applications
-- ... and the new ones take their place.
INSERT INTO applications SELECT * FROM _new_applications

-- name: settled_dates
-- The day each invoice was settled in full (NULL while anything is open): lets point-in-time
-- queries skip the settled history without summing its applications.
CREATE OR REPLACE TEMP TABLE _settled AS
SELECT i.invoice_id, i.settled_on AS was,
       CASE WHEN coalesce(a.applied, 0) >= i.amount THEN a.last_applied END AS settled_on,
       coalesce(a.applied, 0) AS applied, a.last_applied
FROM _scoped_invoices i LEFT JOIN (
    SELECT invoice_id, sum(amount) AS applied, max(applied_on) AS last_applied
    FROM _new_applications GROUP BY invoice_id) a USING (invoice_id)
WHERE i.amount > 0

-- name: mark_settled
-- Settled dates that changed are written to the invoices.
UPDATE invoices SET settled_on = s.settled_on
FROM (SELECT * FROM _settled WHERE settled_on IS DISTINCT FROM was) s
WHERE s.invoice_id = invoices.invoice_id

-- name: mark_instalments_settled
-- ... and to the instalment parts of those invoices (open_documents reads only the parts of
-- invoices open at its date).
UPDATE instalment_parts SET settled_on = s.settled_on
FROM (SELECT * FROM _settled WHERE settled_on IS DISTINCT FROM was) s
WHERE s.invoice_id = instalment_parts.invoice_id

-- name: clear_open_invoices
-- The scoped invoices leave the open invoices ...
DELETE FROM open_invoices WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)

-- name: insert_open_invoices
-- ... and those not settled in full come back, as they now are.
INSERT INTO open_invoices
SELECT i.invoice_id, i.customer_id, i.doc_type, i.currency, i.invoice_date, i.due_date, i.amount,
       s.applied, s.last_applied
FROM _scoped_invoices i JOIN _settled s USING (invoice_id)
WHERE s.settled_on IS NULL

-- name: rebuild_open_invoices
-- Every invoice not settled in full, from the stored settled dates (a migration, a relabel).
-- (While an invoice is open, all its applications are partial ones.)
INSERT INTO open_invoices
SELECT i.invoice_id, i.customer_id, i.doc_type, i.currency, i.invoice_date, i.due_date, i.amount,
       coalesce(a.applied, 0), a.last_applied
FROM invoices i LEFT JOIN (
    SELECT invoice_id, sum(amount) AS applied, max(applied_on) AS last_applied
    FROM partial_applications GROUP BY invoice_id) a USING (invoice_id)
WHERE i.amount > 0 AND i.settled_on IS NULL

-- name: clear_partial_applications
-- The scoped invoices' old partial applications go.
DELETE FROM partial_applications WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)

-- name: rebuild_partial_applications
-- The applications dated before their invoice was settled in full (all of them while it is open).
INSERT INTO partial_applications
SELECT a.invoice_id, a.applied_on, a.amount
FROM _new_applications a JOIN _settled s USING (invoice_id)
WHERE s.settled_on IS NULL OR a.applied_on < s.settled_on

-- name: clear_unapplied
-- The scoped payments' and credit memos' old unapplied items go.
DELETE FROM unapplied
WHERE (item_type = 'unapplied_cash' AND document_id IN (SELECT payment_id FROM _scope_payments))
   OR (item_type = 'unapplied_credit' AND document_id IN (SELECT invoice_id FROM _scope_invoices))

-- name: rebuild_unapplied
-- What each payment and credit memo left unapplied, as negative open items dated on the document.
INSERT INTO unapplied
SELECT 'unapplied_cash', p.payment_id, p.customer_id, p.currency, p.payment_date,
       -(p.amount - coalesce(a.applied, 0))
FROM _scoped_payments p LEFT JOIN (
    SELECT source_id, sum(amount) AS applied FROM _new_applications
    WHERE source_type = 'payment' GROUP BY source_id) a ON a.source_id = p.payment_id
WHERE p.amount - coalesce(a.applied, 0) <> 0
UNION ALL
SELECT 'unapplied_credit', m.invoice_id, m.customer_id, m.currency, m.invoice_date,
       m.amount + coalesce(a.applied, 0)
FROM _scoped_invoices m LEFT JOIN (
    SELECT source_id, sum(amount) AS applied FROM _new_applications
    WHERE source_type = 'credit_memo' GROUP BY source_id) a ON a.source_id = m.invoice_id
WHERE m.amount < 0 AND m.amount + coalesce(a.applied, 0) <> 0

-- name: fill_invoice_currencies
-- A document without its own currency is in its customer's currency (assumed when the customer's was).
-- One whose currency was only assumed takes its customer's real currency once a customers file
-- brings it (for the invoices in scope: the import's own, or those of the customers it loaded).
UPDATE invoices SET currency = c.currency, currency_assumed = c.currency_assumed
FROM (
    SELECT invoice_id, customer_id, currency FROM invoices WHERE currency IS NULL
    UNION ALL
    SELECT invoice_id, customer_id, currency FROM invoices
    WHERE currency_assumed AND invoice_id IN (SELECT invoice_id FROM _scope_invoices)
) d JOIN customers c USING (customer_id)
WHERE invoices.invoice_id = d.invoice_id AND c.currency IS NOT NULL
  AND (d.currency IS NULL OR (NOT c.currency_assumed AND d.currency <> c.currency))

-- name: fill_payment_currencies
-- Likewise for payments: the invoice's currency, else the customer's. A payment whose currency was
-- assumed (its invoice or customer came later) takes the better one once it arrives (in scope).
UPDATE payments SET currency = f.currency, currency_assumed = f.currency_assumed
FROM (
    SELECT p.payment_id, coalesce(i.currency, c.currency) AS currency,
           CASE WHEN i.currency IS NOT NULL THEN i.currency_assumed ELSE c.currency_assumed END
               AS currency_assumed
    FROM (
        SELECT * FROM payments WHERE currency IS NULL
        UNION
        SELECT * FROM payments
        WHERE currency_assumed AND invoice_id IN (SELECT invoice_id FROM _scope_invoices)
        UNION
        SELECT * FROM payments
        WHERE currency_assumed AND payment_id IN (SELECT payment_id FROM _scope_payments)
    ) p
    LEFT JOIN invoices i ON i.invoice_id = p.invoice_id
    LEFT JOIN customers c ON c.customer_id = p.customer_id
    WHERE p.currency IS NULL
       OR coalesce(i.currency, CASE WHEN NOT c.currency_assumed THEN c.currency END) <> p.currency
) f
WHERE payments.payment_id = f.payment_id AND f.currency IS NOT NULL

-- name: fill_order_currencies
-- An order without a currency is in its customer's, else the home currency (and says it assumed).
UPDATE orders SET currency = coalesce(c.currency, $home), currency_assumed = true
FROM (SELECT o.order_id, c.currency FROM orders o LEFT JOIN customers c USING (customer_id)
      WHERE o.currency IS NULL) c
WHERE orders.order_id = c.order_id;

-- name: fill_customer_currencies
-- A customer without a currency bills in the one its documents use most, else the home currency.
UPDATE customers SET currency = coalesce(d.currency, $home), currency_assumed = d.currency IS NULL
FROM (
    SELECT c.customer_id, mode(x.currency) AS currency
    FROM customers c LEFT JOIN (
        SELECT customer_id, currency FROM invoices WHERE currency IS NOT NULL
        UNION ALL SELECT customer_id, currency FROM payments WHERE currency IS NOT NULL
    ) x USING (customer_id)
    WHERE c.currency IS NULL
    GROUP BY c.customer_id
) d
WHERE customers.customer_id = d.customer_id

-- name: fill_customer_countries
-- An invoice register's country column (countryCode, region) tells the customer's country.
UPDATE customers SET country = f.country
FROM (SELECT customer_id, mode(country) AS country FROM _invoice_countries GROUP BY customer_id) f
WHERE customers.customer_id = f.customer_id AND customers.country IS NULL

-- name: create_stub_customers
-- Documents may name customers the store has not seen: they get a stub row, reported to the user.
-- Only the documents an import loaded can name a new one.
INSERT INTO customers (customer_id, is_stub)
SELECT DISTINCT customer_id, true FROM (
    SELECT customer_id FROM invoices WHERE $table = 'invoices'
       AND invoice_id IN (SELECT key FROM _imported_keys)
    UNION ALL
    SELECT customer_id FROM payments WHERE $table = 'payments'
       AND payment_id IN (SELECT key FROM _imported_keys)
    UNION ALL
    SELECT customer_id FROM activities WHERE $table = 'activities'
       AND activity_id IN (SELECT key FROM _imported_keys)
) named
WHERE customer_id NOT IN (SELECT customer_id FROM customers)

-- name: import_warnings
-- What the user should know after an import, as (what, currency, how many, amount): about the
-- documents this import loaded (`_imported_keys`) and the payments naming them, per currency (all
-- of them in the import's scope).
WITH touched_payments AS (  -- all scoped, so all their applications are new ones
    SELECT * FROM _scoped_payments
    WHERE payment_id IN (SELECT key FROM _imported_keys)
       OR invoice_id IN (SELECT key FROM _imported_keys)
)
SELECT what, currency, count(*), sum(amount) FROM (
    SELECT 'payments name an invoice that is not in the store (kept as unapplied cash)' AS what,
           p.currency, p.amount
    FROM touched_payments p WHERE p.invoice_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM _scoped_invoices i WHERE i.invoice_id = p.invoice_id)
    UNION ALL
    SELECT 'payments bring more than was open on their invoice (the excess stays as unapplied cash)',
           p.currency, p.amount - a.applied
    FROM touched_payments p JOIN (
        SELECT source_id, sum(amount) AS applied FROM _new_applications
        WHERE source_type = 'payment' GROUP BY source_id) a ON a.source_id = p.payment_id
    WHERE p.amount > a.applied
    UNION ALL
    SELECT 'payments in another currency than the invoice they name (not applied: kept as unapplied cash)',
           p.currency, p.amount
    FROM touched_payments p JOIN _scoped_invoices i ON i.invoice_id = p.invoice_id
    WHERE p.currency IS DISTINCT FROM i.currency
    UNION ALL
    SELECT 'credit memos name an invoice that is not in the store (kept as unapplied credit)',
           m.currency, m.amount
    FROM _scoped_invoices m WHERE m.amount < 0 AND m.applies_to IS NOT NULL
      AND m.invoice_id IN (SELECT key FROM _imported_keys)
      AND NOT EXISTS (SELECT 1 FROM _scoped_invoices i WHERE i.invoice_id = m.applies_to)
) GROUP BY what, currency ORDER BY what, currency

-- name: month_end_balances_through
-- The newest month-end the month-end balances cover: the last one on or before the newest document.
SELECT CASE WHEN last_day(d) = d THEN d ELSE (date_trunc('month', d) - INTERVAL 1 DAY)::DATE END
FROM (SELECT greatest(max(i.invoice_date), (SELECT max(payment_date) FROM payments)) AS d
      FROM invoices i)

-- name: clear_month_end_balances
-- The scoped customers' month-end balances from their first touched month-end go.
DELETE FROM month_end_balances
WHERE customer_id IN (SELECT customer_id FROM month_end_scope) AND EXISTS (
    SELECT 1 FROM month_end_scope s
    WHERE s.customer_id = month_end_balances.customer_id
      AND month_end_balances.month_end >= s.from_month_end)

-- name: rebuild_month_end_balances
-- Open amounts at each month-end in [$start, $through] per customer, currency and bucket, the way
-- the trend sums them (invoices and debit memos; unapplied items are not aged); $scoped keeps to
-- `month_end_scope` (false in a full rebuild, where it holds every customer from the start).
INSERT INTO month_end_balances
SELECT month_end, customer_id, currency, month_end_bucket(days_past_due), sum(open_amount)
FROM open_at_month_ends($start, $through, scoped := $scoped)
GROUP BY ALL

-- name: instalment_problems
-- The payment schedules an import touched that do not apply (macros.sql instalment_schedule_fits),
-- as (invoice_id, problem, invoice amount, Σ amounts, Σ shares, instalments): the schedules of the
-- instalments it loaded ($table = 'invoice_instalments') or of the invoices it loaded
-- ('invoices'). problem: `missing` (no such invoice yet), `credit` (a credit memo), `mixed`
-- (amounts and shares), `sum` (they do not add up to the invoice).
WITH named AS (
    SELECT DISTINCT invoice_id FROM invoice_instalments
    WHERE ($table = 'invoice_instalments' AND instalment_key IN (SELECT key FROM _imported_keys))
       OR ($table = 'invoices' AND invoice_id IN (SELECT key FROM _imported_keys))
)
SELECT p.invoice_id,
       CASE WHEN i.invoice_id IS NULL THEN 'missing' WHEN i.amount <= 0 THEN 'credit'
            WHEN NOT p.by_amount AND NOT p.by_share THEN 'mixed' ELSE 'sum' END AS problem,
       i.amount, CASE WHEN p.by_amount THEN p.amount_total END,
       CASE WHEN p.by_share THEN p.share_total END, p.instalments
FROM instalment_plan() p LEFT JOIN invoices i USING (invoice_id)
WHERE p.instalment = 1 AND p.invoice_id IN (SELECT invoice_id FROM named)
  AND (i.invoice_id IS NULL OR NOT instalment_schedule_fits(p.by_amount, p.by_share,
                                                           p.amount_total, p.share_total, i.amount))
ORDER BY problem, p.invoice_id

-- name: clear_instalment_parts
-- The scoped invoices' instalment parts go (`_scope_instalments`: the invoices whose instalments
-- or amount the import loaded) ...
DELETE FROM instalment_parts WHERE invoice_id IN (SELECT invoice_id FROM _scope_instalments)

-- name: insert_instalment_parts
-- ... and come back from their schedules as they now are, when they apply (macros.sql
-- schedule_parts).
INSERT INTO instalment_parts
SELECT * FROM schedule_parts() WHERE invoice_id IN (SELECT invoice_id FROM _scope_instalments)

-- name: rebuild_instalment_parts
-- Every schedule's parts (after `DELETE FROM instalment_parts` in a full rebuild; a migration),
-- those of invoices that have none yet.
INSERT INTO instalment_parts
SELECT * FROM schedule_parts() WHERE invoice_id NOT IN (SELECT invoice_id FROM instalment_parts)
