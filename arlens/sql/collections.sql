-- The collectors' worklist and call sheets. Filters as in aging.sql.

-- name: worklist
-- One row per (customer, currency) with past due at $as_of: the collector's sentence, the two
-- largest past-due invoices, open and broken promises, and the priority Σ open amount × days past
-- due (× the customer's risk score when one is given in $risk); customers with a promise due
-- today or broken yesterday first.
-- Grace days: an item counts as past due here when its days past due (as_of − due date) are more
-- than $grace_days (the store setting, default 0); its days, buckets and priority still count
-- from the due date, as the Aging page does.
-- The sentence (DESIGN.md §4): past-due buckets are the Aging page's ($edges, e.g. [30, 60, 90,
-- 120]: 1-30, 31-60, 61-90, 91-120, 121+). The oldest bucket after 1-30 that holds at least 20%
-- of the customer's past due or at least 1,000 in its currency gives `sentence_days` (its first
-- day − 1, "over 120 days") and `sentence_amount` (that bucket and the older ones); when no bucket
-- qualifies (or only 1-30 does) both are NULL and the sentence is the whole past due.
-- A missing customer name is the customer's id.
WITH past_due_items AS (
    SELECT d.* FROM open_documents($as_of) d
    JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
    WHERE d.days_past_due > $grace_days AND ($currency IS NULL OR d.currency = $currency)
),
past_due_invoices AS (
    -- the invoices the call sheet names: one due in instalments once, with its past-due
    -- instalments together and the due date of the oldest of them (macros.sql open_documents)
    SELECT customer_id, currency, invoice_id, open_amount, due_date
    FROM past_due_items WHERE instalment IS NULL
    UNION ALL
    SELECT customer_id, currency, invoice_id, sum(open_amount), min(due_date)
    FROM past_due_items WHERE instalment IS NOT NULL
    GROUP BY customer_id, currency, invoice_id
),
ranked AS (
    SELECT customer_id, currency, invoice_id, open_amount, due_date,
           row_number() OVER (PARTITION BY customer_id, currency
                              ORDER BY open_amount DESC, invoice_id) AS place
    FROM past_due_invoices
),
largest AS (  -- the two largest, as columns
    SELECT customer_id, currency,
           max(CASE WHEN place = 1 THEN invoice_id END) AS invoice_1,
           max(CASE WHEN place = 1 THEN open_amount END) AS invoice_1_amount,
           max(CASE WHEN place = 1 THEN due_date END) AS invoice_1_due,
           max(CASE WHEN place = 2 THEN invoice_id END) AS invoice_2,
           max(CASE WHEN place = 2 THEN open_amount END) AS invoice_2_amount,
           max(CASE WHEN place = 2 THEN due_date END) AS invoice_2_due
    FROM ranked
    WHERE place <= 2
    GROUP BY customer_id, currency
),
per_customer AS (
    SELECT t.customer_id, t.currency, t.past_due, t.max_days_past_due, t.amount_days,
           l.invoice_1, l.invoice_1_amount, l.invoice_1_due, l.invoice_2, l.invoice_2_amount,
           l.invoice_2_due
    FROM (
        SELECT customer_id, currency,
               sum(open_amount) AS past_due,
               max(days_past_due) AS max_days_past_due,
               sum(open_amount * days_past_due) AS amount_days
        FROM past_due_items
        GROUP BY customer_id, currency
        HAVING sum(open_amount) > 0
    ) t JOIN largest l USING (customer_id, currency)
),
per_bucket AS (
    -- bucket 1 is 1-30, bucket k ≥ 2 starts the day after $edges[k - 1]
    SELECT customer_id, currency, bucket_index(days_past_due, $edges, 'due') AS bucket,
           sum(open_amount) AS amount
    FROM past_due_items
    GROUP BY ALL
),
with_older AS (
    SELECT b.*, p.past_due,
           sum(b.amount) OVER (PARTITION BY b.customer_id, b.currency ORDER BY b.bucket DESC)
               AS this_and_older
    FROM per_bucket b JOIN per_customer p USING (customer_id, currency)
),
sentence AS (
    SELECT customer_id, currency,
           arg_max($edges[bucket - 1], bucket) AS sentence_days,
           arg_max(this_and_older, bucket) AS sentence_amount
    FROM with_older
    WHERE bucket >= 2 AND amount > 0 AND (amount * 5 >= past_due OR amount >= 1000)
    GROUP BY customer_id, currency
),
promises AS (
    -- promises_at: open until their date, then kept or broken (macros.sql)
    SELECT customer_id,
           count(*) FILTER (WHERE status = 'open') AS open_promises,
           count(*) FILTER (WHERE status = 'broken' AND promised_date > $as_of::DATE - 90)
               AS broken_promises_90d,
           min(promised_date) FILTER (WHERE status = 'open') AS next_promised_date,
           count(*) FILTER (WHERE status = 'open' AND promised_date = $as_of::DATE) > 0
               AS promise_due_today,
           count(*) FILTER (WHERE status = 'broken' AND promised_date = $as_of::DATE - 1) > 0
               AS promise_broken_yesterday
    FROM promises_at($as_of)
    GROUP BY customer_id
),
scores AS (
    SELECT $risk_customers[i]::VARCHAR AS customer_id, $risk_scores[i]::DOUBLE AS risk_score
    FROM range(1, array_length($risk_customers) + 1) t(i)
)
SELECT p.customer_id, coalesce(nullif(trim(c.name), ''), p.customer_id) AS name, p.currency,
       p.past_due, s.sentence_days, s.sentence_amount, p.max_days_past_due,
       p.invoice_1, p.invoice_1_amount, p.invoice_1_due,
       p.invoice_2, p.invoice_2_amount, p.invoice_2_due,
       coalesce(pr.open_promises, 0) AS open_promises, pr.next_promised_date,
       coalesce(pr.broken_promises_90d, 0) AS broken_promises_90d,
       CASE WHEN pr.promise_due_today THEN 'promise due today'
            WHEN pr.promise_broken_yesterday THEN 'promise broken yesterday' END AS follow_up,
       r.risk_score,
       p.amount_days * coalesce(r.risk_score, 1) AS priority
FROM per_customer p
JOIN customers c USING (customer_id)
LEFT JOIN sentence s ON s.customer_id = p.customer_id AND s.currency = p.currency
LEFT JOIN promises pr USING (customer_id)
LEFT JOIN scores r USING (customer_id)
-- a promise due today or broken yesterday is the first call of the day, whatever the priority
ORDER BY coalesce(pr.promise_due_today OR pr.promise_broken_yesterday, false) DESC, priority DESC,
         p.customer_id, p.currency
