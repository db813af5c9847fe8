-- Building blocks shared by the metric queries: created as TEMP macros on every connection
-- (read-only ones too), so each definition of "open", "bucket" and "filter" exists once.

-- Which aging bucket `days` falls in: 0 is `Current` (due basis) or the first bucket (invoice
-- basis); edges are the inclusive upper bounds, e.g. [30, 60, 90, 120].
CREATE OR REPLACE TEMP MACRO bucket_index(days, edges, basis) AS
    CASE WHEN basis = 'due' AND days <= 0 THEN 0
         ELSE (CASE WHEN basis = 'due' THEN 1 ELSE 0 END)
              + array_length(list_filter(edges, lambda e: e < days)) END;

-- The customers that pass the sidebar filters (NULL means "all").
CREATE OR REPLACE TEMP MACRO filtered_customers(segment, country, salesperson, customer) AS TABLE
    SELECT * FROM customers
    WHERE (segment IS NULL OR customers.segment = segment)
      AND (country IS NULL OR customers.country = country)
      AND (salesperson IS NULL OR customers.salesperson = salesperson)
      AND (customer IS NULL OR customers.customer_id = customer);

-- Payment schedules (invoice_instalments): each instalment's place in its invoice's schedule,
-- from the instalments table alone. Instalments are taken in due-date order; each is given by
-- `amount` (which wins when a row has both) or by `share` of the invoice's amount. `by_amount` /
-- `by_share`: every row of the schedule is given that way (a schedule mixing the two does not
-- apply); `amount_before`: the earlier instalments' amounts. The importer derives
-- `instalment_parts` from it (derive.sql); the import notes use it too.
CREATE OR REPLACE TEMP MACRO instalment_plan() AS TABLE
    SELECT invoice_id, due_date, amount, share,
           row_number() OVER ordered AS instalment,
           count(*) OVER whole AS instalments,
           bool_and(coalesce(amount > 0, false)) OVER whole AS by_amount,
           bool_and(amount IS NULL AND coalesce(share > 0, false)) OVER whole AS by_share,
           sum(amount) OVER whole AS amount_total,
           sum(share) OVER whole AS share_total,
           coalesce(sum(amount) OVER earlier, 0) AS amount_before
    FROM invoice_instalments
    WINDOW whole AS (PARTITION BY invoice_id),
           ordered AS (PARTITION BY invoice_id ORDER BY due_date),
           earlier AS (PARTITION BY invoice_id ORDER BY due_date
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);

-- Whether a schedule applies to an invoice of `invoice_amount` (columns of instalment_plan): its
-- amounts add up to it to the cent, or its shares to 1 (within 0.000001: thirds written
-- 0.33333333); else the invoice stays due on its own due date (the import notes name it). Credit
-- memos (amount ≤ 0) are never due in instalments.
CREATE OR REPLACE TEMP MACRO instalment_schedule_fits(by_amount, by_share, amount_total,
                                                      share_total, invoice_amount) AS
    invoice_amount > 0 AND CASE WHEN by_amount THEN amount_total = invoice_amount
                                WHEN by_share THEN abs(share_total - 1) <= 0.000001
                                ELSE false END;

