-- online: yes
-- The order procedures check the primary's semi-synchronous replication state when the
-- worker runs with replication_policy = durability (it sets @commerce_durable at connect):
-- commerce_order_facts refuses (45503) while no replica acknowledges commits, and
-- commerce_order_write, after its COMMIT, signals 45504 when a commit went unacknowledged
-- meanwhile (issue 17). Expand step: the signatures are unchanged, and the previous
-- release's workers never set @commerce_durable, so for them the procedures do what they did.
-- The order transaction's two round trips (src/store/orders.c). They run with
-- the caller's rights (SQL SECURITY INVOKER: commerce_fcgi's grants apply).
-- The rules are decided in C between the two (src/core/order.c); these only
-- read and write. Errors of their own: 45062 (the Idempotency-Key is taken),
-- 45025 (a stock would go below zero), 45063 (the order id was taken: the
-- sequence was moved past it, run again); with replication_policy = durability
-- (@commerce_durable set by the worker), 45503 (no replica acknowledges: nothing
-- done) and 45504 (committed, but no replica acknowledged it in time).
DELIMITER //

-- Start the transaction (p_begin: unless the caller has, e.g. a checkout that
-- locked its cart first); lock the buyer's point row (the global lock order:
-- point -> user coupon -> inventory) and read the clock once it is held; lock
-- the user coupon and read the coupon's terms; take the new order's id; and
-- answer one row per product with all of these and the product's name, price
-- and stock, read without a lock. No row: no product exists. The products:
-- p_product for an order of one line (the common case: constant lookups),
-- else p_ids, a JSON array of ids.
CREATE OR REPLACE PROCEDURE commerce_order_facts(p_begin BOOLEAN, p_user BIGINT, p_coupon BIGINT,
                                                 p_product BIGINT, p_ids TEXT)
SQL SECURITY INVOKER
BEGIN
  DECLARE v_balance BIGINT DEFAULT NULL;
  DECLARE v_at DATETIME(3) DEFAULT NULL;
  DECLARE v_available, v_valid TINYINT DEFAULT 0;
  DECLARE v_value BIGINT DEFAULT NULL;
  DECLARE v_type VARCHAR(8) DEFAULT '';
  DECLARE v_id BIGINT DEFAULT NEXTVAL(orders_id_seq);
  DECLARE v_semi_on, v_semi_clients BIGINT DEFAULT 0;
  -- replication_policy = durability (the worker set @commerce_durable): only while a replica
  -- acknowledges commits, and remember how many went unacknowledged so far (checked after
  -- the COMMIT, in commerce_order_write)
  IF @commerce_durable THEN
    SELECT MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS', VARIABLE_VALUE = 'ON', 0)),
           MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS', CAST(VARIABLE_VALUE AS INT), 0)),
           MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_NO_TX', CAST(VARIABLE_VALUE AS INT), -1))
      INTO v_semi_on, v_semi_clients, @commerce_no_tx
      FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN
        ('RPL_SEMI_SYNC_MASTER_STATUS', 'RPL_SEMI_SYNC_MASTER_CLIENTS', 'RPL_SEMI_SYNC_MASTER_NO_TX');
    IF NOT v_semi_on OR v_semi_clients < 1 THEN
      SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45503,
        MESSAGE_TEXT = 'commerce: no replica acknowledges commits (replication_policy=durability)';
    END IF;
  END IF;
  IF p_begin THEN
    START TRANSACTION;
  END IF;
  SELECT balance, SYSDATE(3) INTO v_balance, v_at FROM point WHERE user_id = p_user FOR UPDATE;
  IF p_coupon IS NOT NULL THEN
    SELECT status = 'AVAILABLE' INTO v_available FROM user_coupon
      WHERE coupon_id = p_coupon AND user_id = p_user FOR UPDATE;
    SELECT value, expires_at > SYSDATE(3), type INTO v_value, v_valid, v_type FROM coupon
      WHERE id = p_coupon;
  END IF;
  IF p_product IS NOT NULL THEN
    SELECT v_balance, v_at, v_available, v_value, v_valid, v_type, v_id,
           p.id, p.price, i.stock, p.name
      FROM product p JOIN inventory i ON i.product_id = p.id WHERE p.id = p_product;
  ELSE
    SELECT v_balance, v_at, v_available, v_value, v_valid, v_type, v_id,
           p.id, p.price, i.stock, p.name
      FROM product p JOIN inventory i ON i.product_id = p.id
      WHERE p.id IN (SELECT j.id FROM JSON_TABLE(p_ids, '$[*]' COLUMNS (id BIGINT PATH '$')) AS j);
  END IF;
END //

