-- Credit review: exposure against limits, stale reviews, hold candidates. Filters as in aging.sql.

-- name: credit_review
-- One row per customer with a limit or an open item at $as_of. Exposure is the open AR in the
-- customer's own currency (the limit's): documents in other currencies are not added to it, they
-- are counted in `open_in_other_currencies`. Over limit is strictly exposure > limit. Only a limit
-- can be stale: a customer with a limit whose review is missing or more than 24 months before
-- $as_of; a customer without one is `no_limit`. Hold candidates (each threshold a parameter):
--   for the limit: exposure > limit × $hold_utilisation (1.0: over the limit; a limit of 0 is
--   exceeded by any exposure);
--   for lateness: the amount more than $hold_days days past due is at least $hold_min_amount (in
--   the customer's currency) and at least $hold_share of the exposure, or half that share for a
--   customer with $hold_broken_promises or more broken promises whose promised date is in the 90
--   days ending $as_of.
-- Exposure at risk (`at_risk`, what the hold list is ranked by) is the past due, or the exposure
-- above the limit when that is more. The reasons in words are added by arlens.metrics.
WITH documents AS (
    SELECT d.*, d.currency = c.currency AS own_currency
    FROM open_documents($as_of) d JOIN customers c USING (customer_id)
),
open_ar AS (
    SELECT customer_id,
           sum(open_amount) FILTER (WHERE own_currency) AS exposure,
           coalesce(sum(open_amount) FILTER (WHERE own_currency AND days_past_due > 0), 0)
               AS past_due,
           coalesce(sum(open_amount) FILTER (WHERE own_currency AND days_past_due > $hold_days), 0)
               AS seriously_late,
           max(days_past_due) FILTER (WHERE own_currency AND days_past_due > 0)
               AS max_days_past_due,
           count(*) FILTER (WHERE NOT own_currency) AS open_in_other_currencies
    FROM documents
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
    SELECT c.customer_id, coalesce(nullif(trim(c.name), ''), c.customer_id) AS name, c.segment,
           c.country, c.salesperson, c.currency,
           c.credit_limit, c.limit_is_proposed, c.credit_limit_reviewed_on, c.risk_rating,
           coalesce(o.exposure, 0) AS exposure,
           coalesce(o.exposure, 0) / NULLIF(c.credit_limit, 0) AS utilisation,
           coalesce(coalesce(o.exposure, 0) > c.credit_limit, false) AS over_limit,
           c.credit_limit IS NULL AS no_limit,
           c.credit_limit IS NOT NULL AND (c.credit_limit_reviewed_on IS NULL
               OR c.credit_limit_reviewed_on < ($as_of::DATE - INTERVAL 24 MONTH)::DATE)
               AS stale_review,
           ($as_of::DATE - l.last_payment_date)::INTEGER AS days_since_last_payment,
           coalesce(o.past_due, 0) AS past_due,
           coalesce(o.seriously_late, 0) AS seriously_late,
           o.max_days_past_due,
           coalesce(b.broken_promises_90d, 0) AS broken_promises_90d,
           coalesce(o.open_in_other_currencies, 0) AS open_in_other_currencies
    FROM limited c
    LEFT JOIN open_ar o USING (customer_id)
    LEFT JOIN last_payment l USING (customer_id)
    LEFT JOIN broken b USING (customer_id)
    WHERE (c.credit_limit IS NOT NULL OR o.customer_id IS NOT NULL)
      AND ($currency IS NULL OR c.currency = $currency)
),
rules AS (
    SELECT *,
           coalesce(exposure > credit_limit * $hold_utilisation::DECIMAL(9,4), false)
               AS hold_for_limit,
           seriously_late > 0 AND seriously_late >= $hold_min_amount::DECIMAL(18,2)
               AND seriously_late * CASE WHEN broken_promises_90d >= $hold_broken_promises
                                         THEN 2 ELSE 1 END
                   >= exposure * $hold_share::DECIMAL(9,4)
               AS hold_for_lateness,
           greatest(past_due, coalesce(exposure - credit_limit, 0)) AS at_risk
    FROM reviewed
)
SELECT *, hold_for_limit OR hold_for_lateness AS hold
FROM rules
ORDER BY hold DESC, at_risk DESC, customer_id
