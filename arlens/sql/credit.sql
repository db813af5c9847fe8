-- Credit review: exposure (open AR + open orders) against limits, customer groups, stale reviews,
-- hold candidates and the orders that would take a customer over its limit. Filters as in
-- aging.sql. README "Credit review" states every rule below in words.

-- name: credit_macros
-- The building blocks of the queries below, created as TEMP macros by arlens.credit before its
-- first query on a connection (macros.sql holds the ones every domain shares).
--   credit_tree(): every customer with each of its ancestors (itself at depth 0, its parent at 1,
--     …) and its group: the top of its parent chain. A parent_id naming no customer (or the
--     customer itself) ends the chain; a chain that loops ends where it would repeat a customer,
--     and the group of a loop is the smallest customer_id on the loop.
--   credit_limits_at(as_of, …) (in macros.sql: suggested limits read it too): the limit in force.
--   credit_pools(as_of, reporting, …): per customer the limit it is checked against: its own, else
--     that of its nearest ancestor with one (the limit holder), else none. A holder's pool is
--     itself and the customers it covers. Amounts of a customer are in its `currency`: the
--     reporting currency when one is given, else the holder's currency (its own without a holder).
--     The limit is translated at the holder currency's closing rate (NULL and
--     `limit_untranslated` without a rate).
--   credit_items(as_of, reporting, …): the open invoices and memos at as_of and the open orders
--     (status open or shipped, dated <= as_of), each with its `value` in the customer's currency:
--     as is when in that currency, else translated at the closing rate on or before as_of when a
--     reporting currency is given, else NULL (counted apart, never summed untranslated).
--   credit_exposure(as_of, reporting, grace_days, hold rule, …): per customer its open AR, open
--     orders, exposure, past due (items more than grace_days past due), seriously late (more than
--     hold_days + grace_days), its pool's exposure against the pool's limit and the hold rule.
CREATE OR REPLACE TEMP MACRO credit_tree() AS TABLE
    WITH RECURSIVE links AS (
        SELECT c.customer_id, p.customer_id AS parent
        FROM customers c
        LEFT JOIN customers p ON p.customer_id = c.parent_id AND p.customer_id <> c.customer_id
    ),
    walk(customer_id, ancestor, depth, path) AS (
        SELECT customer_id, customer_id, 0, [customer_id] FROM links
        UNION ALL
        SELECT w.customer_id, l.parent, w.depth + 1, list_append(w.path, l.parent)
        FROM walk w JOIN links l ON l.customer_id = w.ancestor
        WHERE l.parent IS NOT NULL AND NOT list_contains(w.path, l.parent)
    ),
    tops AS (
        SELECT w.customer_id,
               CASE WHEN l.parent IS NULL THEN w.ancestor
                    ELSE list_min(list_slice(w.path, list_position(w.path, l.parent),
                                                    array_length(w.path))) END AS group_id
        FROM walk w JOIN links l ON l.customer_id = w.ancestor
        QUALIFY w.depth = max(w.depth) OVER (PARTITION BY w.customer_id)
    )
    SELECT w.customer_id, w.ancestor, w.depth, t.group_id
    FROM walk w JOIN tops t USING (customer_id);

CREATE OR REPLACE TEMP MACRO credit_pools(as_of, reporting, limit_customers, limit_values) AS TABLE
    WITH limits AS (SELECT * FROM credit_limits_at(as_of, limit_customers, limit_values)),
    tree AS (SELECT * FROM credit_tree()),
    holders AS (
        SELECT t.customer_id, arg_min(t.ancestor, t.depth) AS limit_holder
        FROM tree t JOIN limits l ON l.customer_id = t.ancestor
        WHERE l.credit_limit IS NOT NULL
        GROUP BY t.customer_id
    ),
    rates AS (SELECT currency, rate FROM fx_closing(as_of, reporting))
    SELECT c.customer_id, g.group_id, h.limit_holder,
           coalesce(h.limit_holder, c.customer_id) AS pool,
           c.currency AS customer_currency,
           coalesce(reporting, hc.currency, c.currency) AS currency,
           l.credit_limit AS limit_amount,  -- in the holder's currency
           hc.currency AS limit_currency,
           CASE WHEN reporting IS NULL OR hc.currency = reporting THEN l.credit_limit
                ELSE round(l.credit_limit * r.rate, 2)::DECIMAL(18,2) END AS credit_limit,
           l.credit_limit IS NOT NULL AND reporting IS NOT NULL AND hc.currency <> reporting
               AND r.rate IS NULL AS limit_untranslated,
           l.reviewed_on AS credit_limit_reviewed_on, l.limit_from, l.limit_source,
           coalesce(l.limit_is_proposed, false) AS limit_is_proposed
    FROM customers c
    JOIN (SELECT DISTINCT customer_id, group_id FROM tree) g USING (customer_id)
    LEFT JOIN holders h USING (customer_id)
    LEFT JOIN customers hc ON hc.customer_id = h.limit_holder
    LEFT JOIN limits l ON l.customer_id = h.limit_holder
    LEFT JOIN rates r ON r.currency = hc.currency;