-- The parts of the schedules that apply, as the importer keeps them in `instalment_parts`: one
-- row per instalment in due-date order with its part of the invoice (its amount, or its share
-- rounded to the cent; the last takes what the others leave, so the parts add up to the invoice
-- exactly), the parts due before it (the earlier amounts, or the earlier shares each rounded to
-- the cent), and the day the invoice was settled in full (NULL: open).
CREATE OR REPLACE TEMP MACRO schedule_parts() AS TABLE
    SELECT invoice_id, instalment, due_date,
           (CASE WHEN instalment = instalments THEN invoice_amount - amount_before
                 WHEN by_amount THEN amount
                 ELSE round(share * invoice_amount, 2) END)::DECIMAL(18,2) AS amount,
           amount_before::DECIMAL(18,2) AS amount_before, settled_on
    FROM (
        SELECT p.invoice_id, p.instalment::INTEGER AS instalment, p.instalments, p.due_date,
               p.amount, p.share, p.by_amount, i.amount AS invoice_amount, i.settled_on,
               CASE WHEN p.by_amount THEN p.amount_before
                    ELSE coalesce(sum(round(p.share * i.amount, 2)) OVER (
                        PARTITION BY p.invoice_id ORDER BY p.instalment
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) END AS amount_before
        FROM instalment_plan() p JOIN invoices i USING (invoice_id)
        WHERE instalment_schedule_fits(p.by_amount, p.by_share, p.amount_total, p.share_total,
                                       i.amount)
    );

-- Invoices and debit memos open at as_of: amount − settlements dated ≤ as_of. The candidates are
-- those not settled in full by as_of: the ones still open (`open_invoices`, kept by the importer)
-- and those settled after as_of (`settled_on`, the day applications settled it in full), so the
-- settled history is never read. An open invoice with no application after as_of is open by
-- amount − applied; the others (an earlier as_of) sum their partial applications up to as_of
-- (`partial_applications`: an invoice still open at as_of has only those up to then).
-- An invoice due in instalments (`instalment_parts`: the schedules that add up, kept by the
-- importer) is one row per instalment still open: what was settled by as_of (amount − open
-- amount) pays its instalments in due-date order, each instalment's open amount is its part less
-- what that paid of it, and paid ones drop out. Such a row has the instalment's due date (so days
-- past due and the bucket are the instalment's), its part as `amount`, and `instalment`, its
-- number in the schedule (1 is due first); `instalment` is NULL for every other document. So an
-- invoice_id can be on several rows: a query naming invoices aggregates them. Without
-- instalments the left join finds nothing and costs next to nothing.
CREATE OR REPLACE TEMP MACRO open_documents(as_of) AS TABLE
    WITH candidates AS (
        SELECT invoice_id, customer_id, doc_type, currency, invoice_date, due_date, amount,
               CASE WHEN coalesce(last_applied_on, as_of) <= as_of THEN applied END AS applied
        FROM open_invoices
        WHERE invoice_date <= as_of
        UNION ALL
        SELECT invoice_id, customer_id, doc_type, currency, invoice_date, due_date, amount,
               NULL
        FROM invoices
        WHERE settled_on > as_of AND amount > 0 AND invoice_date <= as_of
    ),
    settled AS (
        SELECT invoice_id, sum(amount) AS settled
        FROM partial_applications
        WHERE applied_on <= as_of
          AND invoice_id IN (SELECT invoice_id FROM candidates WHERE applied IS NULL)
        GROUP BY invoice_id
    ),
    opened AS (
        SELECT c.invoice_id, c.customer_id, c.doc_type, c.currency, c.invoice_date, c.due_date,
               c.amount,
               c.amount - coalesce(c.applied, s.settled, 0) AS open_amount
        FROM candidates c LEFT JOIN settled s USING (invoice_id)
    ),
    items AS (
        SELECT o.invoice_id, o.customer_id, o.doc_type, o.currency, o.invoice_date,
               coalesce(p.due_date, o.due_date) AS due_date, coalesce(p.amount, o.amount) AS amount,
               CASE WHEN p.amount IS NULL THEN o.open_amount
                    ELSE p.amount - least(p.amount, greatest(o.amount - o.open_amount
                                                             - p.amount_before, 0)) END
                   AS open_amount,
               p.instalment
        FROM opened o
        LEFT JOIN (SELECT * FROM instalment_parts  -- of the invoices open at as_of only
                   WHERE settled_on IS NULL OR settled_on > as_of) p USING (invoice_id)
        WHERE o.open_amount <> 0
    )
    SELECT invoice_id, customer_id, doc_type, currency, invoice_date, due_date, amount,
           open_amount, (as_of - due_date)::INTEGER AS days_past_due,
           (as_of - invoice_date)::INTEGER AS days_outstanding, instalment
    FROM items
    WHERE open_amount <> 0;

-- Unapplied cash and unapplied credits at as_of, as negative items. Payments and credit memos
-- settle on their own date, so what is unapplied of one dated ≤ as_of is fixed (table `unapplied`).
CREATE OR REPLACE TEMP MACRO unapplied_items(as_of) AS TABLE
    SELECT * FROM unapplied WHERE document_date <= as_of;

-- The calendar month-ends in [start_date, end_date].
CREATE OR REPLACE TEMP MACRO month_ends(start_date, end_date) AS TABLE
    SELECT last_day(m)::DATE AS month_end
    FROM (SELECT unnest(generate_series(date_trunc('month', start_date::DATE),
                                        greatest(date_trunc('month', start_date::DATE),
                                                 date_trunc('month', end_date::DATE)),
                                        INTERVAL 1 MONTH)) AS m)
    WHERE last_day(m)::DATE BETWEEN start_date::DATE AND end_date::DATE;

-- Every invoice open at every month-end in [start_date, end_date], with its open amount then.
-- `scoped` keeps only the customers and month-ends in `month_end_scope` (what an import touched).
CREATE OR REPLACE TEMP MACRO open_at_month_ends(start_date, end_date, scoped := false) AS TABLE
    WITH pairs AS (
        SELECT m.month_end, i.invoice_id, i.customer_id, i.currency, i.invoice_date, i.due_date,
               i.amount
        FROM invoices i
        JOIN month_ends(start_date, end_date) m
          ON i.invoice_date <= m.month_end
         AND coalesce(i.settled_on, DATE '9999-12-31') > m.month_end
        WHERE i.amount > 0
          -- settled before the first month-end or issued after the last: never open at one
          AND coalesce(i.settled_on, DATE '9999-12-31') > start_date::DATE
          AND i.invoice_date <= end_date::DATE
          AND (NOT scoped OR (
              i.customer_id IN (SELECT customer_id FROM month_end_scope)
              AND EXISTS (SELECT 1 FROM month_end_scope s
                          WHERE s.customer_id = i.customer_id AND m.month_end >= s.from_month_end)))
    ),
    settled AS (
        SELECT p.month_end, p.invoice_id, sum(a.amount) AS settled
        FROM pairs p JOIN partial_applications a
          ON a.invoice_id = p.invoice_id AND a.applied_on <= p.month_end
        WHERE a.applied_on <= end_date::DATE
        GROUP BY ALL
    )
    SELECT p.*, p.amount - coalesce(s.settled, 0) AS open_amount,
           (p.month_end - p.due_date)::INTEGER AS days_past_due,
           (p.month_end - p.invoice_date)::INTEGER AS days_outstanding
    FROM pairs p LEFT JOIN settled s USING (month_end, invoice_id)
    WHERE p.amount - coalesce(s.settled, 0) <> 0;

-- The bucket month-end balances are kept in: the due basis with the default edges (arlens.metrics
-- DEFAULT_EDGES); 0 is Current.
CREATE OR REPLACE TEMP MACRO month_end_bucket(days) AS bucket_index(days, [30, 60, 90, 120], 'due');

-- Open invoice amounts per month-end in [start_date, end_date] × customer × currency × bucket:
-- read from `month_end_balances` up to the month-end they cover (the importer keeps them), aged
-- from the invoices after it (month-ends past the newest document).
CREATE OR REPLACE TEMP MACRO month_end_open(start_date, end_date) AS TABLE
    WITH covered AS (
        SELECT coalesce(
            (SELECT value FROM settings WHERE key = 'month_end_balances_through')::DATE,
            DATE '0001-01-01') AS through
    )
    SELECT month_end, customer_id, currency, bucket_index, open_amount
    FROM month_end_balances
    WHERE month_end BETWEEN start_date::DATE AND least(end_date::DATE, (SELECT through FROM covered))
    UNION ALL
    SELECT month_end, customer_id, currency, month_end_bucket(days_past_due), sum(open_amount)
    FROM open_at_month_ends(greatest(start_date::DATE, (SELECT through FROM covered) + 1), end_date)
    GROUP BY ALL;

-- What one unit of each currency is worth in `reporting` at `as_of`: the closing rate, i.e. the
-- latest quote on or before as_of (DESIGN §4). `fx_rates` rows say "on rate_date one `currency`
-- is worth `rate` `base_currency`". A rate is used as quoted (currency → reporting), inverted
-- (reporting → currency), or crossed through one currency both are quoted against (an ECB file
-- quotes every currency per euro); a direct or inverted quote wins over a cross, then the newer
-- quote. The reporting currency itself is 1. A currency with no quote on or before as_of has no
-- row: its documents are listed (currencies.sql `untranslated`), never summed as is.
CREATE OR REPLACE TEMP MACRO fx_closing(as_of, reporting) AS TABLE
    WITH latest AS (
        SELECT currency, base_currency, arg_max(rate, rate_date)::DOUBLE AS rate,
               max(rate_date) AS rate_date
        FROM fx_rates
        WHERE rate_date <= as_of::DATE AND rate > 0 AND currency <> base_currency
        GROUP BY ALL
    ),
    legs AS (  -- one `from_currency` is worth `rate` `to_currency`, newest quote of the pair
        SELECT * FROM (
            SELECT currency AS from_currency, base_currency AS to_currency, rate, rate_date,
                   0 AS inverted
            FROM latest
            UNION ALL
            SELECT base_currency, currency, 1 / rate, rate_date, 1 FROM latest
        )
        QUALIFY row_number() OVER (PARTITION BY from_currency, to_currency
                                   ORDER BY rate_date DESC, inverted) = 1
    ),
    candidates AS (
        SELECT reporting AS currency, 1::DOUBLE AS rate, NULL::DATE AS rate_date, 0 AS hops,
               NULL AS via
        WHERE reporting IS NOT NULL
        UNION ALL
        SELECT from_currency, rate, rate_date, 1, NULL
        FROM legs WHERE to_currency = reporting
        UNION ALL
        SELECT a.from_currency, a.rate * b.rate, least(a.rate_date, b.rate_date), 2,
               a.to_currency
        FROM legs a JOIN legs b ON b.from_currency = a.to_currency
        WHERE b.to_currency = reporting AND a.from_currency <> reporting
    )
    SELECT currency, rate, rate_date, via
    FROM candidates
    QUALIFY row_number() OVER (PARTITION BY currency ORDER BY hops, rate_date DESC, via) = 1;

-- The reporting-currency twins of the sources every metric reads (queries.in_reporting_currency
-- swaps `open_documents(` for `open_documents_in($reporting, $rate_on, `, and so on): the same
-- rows with currency = the reporting currency and each amount translated at the closing rate on
-- or before rate_on (the page's as-of date, one rate for everything on the page) and rounded to
-- the cent, as an ERP's foreign-currency valuation revalues each open item. Rows in a currency
-- with no rate are left out here and listed by `untranslated` (currencies.sql).
CREATE OR REPLACE TEMP MACRO open_documents_in(reporting, rate_on, as_of) AS TABLE
    SELECT d.invoice_id, d.customer_id, d.doc_type, reporting AS currency, d.invoice_date,
           d.due_date, round(d.amount * r.rate, 2)::DECIMAL(18,2) AS amount,
           round(d.open_amount * r.rate, 2)::DECIMAL(18,2) AS open_amount, d.days_past_due,
           d.days_outstanding, d.instalment
    FROM open_documents(as_of) d
    JOIN fx_closing(rate_on, reporting) r
      ON r.currency = coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency'));

CREATE OR REPLACE TEMP MACRO unapplied_items_in(reporting, rate_on, as_of) AS TABLE
    SELECT u.item_type, u.document_id, u.customer_id, reporting AS currency, u.document_date,
           round(u.open_amount * r.rate, 2)::DECIMAL(18,2) AS open_amount
    FROM unapplied_items(as_of) u
    JOIN fx_closing(rate_on, reporting) r
      ON r.currency = coalesce(u.currency, (SELECT value FROM settings WHERE key = 'home_currency'));

CREATE OR REPLACE TEMP MACRO open_at_month_ends_in(reporting, rate_on, start_date, end_date) AS TABLE
    SELECT o.month_end, o.invoice_id, o.customer_id, reporting AS currency, o.invoice_date,
           o.due_date, round(o.amount * r.rate, 2)::DECIMAL(18,2) AS amount,
           round(o.open_amount * r.rate, 2)::DECIMAL(18,2) AS open_amount, o.days_past_due,
           o.days_outstanding
    FROM open_at_month_ends(start_date, end_date) o
    JOIN fx_closing(rate_on, reporting) r
      ON r.currency = coalesce(o.currency, (SELECT value FROM settings WHERE key = 'home_currency'));

-- Month-end balances are kept per customer, currency and bucket: each such balance is translated.
CREATE OR REPLACE TEMP MACRO month_end_open_in(reporting, rate_on, start_date, end_date) AS TABLE
    SELECT b.month_end, b.customer_id, reporting AS currency, b.bucket_index,
           round(b.open_amount * r.rate, 2)::DECIMAL(18,2) AS open_amount
    FROM month_end_open(start_date, end_date) b
    JOIN fx_closing(rate_on, reporting) r
      ON r.currency = coalesce(b.currency, (SELECT value FROM settings WHERE key = 'home_currency'));

-- Credit sales: every invoice and debit memo (amount > 0) in its currency (home when it has none).
CREATE OR REPLACE TEMP MACRO invoiced() AS TABLE
    SELECT customer_id,
           coalesce(currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           invoice_date, amount
    FROM invoices
    WHERE amount > 0;

CREATE OR REPLACE TEMP MACRO invoiced_in(reporting, rate_on) AS TABLE
    SELECT i.customer_id, reporting AS currency, i.invoice_date,
           round(i.amount * r.rate, 2)::DECIMAL(18,2) AS amount
    FROM invoiced() i JOIN fx_closing(rate_on, reporting) r USING (currency);

-- The credit limit in force at as_of, per customer: the credit_limits row with the latest
-- effective_from <= as_of (its credit_limit, NULL meaning "no limit from then", and its
-- reviewed_on); without such a row customers.credit_limit and credit_limit_reviewed_on (the
-- current limit); a proposed limit (the what-if: limit_customers[i] gets limit_values[i])
-- replaces either. Credit review and suggested limits both read it.
CREATE OR REPLACE TEMP MACRO credit_limits_at(as_of, limit_customers, limit_values) AS TABLE
    WITH history AS (
        SELECT customer_id, credit_limit, reviewed_on, effective_from
        FROM credit_limits
        WHERE effective_from <= as_of::DATE
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY effective_from DESC) = 1
    ),
    what_if AS (
        SELECT limit_customers[i] AS customer_id,
               limit_values[i]::DECIMAL(18,2) AS proposed_limit
        FROM range(1, array_length(limit_customers) + 1) t(i)
    )
    SELECT c.customer_id,
           CASE WHEN w.customer_id IS NOT NULL THEN w.proposed_limit
                WHEN h.customer_id IS NOT NULL THEN h.credit_limit
                ELSE c.credit_limit END AS credit_limit,
           CASE WHEN h.customer_id IS NOT NULL THEN h.reviewed_on
                ELSE c.credit_limit_reviewed_on END AS reviewed_on,
           h.effective_from AS limit_from,
           CASE WHEN w.customer_id IS NOT NULL THEN 'proposed'
                WHEN h.customer_id IS NOT NULL THEN 'history'
                ELSE 'current' END AS limit_source,
           w.customer_id IS NOT NULL AS limit_is_proposed
    FROM customers c
    LEFT JOIN history h USING (customer_id)
    LEFT JOIN what_if w USING (customer_id);

-- Promises to pay as they stand at as_of (the worklist, credit review and dunning read them).
-- A promise not yet due is `open`; one whose date has passed keeps the outcome an export gave
-- it (`kept` / `broken`), and one logged in the app (no outcome) is `kept` when the customer paid
-- at least the promised amount from the day it was made to the promised date, else `broken`. What
-- counts as paid: payments, and the settled dates of a register without payments.
CREATE OR REPLACE TEMP MACRO promises_at(as_of) AS TABLE
    WITH promised AS (
        SELECT activity_id, customer_id, activity_date, promised_date, promised_amount,
               lower(outcome) AS outcome
        FROM activities
        WHERE kind = 'promise' AND activity_date <= as_of::DATE AND promised_date IS NOT NULL
    ),
    money_in AS (
        SELECT customer_id, payment_date AS paid_on, amount FROM payments
        UNION ALL
        SELECT i.customer_id, a.applied_on, a.amount
        FROM applications a JOIN invoices i USING (invoice_id)
        WHERE a.source_type = 'paid_date'
    ),
    paid AS (
        SELECT p.activity_id, sum(m.amount) AS paid
        FROM promised p JOIN money_in m ON m.customer_id = p.customer_id
             AND m.paid_on >= p.activity_date AND m.paid_on <= p.promised_date
             AND m.paid_on <= as_of::DATE
        GROUP BY p.activity_id
    )
    SELECT p.activity_id, p.customer_id, p.activity_date, p.promised_date, p.promised_amount,
           coalesce(d.paid, 0) AS paid_towards,
           CASE WHEN p.promised_date >= as_of::DATE THEN 'open'
                WHEN p.outcome IN ('kept', 'broken') THEN p.outcome
                WHEN coalesce(d.paid, 0) >= coalesce(p.promised_amount, 0.01) THEN 'kept'
                ELSE 'broken' END AS status
    FROM promised p LEFT JOIN paid d USING (activity_id);
