-- The canonical AR tables (DESIGN.md §2). Amounts are DECIMAL(18,2) in the document currency;
-- identifiers are text so that leading zeros survive.

CREATE TABLE IF NOT EXISTS customers (
    customer_id              VARCHAR PRIMARY KEY,
    name                     VARCHAR,
    segment                  VARCHAR,
    industry                 VARCHAR,
    country                  VARCHAR,
    currency                 VARCHAR,
    payment_terms_days       INTEGER,
    credit_limit             DECIMAL(18,2),
    credit_limit_reviewed_on DATE,
    risk_rating              VARCHAR,
    salesperson              VARCHAR,
    parent_id                VARCHAR,
    currency_assumed         BOOLEAN NOT NULL DEFAULT false,  -- no currency given: the home currency
    is_stub                  BOOLEAN NOT NULL DEFAULT false,  -- created because a document named an unknown customer
    -- (added in version 7, last so that new and upgraded files have the same column order)
    contact_name             VARCHAR,  -- the billing contact: whom statements and reminders address
    email                    VARCHAR,
    phone                    VARCHAR,
    dunning_blocked          BOOLEAN DEFAULT false,  -- never send this customer dunning notices
    -- (version 11) who collects from this customer: a signed-in collector's email (or name)
    collector                VARCHAR
);

-- Invoices, debit memos and credit memos share one table: a credit memo is a document with a negative amount.
CREATE TABLE IF NOT EXISTS invoices (
    invoice_id     VARCHAR PRIMARY KEY,
    customer_id    VARCHAR NOT NULL,
    invoice_date   DATE NOT NULL,
    due_date       DATE NOT NULL,
    due_date_derived BOOLEAN NOT NULL DEFAULT false,  -- the export had none: invoice date + terms
    amount         DECIMAL(18,2) NOT NULL,
    doc_type       VARCHAR NOT NULL DEFAULT 'invoice',
    currency       VARCHAR,
    disputed       BOOLEAN NOT NULL DEFAULT false,
    dispute_reason VARCHAR,
    po_number      VARCHAR,
    billing_channel VARCHAR,       -- how the invoice was sent: paper, electronic, portal, EDI
    paid_date      DATE,
    written_off_on DATE,
    applies_to     VARCHAR,
    settled_on     DATE,           -- derived: the day applications settled it in full
    currency_assumed BOOLEAN NOT NULL DEFAULT false,  -- no currency given: the customer's or home
    open_amount_exported DECIMAL(18,2),  -- an open-items export's open balance ...
    exported_on    DATE                  -- ... on this day (what was paid before settles then)
);

CREATE TABLE IF NOT EXISTS payments (
    payment_id   VARCHAR PRIMARY KEY,
    customer_id  VARCHAR NOT NULL,
    payment_date DATE NOT NULL,
    amount       DECIMAL(18,2) NOT NULL,
    invoice_id   VARCHAR,           -- null: unapplied cash, on account
    method       VARCHAR,
    reference    VARCHAR,
    currency     VARCHAR,
    currency_assumed BOOLEAN NOT NULL DEFAULT false
);

-- Derived at every import from payments, credit memos, paid dates and write-offs (never typed in):
-- which source settled how much of which invoice on which day. One row per (source_type,
-- source_id, invoice_id) by construction; no PRIMARY KEY, because DuckDB pays for every deleted
-- key of an index at commit (a re-derivation of 80k applications spent 9.5 s there).
CREATE TABLE IF NOT EXISTS applications (
    source_type VARCHAR NOT NULL,   -- payment | credit_memo | paid_date | write_off | open_balance
    source_id   VARCHAR NOT NULL,   -- payment_id, the credit memo's invoice_id, or the invoice itself
    invoice_id  VARCHAR NOT NULL,
    applied_on  DATE NOT NULL,
    amount      DECIMAL(18,2) NOT NULL
);

CREATE TABLE IF NOT EXISTS financials (
    period_end       DATE PRIMARY KEY,
    revenue          DECIMAL(18,2),
    credit_sales     DECIMAL(18,2),
    cogs             DECIMAL(18,2),
    inventory        DECIMAL(18,2),
    accounts_payable DECIMAL(18,2),
    accounts_receivable DECIMAL(18,2)  -- optional: DSO for periods the invoices do not cover
);

CREATE TABLE IF NOT EXISTS activities (
    activity_id     VARCHAR PRIMARY KEY,
    customer_id     VARCHAR NOT NULL,
    invoice_id      VARCHAR,
    activity_date   DATE NOT NULL,
    kind            VARCHAR NOT NULL,
    promised_date   DATE,
    promised_amount DECIMAL(18,2),
    outcome         VARCHAR,
    level           INTEGER,  -- a dunning notice's level (1 friendly reminder, ...)
    document        VARCHAR,  -- the letter or email it sent (a reference or file name)
    -- (version 11) logged in the app: free text (a dispute's reason, a call's note), who, when
    note            VARCHAR,
    created_by      VARCHAR,
    created_at      TIMESTAMP
);

