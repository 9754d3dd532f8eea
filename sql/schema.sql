-- commerce schema. Idempotent: safe to apply to an existing database.
-- All times are DATETIME(3) in UTC (every connection sets time_zone '+00:00').
-- Money and stock are BIGINT won / units; CHECK constraints back the rules the
-- service enforces, so a bug cannot drive a balance or a stock negative.
-- Foreign keys are kept off the hot order tables on purpose: their shared
-- locks on parent rows would add lock edges outside the documented global
-- lock order (inventory -> user coupon -> point).

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
