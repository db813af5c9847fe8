-- Team use (arlens/team/): what the app recorded, who holds what, and the audit trail.

-- name: assigned_customers
-- The customers a collector works: `collector` names them (their email, any case).
SELECT customer_id FROM customers WHERE lower(trim(collector)) = lower(trim($collector))

-- name: customer_activities
-- A customer's latest activities, newest first: what was said before the next call.
SELECT activity_date, kind, invoice_id, outcome, promised_date, promised_amount, note,
       created_by, created_at
FROM activities
WHERE customer_id = $customer AND kind <> 'dunning'
ORDER BY activity_date DESC, created_at DESC NULLS LAST, activity_id DESC
LIMIT $limit

-- name: holds_in_force
-- The customers on hold: each one's latest hold row, when it is a hold (not a release).
SELECT h.customer_id, coalesce(nullif(trim(c.name), ''), h.customer_id) AS name,
       h.effective_on AS held_since, h.reason, h.created_by AS held_by
FROM order_holds h JOIN customers c USING (customer_id)
QUALIFY row_number() OVER (PARTITION BY h.customer_id
                           ORDER BY h.created_at DESC, h.effective_on DESC) = 1
    AND h.action = 'hold'
ORDER BY held_since DESC, name

-- name: pending_limits
-- New credit limits waiting for a second credit manager, oldest first.
SELECT r.request_id, r.customer_id, coalesce(nullif(trim(c.name), ''), r.customer_id) AS name,
       r.credit_limit, r.previous_limit, r.effective_from, r.reason, r.requested_by,
       r.requested_at
FROM limit_requests r JOIN customers c USING (customer_id)
WHERE r.status = 'pending'
ORDER BY r.requested_at

-- name: audit_trail
-- The audit trail, newest first, between two days (inclusive), optionally for one user or action.
SELECT logged_at, user_name, action, target, details::VARCHAR AS details
FROM audit_log
WHERE logged_at::DATE BETWEEN $since AND $until
  AND ($user IS NULL OR user_name = $user)
  AND ($action IS NULL OR action = $action)
ORDER BY logged_at DESC, audit_id

-- name: audit_choices
-- Who and what the audit trail holds, for its filters.
SELECT 'user' AS kind, user_name AS value FROM audit_log
UNION
SELECT 'action', action FROM audit_log
ORDER BY kind, value