-- Write the order decided in C and commit: the order, its items (p_items: a
-- JSON array of {"p","n","q","u","a"} in the client's order), the balance and
-- its USE row, the coupon's USED mark, the ORDER_PAID event, the emptied cart
-- (checkout), the Idempotency-Key with its response, and last the stock of
-- each line in ascending product order: the hot rows are locked only for the
-- end of the transaction. inventory's CHECK (stock >= 0) refuses a short line.
CREATE OR REPLACE PROCEDURE commerce_order_write(
  p_order BIGINT, p_user BIGINT, p_subtotal BIGINT, p_discount BIGINT, p_total BIGINT,
  p_coupon BIGINT, p_balance BIGINT, p_at DATETIME(3), p_items MEDIUMTEXT,
  p_event CHAR(36), p_payload MEDIUMTEXT,
  p_key VARCHAR(255) CHARACTER SET ascii, p_request MEDIUMBLOB, p_response MEDIUMBLOB,
  p_cart_user BIGINT)
SQL SECURITY INVOKER
BEGIN
  BEGIN
    DECLARE m BIGINT;
    DECLARE EXIT HANDLER FOR 1062
    BEGIN
      SELECT COALESCE(MAX(id), 0) INTO m FROM orders LOCK IN SHARE MODE;
      EXECUTE IMMEDIATE CONCAT('DO SETVAL(orders_id_seq, ', m + 1000, ')');
      SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45063,
        MESSAGE_TEXT = 'commerce: the order id was taken; run again';
    END;
    INSERT INTO orders (id, user_id, status, payment_status, subtotal, discount, total, coupon_id,
                        balance_after, created_at)
      VALUES (p_order, p_user, 'PAID', 'PAID', p_subtotal, p_discount, p_total, p_coupon,
              p_balance, p_at);
  END;
  IF JSON_LENGTH(p_items) = 1 THEN
    INSERT INTO order_item (order_id, line_no, product_id, name, quantity, unit_price, amount)
      VALUES (p_order, 1, JSON_VALUE(p_items, '$[0].p'), JSON_VALUE(p_items, '$[0].n'),
              JSON_VALUE(p_items, '$[0].q'), JSON_VALUE(p_items, '$[0].u'),
              JSON_VALUE(p_items, '$[0].a'));
  ELSE
    INSERT INTO order_item (order_id, line_no, product_id, name, quantity, unit_price, amount)
      SELECT p_order, j.line_no, j.p, j.n, j.q, j.u, j.a FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
        line_no FOR ORDINALITY, p BIGINT PATH '$.p', n VARCHAR(200) PATH '$.n', q INT PATH '$.q',
        u BIGINT PATH '$.u', a BIGINT PATH '$.a')) AS j;
  END IF;
  IF p_total > 0 THEN
    UPDATE point SET balance = p_balance, updated_at = p_at WHERE user_id = p_user;
    INSERT INTO point_history (user_id, type, amount, balance_after, order_id, created_at)
      VALUES (p_user, 'USE', p_total, p_balance, p_order, p_at);
  END IF;
  IF p_coupon IS NOT NULL THEN
    UPDATE user_coupon SET status = 'USED', used_order_id = p_order, used_at = p_at
      WHERE coupon_id = p_coupon AND user_id = p_user;
  END IF;
  INSERT INTO outbox (event_id, type, order_id, payload, occurred_at, next_attempt_at)
    VALUES (p_event, 'ORDER_PAID', p_order, p_payload, p_at, p_at);
  IF p_cart_user IS NOT NULL THEN
    DELETE FROM cart_item WHERE user_id = p_cart_user;
  END IF;
  IF p_key IS NOT NULL THEN
    BEGIN
      DECLARE EXIT HANDLER FOR 1062
        SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45062,
          MESSAGE_TEXT = 'commerce: this Idempotency-Key is taken';
      INSERT INTO idempotency_key (user_id, idem_key, request, status_code, response)
        VALUES (p_user, p_key, p_request, 201, p_response);
    END;
  END IF;
  BEGIN
    DECLARE EXIT HANDLER FOR 4025
      SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45025, MESSAGE_TEXT = 'commerce: out of stock';
    IF JSON_LENGTH(p_items) = 1 THEN
      UPDATE inventory SET stock = stock - JSON_VALUE(p_items, '$[0].q'), updated_at = p_at
        WHERE product_id = JSON_VALUE(p_items, '$[0].p');
      IF ROW_COUNT() = 0 THEN
        SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45025, MESSAGE_TEXT = 'commerce: out of stock';
      END IF;
    ELSE
      FOR r IN (SELECT j.p, j.q FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
                  p BIGINT PATH '$.p', q INT PATH '$.q')) AS j ORDER BY j.p) DO
        UPDATE inventory SET stock = stock - r.q, updated_at = p_at WHERE product_id = r.p;
        IF ROW_COUNT() = 0 THEN
          SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45025, MESSAGE_TEXT = 'commerce: out of stock';
        END IF;
      END FOR;
    END IF;
  END;
  COMMIT;
  -- durability: answered as of unknown outcome when a commit went unacknowledged meanwhile
  -- (this one may exist on the primary only)
  IF @commerce_durable THEN
    IF (SELECT CAST(VARIABLE_VALUE AS INT) FROM information_schema.GLOBAL_STATUS
        WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_NO_TX') <> @commerce_no_tx THEN
      SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 45504,
        MESSAGE_TEXT = 'commerce: committed, but no replica acknowledged it in time';
    END IF;
  END IF;
END //

DELIMITER ;
