-- Workload behind examples/binlogs/sample.000001 (run by scripts/capture-sample).
-- The seed's ecommerce schema with a realistic mix: inserts, status changes, a
-- high-value order (> 10000), a delete, a multi-statement transaction, one DDL,
-- and XA transactions. SET TIMESTAMP pins event times so re-captures differ
-- only in server ids and checksums of the first events.
SET time_zone = '+00:00';
SET TIMESTAMP = 1735722000;  -- 2025-01-01 09:00:00 UTC

CREATE DATABASE ecommerce DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE ecommerce;

CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  email VARCHAR(255) NOT NULL,
  phone VARCHAR(32) NULL,
  password CHAR(60) NOT NULL,
  status ENUM('active','inactive','banned') NOT NULL DEFAULT 'active',
  created_at DATETIME NOT NULL,
  updated_at TIMESTAMP(3) NULL DEFAULT NULL,
  UNIQUE KEY uk_username (username)
) ENGINE=InnoDB;

CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT UNSIGNED NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  status VARCHAR(20) NOT NULL DEFAULT 'pending',
  created_at DATETIME(6) NOT NULL,
  KEY idx_user (user_id)
) ENGINE=InnoDB;

CREATE TABLE products (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  stock INT NOT NULL DEFAULT 0
) ENGINE=InnoDB;

SET TIMESTAMP = 1735722060;
INSERT INTO users (username, email, phone, password, status, created_at) VALUES
  ('alice', 'alice@example.com', '+1-555-0100', '$2b$12$abcdefghijklmnopqrstuu1234567890abcdefghijklmnopqrstu', 'active', NOW()),
  ('bob', 'bob@example.com', NULL, '$2b$12$bcdefghijklmnopqrstuvv1234567890abcdefghijklmnopqrstu', 'active', NOW()),
  ('张伟', 'zhang.wei@example.cn', '13800138000', '$2b$12$cdefghijklmnopqrstuvww1234567890abcdefghijklmnopqrstu', 'active', NOW()),
  ('emoji_fan', 'fan@example.org', NULL, '$2b$12$defghijklmnopqrstuvwxx1234567890abcdefghijklmnopqrstu', 'inactive', NOW());

SET TIMESTAMP = 1735722120;
INSERT INTO products (name, price, stock) VALUES
  ('Mechanical keyboard', 89.90, 120),
  ('4K monitor 32"', 459.00, 35),
  ('Workstation (dual CPU, 🚀 edition)', 12999.00, 3),
  ('USB-C cable', 9.99, 1000);

SET TIMESTAMP = 1735722180;
INSERT INTO orders (user_id, amount, status, created_at) VALUES
  (1, 179.80, 'pending', NOW(6)),
  (2, 9.99, 'pending', NOW(6));

SET TIMESTAMP = 1735722240;
UPDATE orders SET status = 'paid' WHERE id = 1;
UPDATE users SET status = 'banned', updated_at = NOW(3) WHERE username = 'emoji_fan';

-- A multi-statement transaction: a high-value order, stock and status together.
SET TIMESTAMP = 1735722300;
BEGIN;
INSERT INTO orders (user_id, amount, status, created_at) VALUES (3, 12999.00, 'pending', NOW(6));
UPDATE products SET stock = stock - 1 WHERE id = 3;
UPDATE users SET phone = '13900139000', updated_at = NOW(3) WHERE id = 3;
COMMIT;

SET TIMESTAMP = 1735722360;
UPDATE orders SET status = 'shipped' WHERE id IN (1, 3);
UPDATE products SET price = price * 0.90 WHERE price < 100;

SET TIMESTAMP = 1735722420;
DELETE FROM orders WHERE id = 2;
DELETE FROM users WHERE username = 'bob';

-- One DDL, then rows in the new shape.
SET TIMESTAMP = 1735722480;
ALTER TABLE users ADD COLUMN last_login DATETIME(3) NULL AFTER updated_at;
SET TIMESTAMP = 1735722540;
UPDATE users SET last_login = '2025-01-01 09:09:00.123' WHERE id = 1;

-- An XA transaction, prepared then committed (binlogged in two groups).
SET TIMESTAMP = 1735722600;
XA START 'trx1', 'b1', 1;
INSERT INTO orders (user_id, amount, status, created_at) VALUES (1, 25000.50, 'pending', NOW(6));
UPDATE products SET stock = stock - 2 WHERE id = 2;
XA END 'trx1', 'b1', 1;
XA PREPARE 'trx1', 'b1', 1;
SET TIMESTAMP = 1735722610;
XA COMMIT 'trx1', 'b1', 1;

-- An XA transaction that is prepared and then rolled back.
SET TIMESTAMP = 1735722660;
XA START 'trx2', 'b1', 1;
UPDATE orders SET status = 'cancelled' WHERE id = 4;
XA END 'trx2', 'b1', 1;
XA PREPARE 'trx2', 'b1', 1;
XA ROLLBACK 'trx2', 'b1', 1;
