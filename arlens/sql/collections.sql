-- The collectors' worklist and call sheets. Filters as in aging.sql.

-- name: worklist
-- One row per customer with past due at $as_of: past due beyond 30/60/90 days (for the one-line
-- summary), the two largest past-due invoices, open and broken promises, and the priority
-- Σ open amount × days past due (× the customer's risk score when one is given in $risk).
WITH past_due_items AS (
    SELECT d.* FROM open_documents($as_of) d
    JOIN filtered_customers($segment, $country, $salesperson, $customer) c USING (customer_id)
    WHERE d.days_past_due > 0 AND ($currency IS NULL OR d.currency = $currency)
),
per_customer AS (
    SELECT customer_id, currency,
           sum(open_amount) AS past_due,
           coalesce(sum(open_amount) FILTER (WHERE days_past_due > 30), 0) AS over_30,
           coalesce(sum(open_amount) FILTER (WHERE days_past_due > 60), 0) AS over_60,
           coalesce(sum(open_amount) FILTER (WHERE days_past_due > 90), 0) AS over_90,
           max(days_past_due) AS max_days_past_due,
           sum(open_amount * days_past_due) AS amount_days,
           list({'invoice_id': invoice_id, 'open_amount': open_amount, 'due_date': due_date}
                ORDER BY open_amount DESC, invoice_id)[1:2] AS largest
    FROM past_due_items
    GROUP BY customer_id, currency
    HAVING sum(open_amount) > 0
),
promises AS (
    SELECT customer_id,
           count(*) FILTER (WHERE promised_date >= $as_of) AS open_promises,
           count(*) FILTER (WHERE lower(outcome) = 'broken'
                            AND promised_date > $as_of::DATE - 90 AND promised_date <= $as_of)
               AS broken_promises_90d,
           min(promised_date) FILTER (WHERE promised_date >= $as_of) AS next_promised_date
    FROM activities WHERE kind = 'promise' AND activity_date <= $as_of
    GROUP BY customer_id
),
scores AS (
    SELECT unnest($risk_customers) AS customer_id, unnest($risk_scores) AS risk_score
)
SELECT p.customer_id, c.name, p.currency, p.past_due, p.over_30, p.over_60, p.over_90,
       p.max_days_past_due,
       p.largest[1].invoice_id AS invoice_1, p.largest[1].open_amount AS invoice_1_amount,
       p.largest[1].due_date AS invoice_1_due,
       p.largest[2].invoice_id AS invoice_2, p.largest[2].open_amount AS invoice_2_amount,
       p.largest[2].due_date AS invoice_2_due,
       coalesce(pr.open_promises, 0) AS open_promises, pr.next_promised_date,
       coalesce(pr.broken_promises_90d, 0) AS broken_promises_90d,
       s.risk_score,
       p.amount_days * coalesce(s.risk_score, 1) AS priority
FROM per_customer p
JOIN customers c USING (customer_id)
LEFT JOIN promises pr USING (customer_id)
LEFT JOIN scores s USING (customer_id)
ORDER BY priority DESC, p.customer_id