CREATE OR REPLACE TEMP MACRO credit_items(as_of, reporting, limit_customers, limit_values) AS TABLE
    WITH home AS (SELECT value AS currency FROM settings WHERE key = 'home_currency'),
    items AS (
        SELECT customer_id, 'invoice' AS kind, invoice_id AS item_id, due_date AS item_date,
               currency, open_amount AS amount, days_past_due
        FROM open_documents(as_of)
        UNION ALL
        SELECT customer_id, 'order', order_id, order_date,
               coalesce(currency, (SELECT currency FROM home)), amount, NULL
        FROM orders
        WHERE coalesce(lower(trim(status)), 'open') IN ('open', 'shipped')
          AND order_date <= as_of::DATE
    ),
    rates AS (SELECT currency, rate FROM fx_closing(as_of, reporting))
    SELECT i.*, p.pool, p.group_id, p.currency AS value_currency,
           CASE WHEN i.currency = p.currency THEN i.amount
                WHEN reporting IS NOT NULL THEN round(i.amount * r.rate, 2)::DECIMAL(18,2)
           END AS value
    FROM items i
    JOIN credit_pools(as_of, reporting, limit_customers, limit_values) p USING (customer_id)
    LEFT JOIN rates r ON r.currency = i.currency;

CREATE OR REPLACE TEMP MACRO credit_exposure(as_of, reporting, grace_days, hold_days, hold_share,
                                             hold_min_amount, hold_broken_promises,
                                             hold_utilisation, limit_customers, limit_values)
AS TABLE
    WITH items AS (SELECT * FROM credit_items(as_of, reporting, limit_customers, limit_values)),
    own AS (
        SELECT customer_id,
               coalesce(sum(value) FILTER (WHERE kind = 'invoice'), 0) AS open_ar,
               coalesce(sum(value) FILTER (WHERE kind = 'order'), 0) AS open_orders,
               count(*) FILTER (WHERE kind = 'order' AND value IS NOT NULL) AS orders_counted,
               coalesce(sum(value) FILTER (WHERE kind = 'invoice' AND days_past_due > grace_days),
                        0) AS past_due,
               coalesce(sum(value) FILTER (WHERE kind = 'invoice'
                                             AND days_past_due > grace_days + hold_days), 0)
                   AS seriously_late,
               max(days_past_due) FILTER (WHERE value IS NOT NULL AND days_past_due > grace_days)
                   AS max_days_past_due,
               count(*) FILTER (WHERE kind = 'invoice' AND value IS NULL AND reporting IS NULL)
                   AS open_in_other_currencies,
               count(*) FILTER (WHERE kind = 'order' AND value IS NULL AND reporting IS NULL)
                   AS orders_in_other_currencies,
               count(*) FILTER (WHERE value IS NULL AND reporting IS NOT NULL)
                   AS untranslated_items,
               count(*) AS items
        FROM items
        GROUP BY customer_id
    ),
    last_payment AS (
        SELECT customer_id, max(payment_date) AS last_payment_date
        FROM payments WHERE payment_date <= as_of::DATE GROUP BY customer_id
    ),
    broken AS (
        SELECT customer_id, count(*) AS broken_promises_90d
        FROM promises_at(as_of)
        WHERE status = 'broken' AND promised_date > as_of::DATE - 90
        GROUP BY customer_id
    ),
    reviewed AS (
        SELECT c.customer_id, coalesce(nullif(trim(c.name), ''), c.customer_id) AS name,
               c.segment, c.country, c.salesperson, p.currency, p.customer_currency, p.group_id,
               p.limit_holder, p.pool, p.limit_holder = c.customer_id AS own_limit,
               p.credit_limit, p.limit_amount, p.limit_currency, p.limit_untranslated,
               p.limit_is_proposed, p.limit_source, p.limit_from, p.credit_limit_reviewed_on,
               c.risk_rating,
               coalesce(o.open_ar, 0) AS open_ar,
               coalesce(o.open_orders, 0) AS open_orders,
               coalesce(o.open_ar, 0) + coalesce(o.open_orders, 0) AS exposure,
               coalesce(o.orders_counted, 0) AS orders_counted,
               p.limit_holder IS NULL AS no_limit,
               p.limit_holder IS NOT NULL AND (p.credit_limit_reviewed_on IS NULL
                   OR p.credit_limit_reviewed_on < (as_of::DATE - INTERVAL 24 MONTH)::DATE)
                   AS stale_review,
               (as_of::DATE - l.last_payment_date)::INTEGER AS days_since_last_payment,
               coalesce(o.past_due, 0) AS past_due,
               coalesce(o.seriously_late, 0) AS seriously_late,
               o.max_days_past_due,
               coalesce(b.broken_promises_90d, 0) AS broken_promises_90d,
               coalesce(o.open_in_other_currencies, 0) AS open_in_other_currencies,
               coalesce(o.orders_in_other_currencies, 0) AS orders_in_other_currencies,
               coalesce(o.untranslated_items, 0) AS untranslated_items,
               coalesce(o.items, 0) AS items
        FROM customers c
        JOIN credit_pools(as_of, reporting, limit_customers, limit_values) p USING (customer_id)
        LEFT JOIN own o USING (customer_id)
        LEFT JOIN last_payment l USING (customer_id)
        LEFT JOIN broken b USING (customer_id)
    ),
    pooled AS (
        SELECT *,
               sum(exposure) OVER (PARTITION BY pool) AS pool_exposure,
               count(*) OVER (PARTITION BY pool) AS pool_members
        FROM reviewed
    ),
    rules AS (
        SELECT *,
               pool_exposure / NULLIF(credit_limit, 0) AS utilisation,
               coalesce(pool_exposure > credit_limit, false) AS over_limit,
               coalesce(pool_exposure > credit_limit * hold_utilisation::DECIMAL(9,4), false)
                   AS hold_for_limit,
               seriously_late > 0 AND seriously_late >= hold_min_amount::DECIMAL(18,2)
                   AND seriously_late * CASE WHEN broken_promises_90d >= hold_broken_promises
                                             THEN 2 ELSE 1 END
                       >= exposure * hold_share::DECIMAL(9,4)
                   AS hold_for_lateness,
               greatest(past_due, coalesce(pool_exposure - credit_limit, 0)) AS at_risk,
               grace_days::INTEGER AS grace_days
        FROM pooled
    )
    SELECT *, hold_for_limit OR hold_for_lateness AS hold FROM rules;

