-- Building blocks shared by the metric queries: created as TEMP macros on every connection
-- (read-only ones too), so each definition of "open", "bucket" and "filter" exists once.

-- Which aging bucket `days` falls in: 0 is `Current` (due basis) or the first bucket (invoice
-- basis); edges are the inclusive upper bounds, e.g. [30, 60, 90, 120].
CREATE OR REPLACE TEMP MACRO bucket_index(days, edges, basis) AS
    CASE WHEN basis = 'due' AND days <= 0 THEN 0
         ELSE (CASE WHEN basis = 'due' THEN 1 ELSE 0 END)
              + len(list_filter(edges, lambda e: e < days)) END;

-- The customers that pass the sidebar filters (NULL means "all").
CREATE OR REPLACE TEMP MACRO filtered_customers(segment, country, salesperson, customer) AS TABLE
    SELECT * FROM customers
    WHERE (segment IS NULL OR customers.segment = segment)
      AND (country IS NULL OR customers.country = country)
      AND (salesperson IS NULL OR customers.salesperson = salesperson)
      AND (customer IS NULL OR customers.customer_id = customer);

-- Invoices and debit memos open at as_of: amount − settlements dated ≤ as_of. The candidates are
-- those not settled in full by as_of: the ones still open (`open_invoices`, kept by the importer)
-- and those settled after as_of (`settled_on`, the day applications settled it in full), so the
-- settled history is never read. An open invoice with no application after as_of is open by
-- amount − applied; the others (an earlier as_of) sum their partial applications up to as_of
-- (`partial_applications`: an invoice still open at as_of has only those up to then).
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
        SELECT c.* EXCLUDE (applied),
               c.amount - coalesce(c.applied, s.settled, 0) AS open_amount,
               (as_of - c.due_date)::INTEGER AS days_past_due,
               (as_of - c.invoice_date)::INTEGER AS days_outstanding
        FROM candidates c LEFT JOIN settled s USING (invoice_id)
    )
    SELECT * FROM opened WHERE open_amount <> 0;

-- Unapplied cash and unapplied credits at as_of, as negative items. Payments and credit memos
-- settle on their own date, so what is unapplied of one dated ≤ as_of is fixed (table `unapplied`).
CREATE OR REPLACE TEMP MACRO unapplied_items(as_of) AS TABLE
    SELECT * FROM unapplied WHERE document_date <= as_of;

-- The calendar month-ends in [start_date, end_date].
CREATE OR REPLACE TEMP MACRO month_ends(start_date, end_date) AS TABLE
    SELECT last_day(m)::DATE AS month_end
    FROM generate_series(date_trunc('month', start_date::DATE), date_trunc('month', end_date::DATE),
                         INTERVAL 1 MONTH) t(m)
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
-- row: its documents are listed as untranslated (`untranslated_documents`), never summed as is.
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
