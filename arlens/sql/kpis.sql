-- Cash KPIs: DSO family and CEI at a date and as monthly series; DIO, DPO and CCC per financial
-- period. Filters as in aging.sql; $window_days is N in DSO's "credit sales of the last N days".
-- A document without a currency is in the store's home currency (settings.home_currency), and
-- every join on currency is NULL-safe, so no figure loses rows to a missing currency.

-- name: kpis
-- Open AR, DSO, best possible DSO, ADD, countback DSO and CEI at $as_of, per currency. A row for
-- every currency the customers were invoiced in by $as_of: a fully collected one keeps its row
-- (open AR 0: DSO, best possible DSO, ADD and countback DSO 0; CEI 100% when there was anything
-- to collect in the window).
WITH home AS (
    SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency
),
customers_in AS (
    SELECT customer_id FROM filtered_customers($segment, $country, $salesperson, $customer)
),
billed AS (
    SELECT DISTINCT currency FROM (
        SELECT coalesce(currency, (SELECT currency FROM home)) AS currency
        FROM invoiced()
        WHERE invoice_date <= $as_of
          AND customer_id IN (SELECT customer_id FROM customers_in)
    )
    WHERE $currency IS NULL OR currency = $currency
),
ar_end AS (
    SELECT currency, sum(open_amount) AS open_ar,
           coalesce(sum(open_amount) FILTER (WHERE days_past_due <= 0), 0) AS current_ar
    FROM (
        SELECT coalesce(d.currency, (SELECT currency FROM home)) AS currency, d.open_amount,
               d.days_past_due
        FROM open_documents($as_of) d JOIN customers_in USING (customer_id)
    )
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY currency
),
ar_start AS (
    SELECT currency, sum(open_amount) AS open_ar
    FROM (
        SELECT coalesce(d.currency, (SELECT currency FROM home)) AS currency, d.open_amount
        FROM open_documents(($as_of::DATE - $window_days::INTEGER)::DATE) d
        JOIN customers_in USING (customer_id)
    )
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY currency
),
sales AS (
    -- Daily credit sales (a per-customer pre-sum barely shrinks 10M invoices: filter first).
    SELECT currency, invoice_date, sum(amount) AS amount
    FROM (
        SELECT coalesce(currency, (SELECT currency FROM home)) AS currency, invoice_date, amount
        FROM invoiced()
        WHERE invoice_date <= $as_of
          AND invoice_date > date_trunc('month', $as_of::DATE) - INTERVAL 24 MONTH
          AND customer_id IN (SELECT customer_id FROM customers_in)
    )
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY ALL
),
window_sales AS (
    SELECT currency, sum(amount) AS credit_sales FROM sales
    WHERE invoice_date > $as_of::DATE - $window_days::INTEGER
    GROUP BY currency
),
base AS (
    SELECT b.currency, coalesce(e.open_ar, 0) AS open_ar, coalesce(e.current_ar, 0) AS current_ar,
           coalesce(st.open_ar, 0) AS start_ar, coalesce(w.credit_sales, 0) AS credit_sales
    FROM billed b
    LEFT JOIN ar_end e ON e.currency IS NOT DISTINCT FROM b.currency
    LEFT JOIN ar_start st ON st.currency IS NOT DISTINCT FROM b.currency
    LEFT JOIN window_sales w ON w.currency IS NOT DISTINCT FROM b.currency
),
months AS (
    SELECT k, (date_trunc('month', $as_of::DATE) - INTERVAL (k - 1) MONTH)::DATE AS first_day,
           CASE WHEN k = 1 THEN day($as_of::DATE)
                ELSE day(last_day(date_trunc('month', $as_of::DATE) - INTERVAL (k - 1) MONTH)) END
               AS days
    FROM range(1, 25) t(k)
),
monthly AS (
    SELECT a.currency, a.open_ar, m.k, m.days, coalesce(sum(s.amount), 0) AS sales
    FROM base a CROSS JOIN months m
    LEFT JOIN sales s ON s.currency IS NOT DISTINCT FROM a.currency
                     AND date_trunc('month', s.invoice_date) = m.first_day
    GROUP BY ALL
),
cumulative AS (
    SELECT *, sum(sales) OVER w AS cum_sales, sum(days) OVER w AS cum_days
    FROM monthly WINDOW w AS (PARTITION BY currency ORDER BY k)
),
countback AS (
    SELECT currency,
           CASE WHEN any_value(open_ar) <= 0 THEN 0
                ELSE coalesce(
                    min_by(cum_days - days + days * (open_ar - (cum_sales - sales)) / sales, k)
                        FILTER (WHERE cum_sales >= open_ar AND sales > 0),
                    max(cum_days)) END AS countback_dso
    FROM cumulative GROUP BY currency
)
SELECT a.currency, a.open_ar, a.current_ar, a.open_ar - a.current_ar AS past_due, a.credit_sales,
       CASE WHEN a.open_ar = 0 THEN 0
            ELSE a.open_ar / NULLIF(a.credit_sales, 0) * $window_days END AS dso,
       CASE WHEN a.open_ar = 0 THEN 0
            ELSE a.current_ar / NULLIF(a.credit_sales, 0) * $window_days END AS best_possible_dso,
       CASE WHEN a.open_ar = 0 THEN 0
            ELSE (a.open_ar - a.current_ar) / NULLIF(a.credit_sales, 0) * $window_days END AS add,
       cb.countback_dso,
       (a.start_ar + a.credit_sales - a.open_ar)
         / NULLIF(a.start_ar + a.credit_sales - a.current_ar, 0) * 100 AS cei
