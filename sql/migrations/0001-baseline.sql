-- online: yes
-- step: expand
-- The schema of release 0.1.0, as its sql/schema.sql left a database (less that file's block
-- that upgraded the schemas of earlier development versions). It only creates what is missing
-- and replaces the view and the two order procedures with themselves, so it could run while
-- orders flow; on a database that 0.1.0's schema.sql made, commerce-migrate recognises the
-- schema and records this migration without running it.
--
-- All times are DATETIME(3) in UTC (every connection sets time_zone '+00:00').
-- Money and stock are BIGINT won / units; CHECK constraints back the rules the
-- service enforces, so a bug cannot drive a balance or a stock negative.
-- Foreign keys are kept off the hot order tables on purpose: their shared
-- locks on parent rows would add lock edges outside the documented global
-- lock order (point -> user coupon -> inventory; see src/store/orders.h).
CREATE TABLE IF NOT EXISTS users (
  id         BIGINT       NOT NULL AUTO_INCREMENT,
  name       VARCHAR(100) NOT NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The balance: one row per user, locked FOR UPDATE by every change.
CREATE TABLE IF NOT EXISTS point (
  user_id    BIGINT      NOT NULL,
  balance    BIGINT      NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (user_id),
  CONSTRAINT point_balance_nonneg CHECK (balance >= 0)
) ENGINE=InnoDB;

-- Exactly one row per balance change, written in the same transaction.
CREATE TABLE IF NOT EXISTS point_history (
  id            BIGINT      NOT NULL AUTO_INCREMENT,
  user_id       BIGINT      NOT NULL,
  type          ENUM('CHARGE','USE','REFUND') NOT NULL,
  amount        BIGINT      NOT NULL,
  balance_after BIGINT      NOT NULL,
  order_id      BIGINT      NULL,
  created_at    DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY point_history_user (user_id, id),
  CONSTRAINT point_history_amount_pos CHECK (amount > 0)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS product (
  id         BIGINT       NOT NULL AUTO_INCREMENT,
  name       VARCHAR(200) NOT NULL,
  price      BIGINT       NOT NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  CONSTRAINT product_price_nonneg CHECK (price >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Stock lives apart from the catalogue row, so that order traffic locks only
-- this narrow row and catalogue reads never wait on it.
CREATE TABLE IF NOT EXISTS inventory (
  product_id BIGINT      NOT NULL,
  stock      BIGINT      NOT NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (product_id),
  CONSTRAINT inventory_stock_nonneg CHECK (stock >= 0)
) ENGINE=InnoDB;

-- Orders. `status` (the order's life) and `payment_status` (the money's) are
-- separate so that refunds and later states fit without overloading one.
-- balance_after / refund_balance_after: the user's balance right after the
-- payment and right after the refund, as the API reports them.
CREATE TABLE IF NOT EXISTS orders (
  id                   BIGINT      NOT NULL AUTO_INCREMENT,
  user_id              BIGINT      NOT NULL,
  status               ENUM('PAID','CANCELLED') NOT NULL,
  payment_status       ENUM('PAID','REFUNDED')  NOT NULL,
  subtotal             BIGINT      NOT NULL,
  discount             BIGINT      NOT NULL DEFAULT 0,
  total                BIGINT      NOT NULL,
  coupon_id            BIGINT      NULL,
  balance_after        BIGINT      NOT NULL,
  refund_balance_after BIGINT      NULL,
  created_at           DATETIME(3) NOT NULL,
  cancelled_at         DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY orders_user (user_id, id),
  KEY orders_created (created_at, status),
  CONSTRAINT orders_total CHECK (total = subtotal - discount AND total >= 0)
) ENGINE=InnoDB;

-- Order ids: taken with the order's first statement (NEXTVAL), so the order's
-- document (with its id) is written in the same round trip as the order.
-- It starts at 1: the first order of a new shop is order 1. commerce_order_write
-- moves it past an id an order already has (error 45063, the caller runs again).
CREATE SEQUENCE IF NOT EXISTS orders_id_seq START WITH 1 INCREMENT BY 1 CACHE 1000;

-- One row per line, in the order the client sent them; name and unit price
-- are copied at order time.
CREATE TABLE IF NOT EXISTS order_item (
  order_id   BIGINT       NOT NULL,
  line_no    SMALLINT     NOT NULL,
  product_id BIGINT       NOT NULL,
  name       VARCHAR(200) NOT NULL,
  quantity   INT          NOT NULL,
  unit_price BIGINT       NOT NULL,
  amount     BIGINT       NOT NULL,
  PRIMARY KEY (order_id, line_no),
  CONSTRAINT order_item_qty CHECK (quantity BETWEEN 1 AND 1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Transactional outbox: written in the order's own transaction, delivered by
-- commerce-relay. payload is the order document; the relay wraps it in the
-- event envelope {"eventId","type","occurredAt","order"}.
CREATE TABLE IF NOT EXISTS outbox (
  id              BIGINT      NOT NULL AUTO_INCREMENT,
  event_id        CHAR(36)    NOT NULL,
  type            VARCHAR(32) NOT NULL,
  order_id        BIGINT      NOT NULL,
  payload         MEDIUMTEXT  NOT NULL,
  occurred_at     DATETIME(3) NOT NULL,
  status          ENUM('PENDING','DELIVERED','FAILED') NOT NULL DEFAULT 'PENDING',
  attempts        INT         NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(3) NOT NULL,
  delivered_at    DATETIME(3) NULL,
  last_error      VARCHAR(500) NULL,
  -- the relay (relay_id) whose claim holds the row now; NULL when unclaimed
  claimed_by      VARCHAR(64) NULL,
  -- its last attempt failed because the platform was unwell (not a refusal of
  -- the event): due again at once when the platform answers again
  platform_failed TINYINT(1)  NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY outbox_event (event_id),
  KEY outbox_due (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Idempotency-Key: stored in the same transaction as the effect. `request`
-- is route, path and body; a replay must match it byte for byte.
CREATE TABLE IF NOT EXISTS idempotency_key (
  user_id     BIGINT       NOT NULL,
  idem_key    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request     MEDIUMBLOB   NOT NULL,
  status_code SMALLINT     NOT NULL,
  response    MEDIUMBLOB   NOT NULL,
  created_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (user_id, idem_key),
  KEY idempotency_created (created_at)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS cart_item (
  user_id    BIGINT      NOT NULL,
  product_id BIGINT      NOT NULL,
  quantity   INT         NOT NULL,
  added_at   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (user_id, product_id),
  CONSTRAINT cart_item_qty CHECK (quantity BETWEEN 1 AND 1000)
) ENGINE=InnoDB;

-- First-come coupons. issued_quantity only moves through the conditional
-- UPDATE ... WHERE issued_quantity < total_quantity, and the CHECK makes an
-- over-issue impossible even for a buggy writer.
CREATE TABLE IF NOT EXISTS coupon (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  name            VARCHAR(100) NOT NULL,
  type            ENUM('FIXED','PERCENT') NOT NULL,
  value           BIGINT       NOT NULL,
  total_quantity  BIGINT       NOT NULL,
  issued_quantity BIGINT       NOT NULL DEFAULT 0,
  created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  expires_at      DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  CONSTRAINT coupon_issued CHECK (issued_quantity BETWEEN 0 AND total_quantity),
  CONSTRAINT coupon_value CHECK (value > 0 AND (type = 'FIXED' OR value <= 100))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per (coupon, user): the unique key is the "at most one per user"
-- rule, on any number of hosts.
CREATE TABLE IF NOT EXISTS user_coupon (
  coupon_id     BIGINT      NOT NULL,
  user_id       BIGINT      NOT NULL,
  status        ENUM('AVAILABLE','USED') NOT NULL DEFAULT 'AVAILABLE',
  used_order_id BIGINT      NULL,
  issued_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  used_at       DATETIME(3) NULL,
  PRIMARY KEY (coupon_id, user_id),
  KEY user_coupon_user (user_id, coupon_id)
) ENGINE=InnoDB;

-- Popular products, rebuilt by commerce-popular. Each run writes a new
-- snapshot and repoints popular_current in the same transaction; the API
-- reads current + snapshot + items in one statement, so a reader sees the
-- old list or the new one, never a mix or an empty one. popular_current's
-- single row is also what two concurrent runs serialise on.
CREATE TABLE IF NOT EXISTS popular_snapshot (
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  as_of       DATE        NOT NULL,
  from_day    DATE        NOT NULL,
  to_day      DATE        NOT NULL,
  days        INT         NOT NULL,
  computed_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS popular_item (
  snapshot_id   BIGINT  NOT NULL,
  `rank`        TINYINT NOT NULL,
  product_id    BIGINT  NOT NULL,
  sold_quantity BIGINT  NOT NULL,
  PRIMARY KEY (snapshot_id, `rank`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS popular_current (
  id          TINYINT NOT NULL,
  snapshot_id BIGINT  NULL,
  PRIMARY KEY (id),
  CONSTRAINT popular_current_one CHECK (id = 1)
) ENGINE=InnoDB;
INSERT IGNORE INTO popular_current (id, snapshot_id) VALUES (1, NULL);

-- The replicas' lag (src/store/replicas.h): commerce-relay writes NOW(6) here
-- every 100 ms; on a replica, NOW(6) minus this row is how far behind it is.
CREATE TABLE IF NOT EXISTS commerce_heartbeat (
  id TINYINT     NOT NULL,
  at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  CONSTRAINT commerce_heartbeat_one CHECK (id = 1)
) ENGINE=InnoDB;
INSERT IGNORE INTO commerce_heartbeat (id, at) VALUES (1, UTC_TIMESTAMP(6));

-- The payment of each order from the balance: the order row's payment columns.
CREATE OR REPLACE VIEW payment AS
  SELECT id AS order_id, user_id, total AS amount, payment_status AS status,
         created_at, IF(payment_status = 'REFUNDED', cancelled_at, NULL) AS refunded_at
  FROM orders;

-- The order transaction's two round trips (src/store/orders.c). They run with
-- the caller's rights (SQL SECURITY INVOKER: commerce_fcgi's grants apply).
-- The rules are decided in C between the two (src/core/order.c); these only
-- read and write. Errors of their own: 45062 (the Idempotency-Key is taken),
-- 45025 (a stock would go below zero), 45063 (the order id was taken: the
-- sequence was moved past it, run again).
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
END //

DELIMITER ;
