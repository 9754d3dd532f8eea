-- The schema of a new commerce database: what `commerce-migrate apply` makes of the migrations
-- in sql/migrations/, as MariaDB shows it (SHOW CREATE; no AUTO_INCREMENT counters, no
-- DEFINER). The why of each table, column and procedure is in the migration that made it.
--
-- Generated: do not edit it, and do not apply it (commerce-migrate makes and upgrades
-- schemas). To change the schema, add a migration (HACKING.md, "Adding a migration"), then
-- rewrite this file from a stack made with it: scripts/schema.py check --write --socket
-- DIR/run/db.sock --db commerce. scripts/test fails while it is out of date.

-- table cart_item
CREATE TABLE `cart_item` (
  `user_id` bigint(20) NOT NULL,
  `product_id` bigint(20) NOT NULL,
  `quantity` int(11) NOT NULL,
  `added_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  `updated_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`user_id`,`product_id`),
  CONSTRAINT `cart_item_qty` CHECK (`quantity` between 1 and 1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table commerce_heartbeat
CREATE TABLE `commerce_heartbeat` (
  `id` tinyint(4) NOT NULL,
  `at` datetime(6) NOT NULL,
  `semi_sync` tinyint(4) DEFAULT NULL,
  `semi_sync_clients` int(11) DEFAULT NULL,
  `semi_sync_timeout_ms` int(11) DEFAULT NULL,
  `semi_sync_at` datetime(6) DEFAULT NULL,
  `acked_beat_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `commerce_heartbeat_one` CHECK (`id` = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table coupon
CREATE TABLE `coupon` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `type` enum('FIXED','PERCENT') NOT NULL,
  `value` bigint(20) NOT NULL,
  `total_quantity` bigint(20) NOT NULL,
  `issued_quantity` bigint(20) NOT NULL DEFAULT 0,
  `created_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  `expires_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `coupon_issued` CHECK (`issued_quantity` between 0 and `total_quantity`),
  CONSTRAINT `coupon_value` CHECK (`value` > 0 and (`type` = 'FIXED' or `value` <= 100))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table idempotency_key
CREATE TABLE `idempotency_key` (
  `user_id` bigint(20) NOT NULL,
  `idem_key` varchar(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `request` mediumblob NOT NULL,
  `status_code` smallint(6) NOT NULL,
  `response` mediumblob NOT NULL,
  `created_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`user_id`,`idem_key`),
  KEY `idempotency_created` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table inventory
CREATE TABLE `inventory` (
  `product_id` bigint(20) NOT NULL,
  `stock` bigint(20) NOT NULL,
  `updated_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`product_id`),
  CONSTRAINT `inventory_stock_nonneg` CHECK (`stock` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table orders
CREATE TABLE `orders` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `user_id` bigint(20) NOT NULL,
  `status` enum('PAID','CANCELLED') NOT NULL,
  `payment_status` enum('PAID','REFUNDED') NOT NULL,
  `subtotal` bigint(20) NOT NULL,
  `discount` bigint(20) NOT NULL DEFAULT 0,
  `total` bigint(20) NOT NULL,
  `coupon_id` bigint(20) DEFAULT NULL,
  `balance_after` bigint(20) NOT NULL,
  `refund_balance_after` bigint(20) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  `cancelled_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `orders_user` (`user_id`,`id`),
  KEY `orders_created` (`created_at`,`status`),
  CONSTRAINT `orders_total` CHECK (`total` = `subtotal` - `discount` and `total` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table order_item
CREATE TABLE `order_item` (
  `order_id` bigint(20) NOT NULL,
  `line_no` smallint(6) NOT NULL,
  `product_id` bigint(20) NOT NULL,
  `name` varchar(200) NOT NULL,
  `quantity` int(11) NOT NULL,
  `unit_price` bigint(20) NOT NULL,
  `amount` bigint(20) NOT NULL,
  PRIMARY KEY (`order_id`,`line_no`),
  CONSTRAINT `order_item_qty` CHECK (`quantity` between 1 and 1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table outbox
CREATE TABLE `outbox` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `event_id` char(36) NOT NULL,
  `type` varchar(32) NOT NULL,
  `order_id` bigint(20) NOT NULL,
  `payload` mediumtext NOT NULL,
  `occurred_at` datetime(3) NOT NULL,
  `status` enum('PENDING','DELIVERED','FAILED') NOT NULL DEFAULT 'PENDING',
  `attempts` int(11) NOT NULL DEFAULT 0,
  `next_attempt_at` datetime(3) NOT NULL,
  `delivered_at` datetime(3) DEFAULT NULL,
  `last_error` varchar(500) DEFAULT NULL,
  `claimed_by` varchar(64) DEFAULT NULL,
  `platform_failed` tinyint(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `outbox_event` (`event_id`),
  KEY `outbox_due` (`status`,`next_attempt_at`),
  KEY `outbox_order` (`order_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table point
CREATE TABLE `point` (
  `user_id` bigint(20) NOT NULL,
  `balance` bigint(20) NOT NULL DEFAULT 0,
  `updated_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`user_id`),
  CONSTRAINT `point_balance_nonneg` CHECK (`balance` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table point_history
CREATE TABLE `point_history` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `user_id` bigint(20) NOT NULL,
  `type` enum('CHARGE','USE','REFUND') NOT NULL,
  `amount` bigint(20) NOT NULL,
  `balance_after` bigint(20) NOT NULL,
  `order_id` bigint(20) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`id`),
  KEY `point_history_user` (`user_id`,`id`),
  CONSTRAINT `point_history_amount_pos` CHECK (`amount` > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table popular_current
CREATE TABLE `popular_current` (
  `id` tinyint(4) NOT NULL,
  `snapshot_id` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `popular_current_one` CHECK (`id` = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table popular_item
CREATE TABLE `popular_item` (
  `snapshot_id` bigint(20) NOT NULL,
  `rank` tinyint(4) NOT NULL,
  `product_id` bigint(20) NOT NULL,
  `sold_quantity` bigint(20) NOT NULL,
  PRIMARY KEY (`snapshot_id`,`rank`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table popular_snapshot
CREATE TABLE `popular_snapshot` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `as_of` date NOT NULL,
  `from_day` date NOT NULL,
  `to_day` date NOT NULL,
  `days` int(11) NOT NULL,
  `computed_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table product
CREATE TABLE `product` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(200) NOT NULL,
  `price` bigint(20) NOT NULL,
  `created_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  `updated_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`id`),
  CONSTRAINT `product_price_nonneg` CHECK (`price` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table schema_migration
CREATE TABLE `schema_migration` (
  `id` int(11) NOT NULL COMMENT 'NNNN of sql/migrations/NNNN-name.sql',
  `name` varchar(96) NOT NULL COMMENT 'the file name without .sql',
  `checksum` char(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL COMMENT 'SHA-256 of the file',
  `online` tinyint(1) NOT NULL COMMENT 'it may run while orders flow',
  `breaks_below` int(11) DEFAULT NULL COMMENT 'a contract step: programs that need an older schema stop working',
  `how` enum('applied','recognised') NOT NULL COMMENT 'recognised: made by 0.1.0''s schema.sql, recorded without running',
  `applied_at` datetime(3) NOT NULL DEFAULT current_timestamp(3) COMMENT 'UTC',
  `applied_by` varchar(200) NOT NULL COMMENT 'the account and the program',
  `duration_ms` bigint(20) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table users
CREATE TABLE `users` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `created_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- table user_coupon
CREATE TABLE `user_coupon` (
  `coupon_id` bigint(20) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `status` enum('AVAILABLE','USED') NOT NULL DEFAULT 'AVAILABLE',
  `used_order_id` bigint(20) DEFAULT NULL,
  `issued_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),
  `used_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`coupon_id`,`user_id`),
  KEY `user_coupon_user` (`user_id`,`coupon_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- sequence orders_id_seq
CREATE SEQUENCE `orders_id_seq` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB;

-- view payment
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `payment` AS select `orders`.`id` AS `order_id`,`orders`.`user_id` AS `user_id`,`orders`.`total` AS `amount`,`orders`.`payment_status` AS `status`,`orders`.`created_at` AS `created_at`,if(`orders`.`payment_status` = 'REFUNDED',`orders`.`cancelled_at`,NULL) AS `refunded_at` from `orders`;

-- procedure commerce_order_facts (sql_mode STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION)
DELIMITER //
CREATE PROCEDURE `commerce_order_facts`(p_begin BOOLEAN, p_user BIGINT, p_coupon BIGINT,
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
DELIMITER ;

-- procedure commerce_order_write (sql_mode STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION)
DELIMITER //
CREATE PROCEDURE `commerce_order_write`(
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