-- name: credit_review
-- One row per customer with a limit of its own or an open item or order at $as_of (see
-- credit_macros for exposure, pools and currencies). Exposure = open AR + open orders; utilisation
-- = the pool's exposure / the limit (a customer's own exposure when no one else is in its pool);
-- over limit is strictly pool exposure > limit. Only a limit can be stale: the applied limit's
-- review is missing or more than 24 months before $as_of; a customer without one is `no_limit`.
-- Hold candidates (each threshold a parameter):
--   for the limit: pool exposure > limit × $hold_utilisation (1.0: over the limit; a limit of 0
--   is exceeded by any exposure);
--   for lateness: the amount more than $hold_days + $grace_days days past due is at least
--   $hold_min_amount and at least $hold_share of the exposure, or half that share for a customer
--   with $hold_broken_promises or more broken promises whose promised date is in the 90 days
--   ending $as_of.
-- Exposure at risk (`at_risk`, what the hold list is ranked by) is the past due, or the pool's
-- exposure above the limit when that is more. $group (a group_id) lists one group's members
-- whatever the filters. The reasons in words are added by arlens.credit.
SELECT e.*
FROM credit_exposure($as_of, $reporting, $grace_days, $hold_days, $hold_share, $hold_min_amount,
                     $hold_broken_promises, $hold_utilisation, $limit_customers,
                     $limit_values) e
WHERE CASE WHEN $group IS NOT NULL THEN e.group_id = $group
           ELSE (e.own_limit OR e.items > 0)
                AND e.customer_id IN (SELECT customer_id
                                      FROM filtered_customers($segment, $country, $salesperson,
                                                              $customer))
                AND ($currency IS NULL OR e.customer_currency = $currency) END
ORDER BY e.hold DESC, e.at_risk DESC, e.customer_id

