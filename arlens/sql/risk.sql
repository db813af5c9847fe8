-- Loss and concentration: roll rates between month-ends, the balances the allowance applies to,
-- and how concentrated open AR is. Filters and the home currency of a document without one as
-- in aging.sql.

-- name: roll_rates
-- For each pair of consecutive month-ends (m, m') among the $months pairs ending at the last
-- month-end ≤ $as_of: where the open amount of each due-date bucket at m sits at m' (a bucket,
-- 'Paid' or 'Written off'). Amounts pooled over the pairs; bucket -2 is 'Paid', -3 'Written off'.
-- month_pairs: the month-ends of the window at which the currency had anything open (its months
-- of history); bucket_months: those at which the from-bucket held a balance.
WITH last_end AS (
    SELECT CASE WHEN $as_of::DATE = last_day($as_of::DATE) THEN $as_of::DATE
                ELSE last_day(date_trunc('month', $as_of::DATE) - INTERVAL 1 MONTH)::DATE END AS m0
),
bounds AS (
    SELECT last_day(m0 - INTERVAL ($months::INTEGER) MONTH)::DATE AS first_end, m0 FROM last_end
),
open_by_month AS (
    SELECT o.month_end, o.invoice_id, coalesce(o.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, o.open_amount,
           bucket_index(o.days_past_due, $edges, 'due') AS bucket_index
    FROM open_at_month_ends((SELECT first_end FROM bounds), (SELECT m0 FROM bounds)) o
    JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
    WHERE $currency IS NULL OR coalesce(o.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency
),
starts AS (
    SELECT *, last_day(month_end + INTERVAL 1 DAY)::DATE AS next_end
    FROM open_by_month WHERE month_end < (SELECT m0 FROM bounds)
),
history AS (
    SELECT s.currency, s.bucket_index, count(DISTINCT s.month_end) AS bucket_months,
           any_value(n.month_pairs) AS month_pairs
    FROM starts s
    JOIN (SELECT currency, count(DISTINCT month_end) AS month_pairs FROM starts GROUP BY currency) n
      ON n.currency IS NOT DISTINCT FROM s.currency
    GROUP BY s.currency, s.bucket_index
),
moved AS (
    SELECT s.currency, s.bucket_index AS from_index, n.bucket_index AS to_index, n.open_amount AS amount
    FROM starts s JOIN open_by_month n ON n.invoice_id = s.invoice_id AND n.month_end = s.next_end
    UNION ALL
    SELECT s.currency, s.bucket_index,
           CASE WHEN a.source_type = 'write_off' THEN -3 ELSE -2 END, a.amount
    FROM starts s JOIN applications a
      ON a.invoice_id = s.invoice_id AND a.applied_on > s.month_end AND a.applied_on <= s.next_end
)
SELECT m.currency, m.from_index, m.to_index, sum(m.amount) AS amount,
       any_value(h.month_pairs) AS month_pairs, any_value(h.bucket_months) AS bucket_months
FROM moved m
JOIN history h ON h.currency IS NOT DISTINCT FROM m.currency AND h.bucket_index = m.from_index
GROUP BY m.currency, m.from_index, m.to_index
ORDER BY m.currency, m.from_index, m.to_index

-- name: concentration
-- Top-10 customers' share of open AR and of past due, and the Herfindahl index, per currency.
WITH per_customer AS (
    SELECT coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, d.customer_id,
           sum(d.open_amount) AS open_ar,
           coalesce(sum(d.open_amount) FILTER (WHERE d.days_past_due > 0), 0) AS past_due
    FROM open_documents($as_of) d
    JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
    WHERE $currency IS NULL OR coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency
    GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY currency ORDER BY open_ar DESC, customer_id) AS rank_open,
              row_number() OVER (PARTITION BY currency ORDER BY past_due DESC, customer_id) AS rank_past_due,
              sum(open_ar) OVER (PARTITION BY currency) AS total_open,
              sum(past_due) OVER (PARTITION BY currency) AS total_past_due
    FROM per_customer
)
SELECT currency, count(*) AS customers,
       sum(open_ar) FILTER (WHERE rank_open <= 10) / any_value(total_open) AS top10_share_open,
       sum(past_due) FILTER (WHERE rank_past_due <= 10) / NULLIF(any_value(total_past_due), 0)
           AS top10_share_past_due,
       sum(power(open_ar / total_open * 100, 2)) AS hhi
FROM ranked
GROUP BY currency
ORDER BY currency

-- name: top_past_due_customers
-- The customers with the most past due at $as_of.
SELECT coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, d.customer_id, any_value(c.name) AS name,
       sum(d.open_amount) FILTER (WHERE d.days_past_due > 0) AS past_due,
       sum(d.open_amount) AS open_ar, max(d.days_past_due) AS max_days_past_due
FROM open_documents($as_of) d
JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
WHERE ($currency IS NULL OR coalesce(d.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency)
GROUP BY ALL
HAVING sum(d.open_amount) FILTER (WHERE d.days_past_due > 0) > 0
ORDER BY past_due DESC, d.customer_id
LIMIT $limit

-- name: write_off_history
-- Amounts written off per month.
SELECT date_trunc('month', a.applied_on)::DATE AS month,
       coalesce(i.currency, (SELECT value FROM settings WHERE key = 'home_currency')) AS currency, sum(a.amount) AS written_off,
       count(*) AS invoices
FROM applications a JOIN invoices i USING (invoice_id)
JOIN filtered_customers($segment, $country, $salesperson, $customer) c ON c.customer_id = i.customer_id
WHERE a.source_type = 'write_off' AND a.applied_on <= $as_of
  AND ($currency IS NULL OR coalesce(i.currency, (SELECT value FROM settings WHERE key = 'home_currency')) = $currency)
GROUP BY ALL
ORDER BY month, currency
