-- The reporting currency: which rates a translated page used, and what it could not translate.
-- Parameters: $as_of (the page's date, whose closing rates are used), $reporting.

-- name: rates_used
-- One row per currency with open items or invoices by $as_of: the closing rate on or before
-- $as_of that turns it into $reporting, the date of that quote and the currency a cross rate went
-- through; rate NULL when there is none (its documents are in `untranslated`).
WITH used AS (
    SELECT DISTINCT currency FROM invoiced() WHERE invoice_date <= $as_of
    UNION
    SELECT DISTINCT coalesce(currency, (SELECT value FROM settings WHERE key = 'home_currency'))
    FROM unapplied_items($as_of)
)
SELECT u.currency, r.rate, r.rate_date, r.via
FROM used u LEFT JOIN fx_closing($as_of, $reporting) r USING (currency)
ORDER BY r.rate IS NULL DESC, u.currency

-- name: untranslated
-- Open items at $as_of whose currency has no rate on or before $as_of: per currency, how many and
-- how much (in that currency). They are left out of the translated totals and shown instead.
WITH items AS (
    SELECT coalesce(currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency,
           open_amount
    FROM open_documents($as_of)
    UNION ALL
    SELECT coalesce(currency, (SELECT value FROM settings WHERE key = 'home_currency')),
           open_amount
    FROM unapplied_items($as_of)
)
SELECT i.currency, count(*) AS open_items, sum(i.open_amount) AS open_amount
FROM items i
WHERE i.currency NOT IN (SELECT currency FROM fx_closing($as_of, $reporting))
GROUP BY i.currency
ORDER BY i.currency
