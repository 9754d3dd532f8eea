-- bench/lib/common.sh load_data: @USERS@ users and @PRODUCTS@ products with more balance and
-- stock than any run can use, and no orders (TRUNCATE: no purge of deleted rows runs in the
-- background of the next run).
SET SESSION foreign_key_checks = 0;
TRUNCATE outbox; TRUNCATE order_item; TRUNCATE cart_item; TRUNCATE idempotency_key; TRUNCATE orders;
TRUNCATE point_history; TRUNCATE point; TRUNCATE users;
TRUNCATE inventory; TRUNCATE product;
INSERT INTO users (id, name) SELECT seq, CONCAT('bench ', seq) FROM seq_1_to_@USERS@;
INSERT INTO point (user_id, balance) SELECT seq, 1000000000 FROM seq_1_to_@USERS@;
INSERT INTO product (id, name, price) SELECT seq, CONCAT('Product ', seq), 1 FROM seq_1_to_@PRODUCTS@;
INSERT INTO inventory (product_id, stock) SELECT seq, 1000000000 FROM seq_1_to_@PRODUCTS@;
