-- The dev stack's demo orders dated back (scripts/dev-up, demo_activity; never installed).
-- They were placed through the API a moment ago while the relay was stopped; the session that
-- sources this file has set @demo to a JSON array of [order id, days back] pairs. Each order
-- moves back by its days, and with it its payment's row in the balance history and its outbox
-- event: the event's time and the order document it carries. So the events the relay delivers
-- once it runs again carry the times the orders show, not the time dev-up ran. The charges
-- that paid for the orders (the demo data's and dev-up's) move back 4 days, before them all.
CREATE TEMPORARY TABLE demo_days AS
  SELECT order_id, days
  FROM JSON_TABLE(@demo, '$[*]' COLUMNS (order_id BIGINT PATH '$[0]', days INT PATH '$[1]')) AS d;

SET @first_use = (SELECT MIN(h.id) FROM point_history h JOIN demo_days d ON d.order_id = h.order_id);

-- the event first: it is rewritten from the order's time before the order moves
UPDATE outbox x
  JOIN demo_days d ON d.order_id = x.order_id
  JOIN orders o ON o.id = x.order_id
  SET x.payload = REPLACE(x.payload,
        CONCAT('"createdAt":"', LEFT(DATE_FORMAT(o.created_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z"'),
        CONCAT('"createdAt":"',
               LEFT(DATE_FORMAT(o.created_at - INTERVAL d.days DAY, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z"')),
      x.occurred_at = x.occurred_at - INTERVAL d.days DAY
  WHERE x.status = 'PENDING';

UPDATE point_history h JOIN demo_days d ON d.order_id = h.order_id
  SET h.created_at = h.created_at - INTERVAL d.days DAY;

UPDATE point_history SET created_at = created_at - INTERVAL 4 DAY
  WHERE type = 'CHARGE' AND id < @first_use;

UPDATE orders o JOIN demo_days d ON d.order_id = o.id
  SET o.created_at = o.created_at - INTERVAL d.days DAY;

DROP TEMPORARY TABLE demo_days;
