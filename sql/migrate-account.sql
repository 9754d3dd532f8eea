-- commerce: the account that changes the schema, commerce_migrate (commerce-migrate(8) runs
-- as it). It may create, alter and drop the shop's tables, views, procedures and sequences
-- and move data between them; nothing outside the shop's database, and no grants. No
-- program of the service has these rights: the workers, the relay and the batch connect as
-- the accounts grants.sql makes.
--
-- Apply it as an administrator, in the shop's database, once (on a new host before the
-- first `commerce-migrate apply`; when upgrading from 0.1.0, before the first migration),
-- with the password and the host commerce-migrate connects from set in the session first:
--   mariadb commerce <<'SQL'
--   SET @migrate_password = '…', @account_host = 'localhost';
--   SOURCE /usr/share/commerce/sql/migrate-account.sql
--   SQL
-- (a here-document or a pipe: never put a password on a command line). Applying it again
-- sets the password and the rights anew.

DELIMITER //
BEGIN NOT ATOMIC
  DECLARE host VARCHAR(255) DEFAULT COALESCE(@account_host, 'localhost');
  DECLARE who VARCHAR(300);
  DECLARE CONTINUE HANDLER FOR 1141 BEGIN END; -- no grant to revoke yet
  IF COALESCE(@migrate_password, '') = '' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
      'set @migrate_password before applying migrate-account.sql';
  END IF;
  IF DATABASE() IS NULL THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'apply migrate-account.sql in the shop''s database';
  END IF;
  SET who = CONCAT('''commerce_migrate''@', QUOTE(host));
  EXECUTE IMMEDIATE CONCAT('CREATE USER IF NOT EXISTS ', who);
  EXECUTE IMMEDIATE CONCAT('ALTER USER ', who, ' IDENTIFIED BY ', QUOTE(@migrate_password));
  EXECUTE IMMEDIATE CONCAT('REVOKE ALL PRIVILEGES ON `', REPLACE(DATABASE(), '`', '``'), '`.* FROM ',
                           who);
  -- Schema changes (DDL), the data moves a migration may make, and GET_LOCK (needs no right),
  -- on this database only. Not GRANT OPTION, not the server's administration.
  EXECUTE IMMEDIATE CONCAT('GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, ',
    'REFERENCES, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE, TRIGGER, ',
    'CREATE TEMPORARY TABLES, LOCK TABLES ON `', REPLACE(DATABASE(), '`', '``'), '`.* TO ', who);
END //
DELIMITER ;
