-- commerce: one MariaDB account per program, each with only the rights it needs.
--
--   commerce_fcgi     the FastCGI workers: the shop's tables, row by row (no DDL,
--                     no DELETE but for cart lines; reads the popular tables)
--   commerce_relay    commerce-relay: the outbox (claim, record, purge), and the purge
--                     of old Idempotency-Keys
--   commerce_popular  commerce-popular: reads orders and order items, writes the
--                     popular tables
--   commerce_read     the workers' connections to replicas (catalog reads): SELECT on
--                     the catalog only; made when @read_password is set
--
-- Apply it as an administrator, after schema.sql, in the shop's database, with the
-- passwords and the host the programs connect from set in the session first, e.g.
--   mariadb commerce <<'SQL'
--   SET @fcgi_password = '…', @relay_password = '…', @popular_password = '…',
--       @account_host = 'localhost';
--   SOURCE /usr/share/commerce/sql/grants.sql
--   SQL
-- (a here-document or a pipe: never put passwords on a command line). @account_host
-- is 'localhost' for the unix socket, or the workers' network ('10.0.0.%') over TCP.
-- Applying it again sets the passwords and the exact grants anew: rights a
-- previous version granted and this one does not are revoked.

DELIMITER //
BEGIN NOT ATOMIC
  DECLARE host VARCHAR(255) DEFAULT COALESCE(@account_host, 'localhost');
  IF @fcgi_password IS NULL OR @relay_password IS NULL OR @popular_password IS NULL
     OR @fcgi_password = '' OR @relay_password = '' OR @popular_password = '' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
      'set @fcgi_password, @relay_password and @popular_password before applying grants.sql';
  END IF;
  IF DATABASE() IS NULL THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'apply grants.sql in the shop''s database';
  END IF;
  EXECUTE IMMEDIATE CONCAT('CREATE USER IF NOT EXISTS ''commerce_fcgi''@', QUOTE(host));
  EXECUTE IMMEDIATE CONCAT('CREATE USER IF NOT EXISTS ''commerce_relay''@', QUOTE(host));
  EXECUTE IMMEDIATE CONCAT('CREATE USER IF NOT EXISTS ''commerce_popular''@', QUOTE(host));
  EXECUTE IMMEDIATE CONCAT('ALTER USER ''commerce_fcgi''@', QUOTE(host),
                           ' IDENTIFIED BY ', QUOTE(@fcgi_password));
  EXECUTE IMMEDIATE CONCAT('ALTER USER ''commerce_relay''@', QUOTE(host),
                           ' IDENTIFIED BY ', QUOTE(@relay_password));
  EXECUTE IMMEDIATE CONCAT('ALTER USER ''commerce_popular''@', QUOTE(host),
                           ' IDENTIFIED BY ', QUOTE(@popular_password));
  EXECUTE IMMEDIATE CONCAT('REVOKE ALL PRIVILEGES, GRANT OPTION FROM ''commerce_fcgi''@',
                           QUOTE(host), ', ''commerce_relay''@', QUOTE(host),
                           ', ''commerce_popular''@', QUOTE(host));
  IF COALESCE(@read_password, '') <> '' THEN
    EXECUTE IMMEDIATE CONCAT('CREATE USER IF NOT EXISTS ''commerce_read''@', QUOTE(host));
    EXECUTE IMMEDIATE CONCAT('ALTER USER ''commerce_read''@', QUOTE(host),
                             ' IDENTIFIED BY ', QUOTE(@read_password));
    EXECUTE IMMEDIATE CONCAT('REVOKE ALL PRIVILEGES, GRANT OPTION FROM ''commerce_read''@',
                             QUOTE(host));
  END IF;
  SET @commerce_db = DATABASE();
END //

-- One GRANT per program and table, in the current database.
CREATE OR REPLACE PROCEDURE commerce_grant(who VARCHAR(64), privs VARCHAR(255), tbl VARCHAR(64))
BEGIN
  EXECUTE IMMEDIATE CONCAT('GRANT ', privs, ' ON `', REPLACE(@commerce_db, '`', '``'), '`.`', tbl,
                           '` TO ''', who, '''@', QUOTE(COALESCE(@account_host, 'localhost')));
END //
DELIMITER ;

-- The workers.
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT', 'users');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'point');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT', 'point_history');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'product');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'inventory');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'orders');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT', 'order_item');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT', 'orders_id_seq');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'outbox');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT', 'idempotency_key');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE, DELETE', 'cart_item');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'coupon');
CALL commerce_grant('commerce_fcgi', 'SELECT, INSERT, UPDATE', 'user_coupon');
CALL commerce_grant('commerce_fcgi', 'SELECT', 'popular_snapshot');
CALL commerce_grant('commerce_fcgi', 'SELECT', 'popular_item');
CALL commerce_grant('commerce_fcgi', 'SELECT', 'popular_current');
-- the order transaction's procedures (they run with the caller's rights)
EXECUTE IMMEDIATE CONCAT('GRANT EXECUTE ON PROCEDURE `', REPLACE(DATABASE(), '`', '``'),
  '`.commerce_order_facts TO ''commerce_fcgi''@', QUOTE(COALESCE(@account_host, 'localhost')));
EXECUTE IMMEDIATE CONCAT('GRANT EXECUTE ON PROCEDURE `', REPLACE(DATABASE(), '`', '``'),
  '`.commerce_order_write TO ''commerce_fcgi''@', QUOTE(COALESCE(@account_host, 'localhost')));

-- The relay: claims, outcomes, replay and the purge of delivered events; the purge
-- of Idempotency-Keys past their retention.
CALL commerce_grant('commerce_relay', 'SELECT, UPDATE, DELETE', 'outbox');
CALL commerce_grant('commerce_relay', 'SELECT, DELETE', 'idempotency_key');
-- the replicas' lag: NOW(6) written every 100 ms (src/store/replicas.h)
CALL commerce_grant('commerce_relay', 'SELECT, UPDATE', 'commerce_heartbeat');

-- The nightly batch.
CALL commerce_grant('commerce_popular', 'SELECT', 'orders');
CALL commerce_grant('commerce_popular', 'SELECT', 'order_item');
CALL commerce_grant('commerce_popular', 'SELECT, INSERT, DELETE', 'popular_snapshot');
CALL commerce_grant('commerce_popular', 'SELECT, INSERT, DELETE', 'popular_item');
CALL commerce_grant('commerce_popular', 'SELECT, UPDATE', 'popular_current');

-- Catalog reads on replicas: the catalog and the heartbeat, nothing else, read only.
-- (The replica itself runs read_only; the account could not write even on the primary.)
DELIMITER //
BEGIN NOT ATOMIC
  IF COALESCE(@read_password, '') <> '' THEN
    CALL commerce_grant('commerce_read', 'SELECT', 'product');
    CALL commerce_grant('commerce_read', 'SELECT', 'inventory');
    CALL commerce_grant('commerce_read', 'SELECT', 'coupon');
    CALL commerce_grant('commerce_read', 'SELECT', 'popular_snapshot');
    CALL commerce_grant('commerce_read', 'SELECT', 'popular_item');
    CALL commerce_grant('commerce_read', 'SELECT', 'popular_current');
    CALL commerce_grant('commerce_read', 'SELECT', 'commerce_heartbeat');
  END IF;
END //
DELIMITER ;

DROP PROCEDURE commerce_grant;
