-- Demo data for the dev stack (scripts/dev-up loads it into an empty database).
-- Five users with a charged balance (each balance backed by its history row)
-- and 1,000 products with stock.

INSERT INTO users (id, name) VALUES
  (1, 'kim'), (2, 'lee'), (3, 'park'), (4, 'choi'), (5, 'jung');

INSERT INTO point (user_id, balance) VALUES
  (1, 100000), (2, 50000), (3, 20000), (4, 5000), (5, 0);

INSERT INTO point_history (user_id, type, amount, balance_after) VALUES
  (1, 'CHARGE', 100000, 100000), (2, 'CHARGE', 50000, 50000),
  (3, 'CHARGE', 20000, 20000), (4, 'CHARGE', 5000, 5000);

INSERT INTO product (id, name, price)
  SELECT seq, CONCAT('Product ', seq), 1000 + (seq * 37 % 90) * 100 FROM seq_1_to_1000;

INSERT INTO inventory (product_id, stock)
  SELECT seq, 10 + (seq * 13 % 91) FROM seq_1_to_1000;
