-- bench/lib/coupons.sh: users @FIRST@..@LAST@ (a balance of 0), so that every request is a
-- first request of its user; coupon 1 with more than any run can issue, coupon 2 sold out.
INSERT INTO users (id, name) SELECT seq, 'bench' FROM seq_@FIRST@_to_@LAST@;
INSERT INTO point (user_id, balance) SELECT seq, 0 FROM seq_@FIRST@_to_@LAST@;
DELETE FROM user_coupon; DELETE FROM coupon;
INSERT INTO coupon (id, name, type, value, total_quantity, expires_at)
  VALUES (1, 'bench', 'FIXED', 100, 1000000000, NOW() + INTERVAL 1 DAY),
         (2, 'sold out', 'FIXED', 100, 1, NOW() + INTERVAL 1 DAY);
UPDATE coupon SET issued_quantity = 1 WHERE id = 2;
