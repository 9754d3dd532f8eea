-- bench/lib/dbside.sh dbside_check: whether a run's orders add up, on the data load.sql made
-- (every balance and every stock @INITIAL@ before the run). One line per check, "name count",
-- the count being the rows that break it (0: it holds), and last the orders committed.
-- balance: a user whose balance plus what the USE history says was spent is not the initial
--          balance, or whose history does not sum to the totals of their orders
-- stock:   a product whose stock plus the quantities of its order items is not the initial stock
-- outbox:  an order without exactly one ORDER_PAID event, or an event without its order
-- items:   an order without exactly one item, or whose item's amount is not its total
-- history: an order without exactly one USE history row
SELECT 'balance', COUNT(*) FROM point p
  LEFT JOIN (SELECT user_id, SUM(amount) AS spent FROM point_history WHERE type = 'USE'
             GROUP BY user_id) h ON h.user_id = p.user_id
  LEFT JOIN (SELECT user_id, SUM(total) AS total FROM orders GROUP BY user_id) o
    ON o.user_id = p.user_id
  WHERE p.balance + COALESCE(h.spent, 0) <> @INITIAL@ OR COALESCE(h.spent, 0) <> COALESCE(o.total, 0);
SELECT 'stock', COUNT(*) FROM inventory i
  LEFT JOIN (SELECT product_id, SUM(quantity) AS sold FROM order_item GROUP BY product_id) s
    ON s.product_id = i.product_id
  WHERE i.stock + COALESCE(s.sold, 0) <> @INITIAL@;
SELECT 'outbox', (SELECT COUNT(*) FROM orders o
                    LEFT JOIN (SELECT order_id, COUNT(*) AS n FROM outbox WHERE type = 'ORDER_PAID'
                               GROUP BY order_id) e ON e.order_id = o.id
                    WHERE COALESCE(e.n, 0) <> 1)
               + (SELECT COUNT(*) FROM outbox e LEFT JOIN orders o ON o.id = e.order_id
                    WHERE o.id IS NULL);
SELECT 'items', COUNT(*) FROM orders o
  LEFT JOIN (SELECT order_id, COUNT(*) AS n, SUM(amount) AS amount FROM order_item
             GROUP BY order_id) i ON i.order_id = o.id
  WHERE COALESCE(i.n, 0) <> 1 OR i.amount <> o.total;
SELECT 'history', COUNT(*) FROM orders o
  LEFT JOIN (SELECT order_id, COUNT(*) AS n FROM point_history WHERE type = 'USE'
             GROUP BY order_id) h ON h.order_id = o.id
  WHERE COALESCE(h.n, 0) <> 1;
SELECT 'orders', COUNT(*) FROM orders;
