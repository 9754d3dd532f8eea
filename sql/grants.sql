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
-- Apply it as an administrator, after commerce-migrate apply, in the shop's database, with the
-- passwords and the host the programs connect from set in the session first, e.g.
--   mariadb commerce <<'SQL'
--   SET @fcgi_password = '…', @relay_password = '…', @popular_password = '…',
--       @account_host = 'localhost';
--   SOURCE /usr/share/commerce/sql/grants.sql
--   SQL
-- (a here-document or a pipe: never put passwords on a command line). @account_host
-- is 'localhost' for the unix socket, or the workers' network ('10.0.0.%') over TCP.
-- Applying it again sets the passwords and the exact grants anew: rights a
-- previous version granted and this one does not are revoked. It grants first and
-- revokes what is no longer wanted last, so the running programs never miss a right
-- they use: it may be applied while orders flow (an upgrade does, after
-- commerce-migrate apply).

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
  IF COALESCE(@read_password, '') <> '' THEN
    EXECUTE IMMEDIATE CONCAT('CREATE USER IF NOT EXISTS ''commerce_read''@', QUOTE(host));
    EXECUTE IMMEDIATE CONCAT('ALTER USER ''commerce_read''@', QUOTE(host),
                             ' IDENTIFIED BY ', QUOTE(@read_password));
  END IF;
  SET @commerce_db = DATABASE();
  -- every right granted below, so that the end of the file revokes the others
  CREATE OR REPLACE TEMPORARY TABLE commerce_wanted (
    grantee VARCHAR(200) NOT NULL, obj VARCHAR(64) NOT NULL, privs VARCHAR(255) NOT NULL);
END //

-- One GRANT per program and table (or procedure: EXECUTE), in the current database.
CREATE OR REPLACE PROCEDURE commerce_grant(who VARCHAR(64), privs VARCHAR(255), tbl VARCHAR(64))
BEGIN
  DECLARE grantee VARCHAR(200) DEFAULT
    CONCAT(QUOTE(who), '@', QUOTE(COALESCE(@account_host, 'localhost')));
  EXECUTE IMMEDIATE CONCAT('GRANT ', privs, ' ON ', IF(privs = 'EXECUTE', 'PROCEDURE ', ''),
                           '`', REPLACE(@commerce_db, '`', '``'), '`.`', tbl, '` TO ', grantee);
  INSERT INTO commerce_wanted VALUES (grantee, tbl, REPLACE(UPPER(privs), ' ', ''));
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
CALL commerce_grant('commerce_fcgi', 'EXECUTE', 'commerce_order_facts');
CALL commerce_grant('commerce_fcgi', 'EXECUTE', 'commerce_order_write');
-- The schema's version, read at every connect (src/store/schema.h): every program.
CALL commerce_grant('commerce_fcgi', 'SELECT', 'schema_migration');
CALL commerce_grant('commerce_relay', 'SELECT', 'schema_migration');
CALL commerce_grant('commerce_popular', 'SELECT', 'schema_migration');

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

