-- online: yes
-- step: expand
-- outbox_order: an order's events by order id, for GET /admin/orders/{orderId}, the operator's
-- view of where each event of an order stands (pending, in backoff, delivered, failed). No index
-- the order path already keeps leads from an order to its outbox rows (their key is a random
-- event id). Its cost: one more index entry per event written (an order, a cancel); measured
-- with `bench/run orders --index-cost` (docs/BENCHMARKS.md, "The cost of outbox_order").
-- The previous release's workers and relays never read it and work on.
ALTER TABLE outbox ADD INDEX IF NOT EXISTS outbox_order (order_id), ALGORITHM=INPLACE, LOCK=NONE;
