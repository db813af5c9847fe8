-- Cash KPIs: DSO family and CEI at a date and as monthly series; DIO, DPO and CCC per financial
-- period. Filters as in aging.sql; $window_days is N in DSO's "credit sales of the last N days".

-- name: kpis
-- Open AR, DSO, best possible DSO, ADD, countback DSO and CEI at $as_of, per currency.
WITH customers_in AS (
    SELECT customer_id FROM filtered_customers($segment, $country, $salesperson, $customer)
),
ar_end AS (
    SELECT d.currency, sum(d.open_amount) AS open_ar,
           coalesce(sum(d.open_amount) FILTER (WHERE d.days_past_due <= 0), 0) AS current_ar
    FROM open_documents($as_of) d JOIN customers_in USING (customer_id)
    WHERE $currency IS NULL OR d.currency = $currency
    GROUP BY d.currency
),
ar_start AS (
    SELECT d.currency, sum(d.open_amount) AS open_ar
    FROM open_documents(($as_of::DATE - $window_days::INTEGER)::DATE) d
    JOIN customers_in USING (customer_id)
    WHERE $currency IS NULL OR d.currency = $currency
    GROUP BY d.currency
),
sales AS (
    -- Daily credit sales (a per-customer pre-sum barely shrinks 10M invoices: filter first).
    SELECT currency, invoice_date, sum(amount) AS amount
    FROM invoices
    WHERE amount > 0 AND invoice_date <= $as_of
      AND invoice_date > date_trunc('month', $as_of::DATE) - INTERVAL 24 MONTH
      AND ($currency IS NULL OR currency = $currency)
      AND customer_id IN (SELECT customer_id FROM customers_in)
    GROUP BY ALL
),
window_sales AS (
    SELECT currency, sum(amount) AS credit_sales FROM sales
    WHERE invoice_date > $as_of::DATE - $window_days::INTEGER
    GROUP BY currency
),
months AS (
    SELECT k, (date_trunc('month', $as_of::DATE) - INTERVAL (k - 1) MONTH)::DATE AS first_day,
           CASE WHEN k = 1 THEN day($as_of::DATE)
                ELSE day(last_day(date_trunc('month', $as_of::DATE) - INTERVAL (k - 1) MONTH)) END
               AS days
    FROM range(1, 25) t(k)
),
monthly AS (
    SELECT a.currency, m.k, m.days,
           coalesce(sum(s.amount), 0) AS sales
    FROM ar_end a CROSS JOIN months m
    LEFT JOIN sales s ON s.currency = a.currency AND date_trunc('month', s.invoice_date) = m.first_day
    GROUP BY ALL
),
cumulative AS (
    SELECT *, sum(sales) OVER w AS cum_sales, sum(days) OVER w AS cum_days
    FROM monthly WINDOW w AS (PARTITION BY currency ORDER BY k)
),
countback AS (
    SELECT a.currency,
           CASE WHEN a.open_ar <= 0 THEN 0
                ELSE coalesce(
                    (SELECT min_by(c.cum_days - c.days
                                   + c.days * (a.open_ar - (c.cum_sales - c.sales)) / c.sales, c.k)
                     FROM cumulative c
                     WHERE c.currency = a.currency AND c.cum_sales >= a.open_ar AND c.sales > 0),
                    (SELECT max(c.cum_days) FROM cumulative c WHERE c.currency = a.currency))
           END AS countback_dso
    FROM ar_end a
)
SELECT e.currency, e.open_ar, e.current_ar, e.open_ar - e.current_ar AS past_due,
       coalesce(w.credit_sales, 0) AS credit_sales,
       e.open_ar / NULLIF(w.credit_sales, 0) * $window_days AS dso,
       e.current_ar / NULLIF(w.credit_sales, 0) * $window_days AS best_possible_dso,
       (e.open_ar - e.current_ar) / NULLIF(w.credit_sales, 0) * $window_days AS add,
       cb.countback_dso,
       (coalesce(st.open_ar, 0) + coalesce(w.credit_sales, 0) - e.open_ar)
         / NULLIF(coalesce(st.open_ar, 0) + coalesce(w.credit_sales, 0) - e.current_ar, 0) * 100
           AS cei
FROM ar_end e
LEFT JOIN ar_start st USING (currency)
LEFT JOIN window_sales w USING (currency)
LEFT JOIN countback cb USING (currency)
ORDER BY e.open_ar DESC

