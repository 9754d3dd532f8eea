-- bench/lib/popular.sh popular_history: @ORDERS@ orders of @PER_ORDER@ items each, spread
-- evenly over @DAYS@ days from 2020-01-01 (one in 20 cancelled), on the bench's @USERS@ users
-- and @PRODUCTS@ products.
DELETE FROM order_item; DELETE FROM orders;
INSERT INTO orders (id, user_id, status, payment_status, subtotal, discount, total, balance_after, created_at)
  SELECT seq, 1 + seq % @USERS@, IF(seq % 20 = 0, 'CANCELLED', 'PAID'), 'PAID', 5, 0, 5, 0,
         TIMESTAMP('2020-01-01') + INTERVAL FLOOR((seq - 1) * (@DAYS@ * 86400.0 / @ORDERS@)) SECOND
  FROM seq_1_to_@ORDERS@;
INSERT INTO order_item (order_id, line_no, product_id, name, quantity, unit_price, amount)
  SELECT o.seq, l.seq, 1 + (o.seq * 7 + l.seq * 13) % @PRODUCTS@, 'p', 1 + l.seq % 3, 1, 1 + l.seq % 3
  FROM seq_1_to_@ORDERS@ o JOIN seq_1_to_@PER_ORDER@ l;
ANALYZE TABLE orders, order_item;
