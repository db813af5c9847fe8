-- Credit review: exposure against limits, stale reviews, hold candidates. Filters as in aging.sql.

-- name: credit_review
-- One row per customer with a limit or an open item at $as_of. Over limit is strictly exposure >
-- limit; a review is stale when missing or more than 24 months before $as_of. Hold candidates:
-- over limit, an open invoice more than 60 days past due, or 2+ broken promises whose promised
-- date is in the 90 days ending $as_of.
WITH open_ar AS (
    SELECT customer_id, sum(open_amount) AS exposure,
           coalesce(sum(open_amount) FILTER (WHERE days_past_due > 0), 0) AS past_due,
           max(days_past_due) FILTER (WHERE days_past_due > 0) AS max_days_past_due
    FROM open_documents($as_of)
    GROUP BY customer_id
),
last_payment AS (
    SELECT customer_id, max(payment_date) AS last_payment_date
    FROM payments WHERE payment_date <= $as_of GROUP BY customer_id
),
broken AS (
    SELECT customer_id, count(*) AS broken_promises_90d
    FROM activities
    WHERE kind = 'promise' AND lower(outcome) = 'broken' AND activity_date <= $as_of
      AND promised_date > $as_of::DATE - 90 AND promised_date <= $as_of
    GROUP BY customer_id
),
what_if AS (
    -- Proposed limits ($limit_customers / $limit_values) replace the recorded ones: the what-if.
    SELECT unnest($limit_customers) AS customer_id, unnest($limit_values)::DECIMAL(18,2) AS proposed_limit
),
limited AS (
    SELECT c.* REPLACE (coalesce(w.proposed_limit, c.credit_limit) AS credit_limit),
           w.proposed_limit IS NOT NULL AS limit_is_proposed
    FROM filtered_customers($segment, $country, $salesperson, $customer) c
    LEFT JOIN what_if w USING (customer_id)
),
reviewed AS (
    SELECT c.customer_id, c.name, c.segment, c.country, c.salesperson, c.currency,
           c.credit_limit, c.limit_is_proposed, c.credit_limit_reviewed_on, c.risk_rating,
           coalesce(o.exposure, 0) AS exposure,
           coalesce(o.exposure, 0) / NULLIF(c.credit_limit, 0) AS utilisation,
           coalesce(c.credit_limit IS NOT NULL AND coalesce(o.exposure, 0) > c.credit_limit, false)
               AS over_limit,
           c.credit_limit_reviewed_on IS NULL
               OR c.credit_limit_reviewed_on < ($as_of::DATE - INTERVAL 24 MONTH)::DATE AS stale_review,
           ($as_of::DATE - l.last_payment_date)::INTEGER AS days_since_last_payment,
           coalesce(o.past_due, 0) AS past_due,
           o.max_days_past_due,
           coalesce(b.broken_promises_90d, 0) AS broken_promises_90d
    FROM limited c
    LEFT JOIN open_ar o USING (customer_id)
    LEFT JOIN last_payment l USING (customer_id)
    LEFT JOIN broken b USING (customer_id)
    WHERE (c.credit_limit IS NOT NULL OR o.exposure IS NOT NULL)
      AND ($currency IS NULL OR c.currency = $currency)
)
SELECT *,
       array_to_string(list_filter([
           CASE WHEN over_limit THEN 'over limit' END,
           CASE WHEN max_days_past_due > 60 THEN 'over 60 days past due' END,
           CASE WHEN broken_promises_90d >= 2 THEN '2+ broken promises in 90 days' END
       ], lambda r: r IS NOT NULL), '; ') AS hold_reasons
FROM reviewed
ORDER BY over_limit DESC, utilisation DESC NULLS LAST, customer_id