-- name: credit_groups
-- One row per group (a top parent and every customer below it, at any depth) with a member that
-- passes the filters; `members` counts them all. The group's exposure is the sum of its members'
-- exposure in the top's currency (members measured in another currency are counted in
-- `members_in_other_currencies`, never added). The group's limit is the top's: it covers the top
-- and every member without a limit of its own (the top's pool); a member with its own limit is
-- checked against it, with the members below it that have none. Utilisation = pool exposure /
-- the top's limit; over limit is strictly >; the group is on hold when any member is.
WITH e AS (
    SELECT * FROM credit_exposure($as_of, $reporting, $grace_days, $hold_days, $hold_share,
                                  $hold_min_amount, $hold_broken_promises, $hold_utilisation,
                                  $limit_customers, $limit_values)
),
shown AS (
    SELECT DISTINCT e.group_id
    FROM e JOIN filtered_customers($segment, $country, $salesperson, $customer) c
         USING (customer_id)
    WHERE $currency IS NULL OR e.customer_currency = $currency
),
members AS (
    SELECT e.group_id,
           count(*) AS members,
           sum(e.exposure) FILTER (WHERE e.currency = t.currency) AS group_exposure,
           count(*) FILTER (WHERE e.currency <> t.currency AND e.items > 0)
               AS members_in_other_currencies,
           count(*) FILTER (WHERE e.own_limit AND e.customer_id <> e.group_id)
               AS members_with_own_limit,
           count(*) FILTER (WHERE e.own_limit AND e.over_limit) AS limits_exceeded,
           count(*) FILTER (WHERE e.hold) AS members_on_hold,
           bool_or(e.hold) AS hold,
           max(e.grace_days) AS grace_days
    FROM e JOIN e t ON t.customer_id = e.group_id
    GROUP BY e.group_id
)
SELECT t.group_id, t.name, t.currency, m.members, m.group_exposure,
       CASE WHEN t.own_limit THEN t.credit_limit END AS credit_limit,
       CASE WHEN t.own_limit THEN t.pool_exposure END AS pool_exposure,
       CASE WHEN t.own_limit THEN t.utilisation END AS utilisation,
       coalesce(t.own_limit, false) AND t.over_limit AS over_limit,
       t.no_limit, t.stale_review, t.credit_limit_reviewed_on,
       m.members_with_own_limit, m.limits_exceeded, m.members_on_hold,
       m.members_in_other_currencies, m.hold, m.grace_days
FROM members m
JOIN e t ON t.customer_id = m.group_id
WHERE m.group_id IN (SELECT group_id FROM shown)
ORDER BY m.hold DESC, m.group_exposure DESC, t.group_id

-- name: order_warnings
-- The open orders (status open or shipped, dated <= $as_of) that take a customer over the limit
-- it is checked against, as an order confirmation's credit-limit warning does: the orders of a
-- pool are taken in order_date order (then order_id), each after the pool's open AR at $as_of and
-- the orders before it; an order is flagged when exposure before it + its amount > the limit
-- (strictly; a limit of 0: any order). Orders not in the pool's currency (or with no rate in the
-- reporting currency) are not counted and not flagged. Amounts in `currency`.
WITH items AS (
    SELECT * FROM credit_items($as_of, $reporting, $limit_customers, $limit_values)
),
pools AS (
    SELECT * FROM credit_pools($as_of, $reporting, $limit_customers, $limit_values)
),
pool_ar AS (
    SELECT pool, coalesce(sum(value), 0) AS open_ar
    FROM items WHERE kind = 'invoice' GROUP BY pool
),
queued AS (
    SELECT o.customer_id, o.item_id AS order_id, o.item_date AS order_date, o.value AS amount,
           o.pool,
           coalesce(a.open_ar, 0)
           + coalesce(sum(o.value) OVER (PARTITION BY o.pool ORDER BY o.item_date, o.item_id
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS exposure_before
    FROM items o LEFT JOIN pool_ar a USING (pool)
    WHERE o.kind = 'order' AND o.value IS NOT NULL
)
SELECT q.order_id, q.customer_id,
       coalesce(nullif(trim(c.name), ''), c.customer_id) AS name,
       q.order_date, q.amount, p.currency, q.exposure_before,
       q.exposure_before + q.amount AS exposure_after, h.credit_limit, p.limit_holder,
       q.exposure_before + q.amount - h.credit_limit AS over_by
FROM queued q
JOIN pools p ON p.customer_id = q.customer_id
JOIN pools h ON h.customer_id = q.pool
JOIN customers c ON c.customer_id = q.customer_id
WHERE h.credit_limit IS NOT NULL AND q.exposure_before + q.amount > h.credit_limit
  AND q.customer_id IN (SELECT customer_id
                        FROM filtered_customers($segment, $country, $salesperson, $customer))
  AND ($currency IS NULL OR c.currency = $currency)
ORDER BY q.order_date, q.order_id

-- name: untranslated_items
-- With a reporting currency: the open items and orders at $as_of left out of the credit exposure
-- because their currency has no closing rate on or before $as_of (listed, never summed as is),
-- and the limits that could not be translated (kind 'limit').
SELECT i.customer_id, i.kind, i.item_id, i.item_date, i.currency, i.amount
FROM credit_items($as_of, $reporting, [], []) i
WHERE i.value IS NULL AND $reporting IS NOT NULL
  AND i.customer_id IN (SELECT customer_id
                        FROM filtered_customers($segment, $country, $salesperson, $customer))
UNION ALL
SELECT p.customer_id, 'limit', p.limit_holder, NULL, p.limit_currency, p.limit_amount
FROM credit_pools($as_of, $reporting, [], []) p
WHERE p.limit_untranslated AND p.limit_holder = p.customer_id
  AND p.customer_id IN (SELECT customer_id
                        FROM filtered_customers($segment, $country, $salesperson, $customer))
ORDER BY customer_id, kind, item_id