-- Last, revoke every right of these accounts that was not granted above: on tables,
-- columns, routines, the database and globally, each on its own. The rights the programs
-- use were never away.
DELIMITER //
BEGIN NOT ATOMIC
  DECLARE CONTINUE HANDLER FOR 1141, 1147 BEGIN END; -- gone with an earlier REVOKE
  CREATE OR REPLACE TEMPORARY TABLE commerce_extra (stmt TEXT NOT NULL);
  CREATE OR REPLACE TEMPORARY TABLE commerce_grantee (grantee VARCHAR(200) NOT NULL PRIMARY KEY)
    SELECT DISTINCT grantee FROM commerce_wanted;
  INSERT INTO commerce_extra
    SELECT CONCAT('REVOKE ', p.PRIVILEGE_TYPE, ' ON `', REPLACE(p.TABLE_SCHEMA, '`', '``'), '`.`',
                  REPLACE(p.TABLE_NAME, '`', '``'), '` FROM ', p.GRANTEE)
    FROM information_schema.TABLE_PRIVILEGES p
    LEFT JOIN commerce_wanted w ON w.grantee = p.GRANTEE AND w.obj = p.TABLE_NAME
    WHERE p.GRANTEE IN (SELECT grantee FROM commerce_grantee) AND p.TABLE_SCHEMA = @commerce_db
      AND (w.obj IS NULL OR NOT FIND_IN_SET(REPLACE(p.PRIVILEGE_TYPE, ' ', ''), w.privs));
  INSERT INTO commerce_extra
    SELECT CONCAT('REVOKE ', PRIVILEGE_TYPE, ' (`', COLUMN_NAME, '`) ON `',
                  REPLACE(TABLE_SCHEMA, '`', '``'), '`.`', TABLE_NAME, '` FROM ', GRANTEE)
    FROM information_schema.COLUMN_PRIVILEGES
    WHERE GRANTEE IN (SELECT grantee FROM commerce_grantee) AND TABLE_SCHEMA = @commerce_db;
  INSERT INTO commerce_extra
    SELECT DISTINCT CONCAT('REVOKE ALL PRIVILEGES ON `', REPLACE(TABLE_SCHEMA, '`', '``'),
                           '`.* FROM ', GRANTEE)
    FROM information_schema.SCHEMA_PRIVILEGES
    WHERE GRANTEE IN (SELECT grantee FROM commerce_grantee);
  INSERT INTO commerce_extra
    SELECT DISTINCT CONCAT('REVOKE ALL PRIVILEGES ON *.* FROM ', GRANTEE)
    FROM information_schema.USER_PRIVILEGES
    WHERE GRANTEE IN (SELECT grantee FROM commerce_grantee) AND PRIVILEGE_TYPE <> 'USAGE';
  -- the right to grant, wherever it was given
  INSERT INTO commerce_extra
    SELECT DISTINCT CONCAT('REVOKE GRANT OPTION ON `', REPLACE(TABLE_SCHEMA, '`', '``'), '`.`',
                           REPLACE(TABLE_NAME, '`', '``'), '` FROM ', GRANTEE)
    FROM information_schema.TABLE_PRIVILEGES
    WHERE GRANTEE IN (SELECT grantee FROM commerce_grantee) AND IS_GRANTABLE = 'YES';
  INSERT INTO commerce_extra
    SELECT DISTINCT CONCAT('REVOKE GRANT OPTION ON `', REPLACE(TABLE_SCHEMA, '`', '``'),
                           '`.* FROM ', GRANTEE)
    FROM information_schema.SCHEMA_PRIVILEGES
    WHERE GRANTEE IN (SELECT grantee FROM commerce_grantee) AND IS_GRANTABLE = 'YES';
  INSERT INTO commerce_extra
    SELECT DISTINCT CONCAT('REVOKE GRANT OPTION ON *.* FROM ', GRANTEE)
    FROM information_schema.USER_PRIVILEGES
    WHERE GRANTEE IN (SELECT grantee FROM commerce_grantee) AND IS_GRANTABLE = 'YES';
  INSERT INTO commerce_extra
    SELECT CONCAT('REVOKE ', IF(w.obj IS NULL, 'ALL PRIVILEGES', CONCAT_WS(', ',
                    IF(FIND_IN_SET('Alter Routine', r.Proc_priv), 'ALTER ROUTINE', NULL),
                    IF(FIND_IN_SET('Grant', r.Proc_priv), 'GRANT OPTION', NULL))),
                  ' ON ', r.Routine_type, ' `', REPLACE(r.Db, '`', '``'), '`.`', r.Routine_name,
                  '` FROM ', QUOTE(r.User), '@', QUOTE(r.Host))
    FROM mysql.procs_priv r
    LEFT JOIN commerce_wanted w ON w.grantee = CONCAT(QUOTE(r.User), '@', QUOTE(r.Host))
                                   AND w.obj = r.Routine_name AND r.Db = @commerce_db
    WHERE CONCAT(QUOTE(r.User), '@', QUOTE(r.Host)) IN (SELECT grantee FROM commerce_grantee)
      AND (w.obj IS NULL OR FIND_IN_SET('Alter Routine', r.Proc_priv)
           OR FIND_IN_SET('Grant', r.Proc_priv));
  FOR r IN (SELECT stmt FROM commerce_extra) DO
    EXECUTE IMMEDIATE r.stmt;
  END FOR;
  DROP TEMPORARY TABLE commerce_extra, commerce_grantee, commerce_wanted;
END //
DELIMITER ;

DROP PROCEDURE commerce_grant;