-- name: kpi_series
-- The same KPIs at every month-end in [$start, $end]; CEI per calendar month.
WITH customers_in AS (
    SELECT customer_id FROM filtered_customers($segment, $country, $salesperson, $customer)
),
ends AS (SELECT month_end FROM month_ends($start, $end)),
ar AS (
    SELECT o.month_end, o.currency, sum(o.open_amount) AS open_ar, sum(o.current_ar) AS current_ar
    FROM (
        SELECT month_end, currency, customer_id, sum(open_amount) AS open_amount,
               coalesce(sum(open_amount) FILTER (WHERE days_past_due <= 0), 0) AS current_ar
        FROM open_at_month_ends(
            last_day(date_trunc('month', $start::DATE) - INTERVAL 1 MONTH)::DATE, $end)
        WHERE $currency IS NULL OR currency = $currency
        GROUP BY ALL
    ) o JOIN customers_in USING (customer_id)
    GROUP BY ALL
),
sales AS (
    SELECT currency, invoice_date, sum(amount) AS amount
    FROM invoices
    WHERE amount > 0 AND invoice_date <= $end
      AND invoice_date > date_trunc('month', $start::DATE) - INTERVAL 24 MONTH
      AND ($currency IS NULL OR currency = $currency)
      AND customer_id IN (SELECT customer_id FROM customers_in)
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
back AS (
    SELECT a.month_end, a.currency, a.open_ar, k,
           day(last_day(date_trunc('month', a.month_end) - INTERVAL (k - 1) MONTH)) AS days,
           coalesce(m.sales, 0) AS sales
    FROM ar a CROSS JOIN range(1, 25) t(k)
    LEFT JOIN monthly m ON m.currency = a.currency
     AND m.first_day = (date_trunc('month', a.month_end) - INTERVAL (k - 1) MONTH)::DATE
    WHERE a.month_end IN (SELECT month_end FROM ends)
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
    FROM cumulative GROUP BY ALL
)
SELECT e.month_end, a.currency, a.open_ar, a.current_ar, a.open_ar - a.current_ar AS past_due,
       coalesce(w.credit_sales, 0) AS credit_sales,
       a.open_ar / NULLIF(w.credit_sales, 0) * $window_days AS dso,
       a.current_ar / NULLIF(w.credit_sales, 0) * $window_days AS best_possible_dso,
       (a.open_ar - a.current_ar) / NULLIF(w.credit_sales, 0) * $window_days AS add,
       cb.countback_dso,
       (coalesce(p.open_ar, 0) + coalesce(ms.sales, 0) - a.open_ar)
         / NULLIF(coalesce(p.open_ar, 0) + coalesce(ms.sales, 0) - a.current_ar, 0) * 100 AS cei
FROM ends e
JOIN ar a ON a.month_end = e.month_end
LEFT JOIN ar p ON p.currency = a.currency
             AND p.month_end = last_day(date_trunc('month', e.month_end) - INTERVAL 1 MONTH)::DATE
LEFT JOIN window_sales w ON w.month_end = e.month_end AND w.currency = a.currency
LEFT JOIN monthly ms ON ms.currency = a.currency
                    AND ms.first_day = date_trunc('month', e.month_end)::DATE
LEFT JOIN countback cb ON cb.month_end = e.month_end AND cb.currency = a.currency
ORDER BY e.month_end, a.open_ar DESC

-- name: cash_conversion_cycle
-- DIO, DPO, DSO and CCC per financial period. DSO comes from the AR data when the invoices cover
-- the whole period, else from the financials' own receivables and credit sales (when given).
WITH periods AS (
    SELECT f.*,
           coalesce(period_end - lag(period_end) OVER (ORDER BY period_end),
                    day(last_day(period_end))) AS days
    FROM financials f
),
first_invoice AS (SELECT min(invoice_date) AS first_day FROM invoices),
ar AS (
    SELECT month_end, sum(open_amount) AS open_ar
    FROM open_at_month_ends((SELECT min(period_end) FROM financials),
                            (SELECT max(period_end) FROM financials))
    WHERE $currency IS NULL OR currency = $currency
    GROUP BY month_end
),
period_sales AS (
    SELECT p.period_end, sum(i.amount) AS credit_sales
    FROM periods p JOIN invoices i
      ON i.invoice_date > p.period_end - p.days::INTEGER AND i.invoice_date <= p.period_end
    WHERE i.amount > 0 AND ($currency IS NULL OR i.currency = $currency)
    GROUP BY p.period_end
)
SELECT p.period_end, p.days, p.revenue, p.credit_sales AS financial_credit_sales, p.cogs,
       p.inventory, p.accounts_payable,
       CASE WHEN (SELECT first_day FROM first_invoice) <= p.period_end - p.days::INTEGER + 1
            THEN coalesce(a.open_ar, 0) / NULLIF(s.credit_sales, 0) * p.days
            ELSE p.accounts_receivable / NULLIF(p.credit_sales, 0) * p.days END AS dso,
       CASE WHEN (SELECT first_day FROM first_invoice) <= p.period_end - p.days::INTEGER + 1
            THEN 'receivables' WHEN p.accounts_receivable IS NOT NULL THEN 'financials' END
           AS dso_source,
       p.inventory / NULLIF(p.cogs, 0) * p.days AS dio,
       p.accounts_payable / NULLIF(p.cogs, 0) * p.days AS dpo
FROM periods p
LEFT JOIN ar a ON a.month_end = p.period_end
LEFT JOIN period_sales s ON s.period_end = p.period_end
ORDER BY p.period_end