FROM base a
LEFT JOIN countback cb ON cb.currency IS NOT DISTINCT FROM a.currency
ORDER BY a.open_ar DESC, a.currency

-- name: kpi_series
-- The same KPIs at every month-end in [$start, $end]; CEI per calendar month (AR at the previous
-- month-end + the month's credit sales − AR at its end, over the same less current AR at its end).
-- A row per (month-end, currency) once the currency has been invoiced: a month-end at which
-- everything was collected shows DSO 0.
WITH home AS (
    SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency
),
customers_in AS (
    SELECT customer_id FROM filtered_customers($segment, $country, $salesperson, $customer)
),
ends AS (SELECT month_end FROM month_ends($start, $end)),
billed AS (
    SELECT currency, min(invoice_date) AS first_day FROM (
        SELECT coalesce(currency, (SELECT currency FROM home)) AS currency, invoice_date
        FROM invoiced()
        WHERE invoice_date <= $end
          AND customer_id IN (SELECT customer_id FROM customers_in)
    )
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY currency
),
grid AS (
    SELECT e.month_end, b.currency FROM ends e JOIN billed b ON b.first_day <= e.month_end
),
ar AS (
    SELECT o.month_end, o.currency, sum(o.open_amount) AS open_ar, sum(o.current_ar) AS current_ar
    FROM (
        SELECT month_end, coalesce(currency, (SELECT currency FROM home)) AS currency, customer_id,
               sum(open_amount) AS open_amount,
               coalesce(sum(open_amount) FILTER (WHERE bucket_index = 0), 0) AS current_ar
        FROM month_end_open(
            last_day(date_trunc('month', $start::DATE) - INTERVAL 1 MONTH)::DATE, $end)
        GROUP BY ALL
    ) o JOIN customers_in USING (customer_id)
    WHERE $currency IS NULL OR o.currency = $currency
    GROUP BY ALL
),
sales AS (
    SELECT currency, invoice_date, sum(amount) AS amount
    FROM (
        SELECT coalesce(currency, (SELECT currency FROM home)) AS currency, invoice_date, amount
        FROM invoiced()
        WHERE invoice_date <= $end
          AND invoice_date > date_trunc('month', $start::DATE) - INTERVAL 24 MONTH
          AND customer_id IN (SELECT customer_id FROM customers_in)
    )
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY ALL
),
window_sales AS (
    SELECT e.month_end, s.currency, sum(s.amount) AS credit_sales
    FROM ends e JOIN sales s
      ON s.invoice_date > e.month_end - $window_days::INTEGER AND s.invoice_date <= e.month_end
    GROUP BY ALL
),
monthly AS (
    SELECT currency, date_trunc('month', invoice_date)::DATE AS first_day, sum(amount) AS sales
    FROM sales GROUP BY ALL
),
base AS (
    SELECT g.month_end, g.currency, coalesce(a.open_ar, 0) AS open_ar,
           coalesce(a.current_ar, 0) AS current_ar, coalesce(p.open_ar, 0) AS start_ar,
           coalesce(w.credit_sales, 0) AS credit_sales, coalesce(ms.sales, 0) AS month_sales
    FROM grid g
    LEFT JOIN ar a ON a.month_end = g.month_end AND a.currency IS NOT DISTINCT FROM g.currency
    LEFT JOIN ar p
      ON p.month_end = last_day(date_trunc('month', g.month_end) - INTERVAL 1 MONTH)::DATE
     AND p.currency IS NOT DISTINCT FROM g.currency
    LEFT JOIN window_sales w
      ON w.month_end = g.month_end AND w.currency IS NOT DISTINCT FROM g.currency
    LEFT JOIN monthly ms
      ON ms.first_day = date_trunc('month', g.month_end)::DATE
     AND ms.currency IS NOT DISTINCT FROM g.currency
),
back AS (
    SELECT b.month_end, b.currency, b.open_ar, k,
           day(last_day(date_trunc('month', b.month_end) - INTERVAL (k - 1) MONTH)) AS days,
           coalesce(m.sales, 0) AS sales
    FROM base b CROSS JOIN range(1, 25) t(k)
    LEFT JOIN monthly m ON m.currency IS NOT DISTINCT FROM b.currency
     AND m.first_day = (date_trunc('month', b.month_end) - INTERVAL (k - 1) MONTH)::DATE
),
cumulative AS (
    SELECT *, sum(sales) OVER w AS cum_sales, sum(days) OVER w AS cum_days
    FROM back WINDOW w AS (PARTITION BY month_end, currency ORDER BY k)
),
countback AS (
    SELECT month_end, currency,
           CASE WHEN any_value(open_ar) <= 0 THEN 0
                ELSE coalesce(
                    min_by(cum_days - days + days * (open_ar - (cum_sales - sales)) / sales, k)
                        FILTER (WHERE cum_sales >= open_ar AND sales > 0),
                    max(cum_days)) END AS countback_dso
    FROM cumulative GROUP BY month_end, currency
)
SELECT b.month_end, b.currency, b.open_ar, b.current_ar, b.open_ar - b.current_ar AS past_due,
       b.credit_sales,
       CASE WHEN b.open_ar = 0 THEN 0
            ELSE b.open_ar / NULLIF(b.credit_sales, 0) * $window_days END AS dso,
       CASE WHEN b.open_ar = 0 THEN 0
            ELSE b.current_ar / NULLIF(b.credit_sales, 0) * $window_days END AS best_possible_dso,
       CASE WHEN b.open_ar = 0 THEN 0
            ELSE (b.open_ar - b.current_ar) / NULLIF(b.credit_sales, 0) * $window_days END AS add,
       cb.countback_dso,
       (b.start_ar + b.month_sales - b.open_ar)
         / NULLIF(b.start_ar + b.month_sales - b.current_ar, 0) * 100 AS cei
FROM base b
LEFT JOIN countback cb ON cb.month_end = b.month_end AND cb.currency IS NOT DISTINCT FROM b.currency
ORDER BY b.month_end, b.open_ar DESC, b.currency

-- name: cash_conversion_cycle
-- DIO, DPO, DSO and CCC per financial period ending on or before $as_of (NULL: every period).
-- DSO here is over the period's own days, like DIO and DPO: open AR at period_end ÷ the period's
-- credit sales × its days; it is not the N-day DSO of `kpis`. It comes from $currency's
-- receivables when its invoices cover the whole period, else from the financials' own
-- receivables and credit sales (when given).
WITH home AS (
    SELECT (SELECT value FROM settings WHERE key = 'home_currency') AS currency
),
periods AS (
    SELECT f.*,
           coalesce(date_diff('day', lag(period_end) OVER (ORDER BY period_end), period_end),
                    day(last_day(period_end))) AS days
    FROM financials f
),
shown AS (SELECT * FROM periods WHERE $as_of::DATE IS NULL OR period_end <= $as_of::DATE),
docs AS (
    SELECT invoice_date, amount FROM invoiced()
    WHERE $currency IS NULL OR coalesce(currency, (SELECT currency FROM home)) = $currency
),
first_invoice AS (SELECT min(invoice_date) AS first_day FROM docs),
ar AS (
    SELECT month_end, sum(open_amount) AS open_ar
    FROM month_end_open((SELECT min(period_end) FROM shown), (SELECT max(period_end) FROM shown))
    WHERE $currency IS NULL OR coalesce(currency, (SELECT currency FROM home)) = $currency
    GROUP BY month_end
),
period_sales AS (
    SELECT p.period_end, sum(i.amount) AS credit_sales
    FROM shown p JOIN docs i
      ON i.invoice_date > p.period_end - p.days::INTEGER AND i.invoice_date <= p.period_end
    WHERE i.amount > 0
    GROUP BY p.period_end
)
SELECT p.period_end, p.days, p.revenue, p.credit_sales AS financial_credit_sales, p.cogs,
       p.inventory, p.accounts_payable,
       CASE WHEN (SELECT first_day FROM first_invoice) <= p.period_end - p.days::INTEGER + 1
            THEN CASE WHEN a.open_ar IS NULL THEN 0
                      ELSE a.open_ar / NULLIF(s.credit_sales, 0) * p.days END
            ELSE p.accounts_receivable / NULLIF(p.credit_sales, 0) * p.days END AS dso,
       CASE WHEN (SELECT first_day FROM first_invoice) <= p.period_end - p.days::INTEGER + 1
            THEN 'receivables' WHEN p.accounts_receivable IS NOT NULL THEN 'financials' END
           AS dso_source,
       p.inventory / NULLIF(p.cogs, 0) * p.days AS dio,
       p.accounts_payable / NULLIF(p.cogs, 0) * p.days AS dpo
FROM shown p
LEFT JOIN ar a ON a.month_end = p.period_end
LEFT JOIN period_sales s ON s.period_end = p.period_end
ORDER BY p.period_end