-- (added in version 9) Exchange rates: on rate_date one unit of `currency` is worth `rate` units
-- of `base_currency` (a file's "rate to the reporting currency" has that currency as its base;
-- an ECB-style wide file, `Date, USD, GBP, ...` quoted per euro, is stored inverted with base EUR).
-- The natural key (currency, base, date) is made at import: a re-import replaces a day's rate.
CREATE TABLE IF NOT EXISTS fx_rates (
    rate_key      VARCHAR PRIMARY KEY,  -- currency|base_currency|rate_date
    rate_date     DATE NOT NULL,
    currency      VARCHAR NOT NULL,
    base_currency VARCHAR NOT NULL,
    rate          DECIMAL(24,12) NOT NULL
);

-- (version 9) An invoice due in instalments: each row a part of it with its own due date, given
-- as an amount or as a share of the invoice's amount (as the export states it; the open-items
-- macros turn shares into amounts, the last instalment taking the rounding). Payments settle
-- an invoice's instalments in due-date order.
CREATE TABLE IF NOT EXISTS invoice_instalments (
    instalment_key VARCHAR PRIMARY KEY,  -- invoice_id|due_date
    invoice_id     VARCHAR NOT NULL,
    due_date       DATE NOT NULL,
    amount         DECIMAL(18,2),        -- this part of the invoice, or ...
    share          DECIMAL(12,8)         -- ... its share of the invoice's amount (0.5 = half)
);

-- (version 9) Sales orders not yet invoiced count in credit exposure (DESIGN §4). `status` as the
-- export gives it at its date: open | shipped (both not yet invoiced) | invoiced | cancelled.
CREATE TABLE IF NOT EXISTS orders (
    order_id         VARCHAR PRIMARY KEY,
    customer_id      VARCHAR NOT NULL,
    order_date       DATE NOT NULL,
    amount           DECIMAL(18,2) NOT NULL,  -- what is still to be invoiced
    currency         VARCHAR,
    status           VARCHAR NOT NULL DEFAULT 'open',
    currency_assumed BOOLEAN NOT NULL DEFAULT false
);

-- (version 9) Credit limit history: the limit in force from `effective_from` until the next row.
-- customers.credit_limit stays the current limit, the shortcut for today.
CREATE TABLE IF NOT EXISTS credit_limits (
    limit_key      VARCHAR PRIMARY KEY,  -- customer_id|effective_from
    customer_id    VARCHAR NOT NULL,
    effective_from DATE NOT NULL,
    credit_limit   DECIMAL(18,2),        -- NULL: no limit from that day
    reviewed_on    DATE,
    approved_by    VARCHAR,
    -- (version 11) set in the app: by whom, when, why
    set_by         VARCHAR,
    set_at         TIMESTAMP,
    reason         VARCHAR
);

-- (version 11) Order holds placed and released in the app, newest row per customer in force.
CREATE TABLE IF NOT EXISTS order_holds (
    hold_id      VARCHAR PRIMARY KEY,  -- the submission's idempotency key
    customer_id  VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,     -- hold | release
    effective_on DATE NOT NULL,
    reason       VARCHAR NOT NULL,
    created_by   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- (version 11) A new credit limit asked for in the app. Above the policy's threshold it waits for
-- a second credit manager (pending → approved or declined); otherwise it applies at once.
CREATE TABLE IF NOT EXISTS limit_requests (
    request_id     VARCHAR PRIMARY KEY,  -- the submission's idempotency key
    customer_id    VARCHAR NOT NULL,
    credit_limit   DECIMAL(18,2) NOT NULL,
    previous_limit DECIMAL(18,2),
    effective_from DATE NOT NULL,
    reason         VARCHAR NOT NULL,
    requested_by   VARCHAR NOT NULL,
    requested_at   TIMESTAMP NOT NULL,
    status         VARCHAR NOT NULL,     -- pending | applied | declined
    decided_by     VARCHAR,
    decided_at     TIMESTAMP
);

-- (version 11) Who changed what, when: imports, retraining, settings, every action in the app.
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id  VARCHAR PRIMARY KEY,  -- an action's idempotency key, else a fresh id
    logged_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,     -- the signed-in email, or "login (command line)"
    action    VARCHAR NOT NULL,
    target    VARCHAR,              -- the customer, file or setting it concerns
    details   JSON                  -- what changed (before and after where there was a before)
);

CREATE SEQUENCE IF NOT EXISTS import_id_seq;

CREATE TABLE IF NOT EXISTS import_log (
    import_id     BIGINT PRIMARY KEY,
    file          VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    target_table  VARCHAR NOT NULL,
    rows_read     BIGINT NOT NULL,
    rows_loaded   BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    stub_customers BIGINT NOT NULL,
    mapping       JSON,             -- source header -> column, value maps, formats detected
    notes         VARCHAR,
    imported_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    import_id BIGINT NOT NULL,
    file      VARCHAR NOT NULL,
    line      BIGINT,
    "column"  VARCHAR,
    raw_value VARCHAR,
    reason    VARCHAR NOT NULL,
    raw_row   JSON
);

-- Derived: the applications that left their invoice partly open (dated before it was settled in
-- full). Point-in-time balances need only these: an invoice not yet settled at a date has only
-- partial applications up to it. Usually a small share of all applications.
CREATE TABLE IF NOT EXISTS partial_applications (
    invoice_id VARCHAR NOT NULL,
    applied_on DATE NOT NULL,
    amount     DECIMAL(18,2) NOT NULL
);

-- Derived: the invoices and debit memos not yet settled in full (settled_on IS NULL), with what
-- aging needs of them. Open items at a recent date start from this small table instead of a
-- scan of every invoice ever issued, and need no applications when none is dated after it;
-- those settled after an earlier date come from `invoices`.
CREATE TABLE IF NOT EXISTS open_invoices (
    invoice_id   VARCHAR NOT NULL,
    customer_id  VARCHAR NOT NULL,
    doc_type     VARCHAR NOT NULL,
    currency     VARCHAR,
    invoice_date DATE NOT NULL,
    due_date     DATE NOT NULL,
    amount       DECIMAL(18,2) NOT NULL,
    applied      DECIMAL(18,2) NOT NULL,  -- every application so far (all partial: it is open) ...
    last_applied_on DATE                  -- ... the newest dated this: at a later date, open = amount − applied
);

-- Derived: what each payment or credit memo left unapplied (they settle on their own date).
CREATE TABLE IF NOT EXISTS unapplied (
    item_type     VARCHAR NOT NULL,  -- unapplied_cash | unapplied_credit
    document_id   VARCHAR NOT NULL,
    customer_id   VARCHAR NOT NULL,
    currency      VARCHAR,
    document_date DATE NOT NULL,
    open_amount   DECIMAL(18,2) NOT NULL  -- negative
);

-- Derived: open invoice amounts per month-end × customer × currency × aging bucket (due basis,
-- the default edges 30/60/90/120), for every month-end up to the newest document's date. Trends
-- and month-end series read it instead of expanding invoices × month-ends; an import re-derives
-- the customers and month-ends it touched.
CREATE TABLE IF NOT EXISTS month_end_balances (
    month_end    DATE NOT NULL,
    customer_id  VARCHAR NOT NULL,
    currency     VARCHAR,
    bucket_index TINYINT NOT NULL,
    open_amount  DECIMAL(18,2) NOT NULL
);

-- Work table of an import (empty otherwise): the customers whose month-end balances it changed,
-- from which month-end on.
CREATE TABLE IF NOT EXISTS month_end_scope (
    customer_id    VARCHAR NOT NULL,
    from_month_end DATE NOT NULL
);

-- (added in version 10) Derived: the payment schedules that apply (invoice_instalments whose
-- amounts add up to their invoice's amount, or whose shares add up to 1; invoices and debit memos
-- only), one row per instalment in due-date order with its part of the invoice (a share rounded
-- to the cent, the last instalment taking what the others leave) and the parts due before it.
-- open_documents splits an open invoice into its instalments from this; an import re-derives the
-- invoices whose instalments or amount it loaded.
CREATE TABLE IF NOT EXISTS instalment_parts (
    invoice_id    VARCHAR NOT NULL,
    instalment    INTEGER NOT NULL,       -- 1 is due first
    due_date      DATE NOT NULL,
    amount        DECIMAL(18,2) NOT NULL,  -- this instalment's part of the invoice
    amount_before DECIMAL(18,2) NOT NULL,  -- the parts of the instalments due before it
    settled_on    DATE                    -- the invoice's settled_on (NULL while it is open)
);

-- One row: bumped by every import so that caches keyed on it see new data.
CREATE TABLE IF NOT EXISTS store_meta (
    data_version   BIGINT NOT NULL,
    schema_version INTEGER NOT NULL
);

-- Store-wide settings, e.g. home_currency: what a document without a currency is in;
-- reporting_currency: what "all currencies in one" totals translate to; grace_days.
CREATE TABLE IF NOT EXISTS settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
