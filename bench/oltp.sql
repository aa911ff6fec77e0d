-- OLTP workload for bench/decode: an e-commerce schema (users, products,
-- orders, order_items) and a procedure `oltp(n)` that runs n short
-- transactions like an application's: checkouts, fulfilment batches,
-- sign-ups, profile edits, repricing and purges, 1-20 row changes each,
-- over VARCHAR, CHAR, DECIMAL, DATETIME(3), TIMESTAMP(0/3/6), ENUM, TEXT,
-- JSON (LONGTEXT in MariaDB), utf8mb4 text (CJK, accents, emoji) and NULLs.
-- bench/decode loads this, flushes the binary log, then CALLs oltp(n).
CREATE DATABASE ecommerce;
USE ecommerce;
CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  email VARCHAR(128) NOT NULL,
  phone VARCHAR(32) NULL,
  password_hash CHAR(60) CHARACTER SET ascii NOT NULL,
  nickname VARCHAR(64) NULL,
  status ENUM('active','inactive','banned') NOT NULL DEFAULT 'active',
  balance DECIMAL(12,2) NOT NULL DEFAULT 0,
  profile JSON NULL,
  created_at DATETIME NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB;
CREATE TABLE products (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  sku VARCHAR(32) NOT NULL,
  name VARCHAR(200) NOT NULL,
  category ENUM('books','electronics','home','toys','food','garden') NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  stock INT NOT NULL,
  attrs JSON NULL,
  description TEXT NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT UNSIGNED NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  status ENUM('pending','paid','shipped','delivered','cancelled') NOT NULL,
  shipping_address VARCHAR(255) NULL,
  note TEXT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
CREATE TABLE order_items (
  order_id BIGINT UNSIGNED NOT NULL,
  line_no TINYINT UNSIGNED NOT NULL,
  product_id INT UNSIGNED NOT NULL,
  qty SMALLINT UNSIGNED NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
) ENGINE=InnoDB;

-- Catalogue and customers before the traffic (a separate binlog file).
INSERT INTO products
  SELECT seq, CONCAT('SKU-', LPAD(seq, 8, '0')),
    CONCAT(ELT(1 + seq % 5, 'Café table ', 'Ünïcode lamp ', '中文书 ', 'Toy robot ', 'Tea '), seq),
    1 + seq % 6, ROUND(1 + (seq * 7919 % 50000) / 100, 2), 1000 + seq % 500,
    JSON_OBJECT('color', ELT(1 + seq % 4, 'red', 'green', 'blue', 'black'), 'weight_g', seq % 3000,
                'tags', JSON_ARRAY('new', CONCAT('batch-', seq % 17))),
    IF(seq % 4 = 0, NULL, REPEAT('Durable, well made. ', 1 + seq % 6)),
    '2024-01-01 00:00:00'
  FROM seq_1_to_10000;
INSERT INTO users (username, email, phone, password_hash, nickname, status, balance, profile, created_at)
  SELECT CONCAT('user', seq), CONCAT('user', seq, '@example.com'),
    IF(seq % 5 = 0, NULL, CONCAT('+86-138', LPAD(seq, 8, '0'))),
    CONCAT('$2b$12$', LEFT(SHA2(seq, 256), 53)),
    IF(seq % 7 = 0, NULL, CONCAT(ELT(1 + seq % 3, '小明', 'Zoë', 'Ahmed 🙂'), seq)),
    1 + seq % 3, seq % 1000, JSON_OBJECT('lang', 'zh-CN', 'newsletter', seq % 2 = 0),
    '2023-06-01 00:00:00' + INTERVAL seq MINUTE
  FROM seq_1_to_20000;

DELIMITER //
CREATE PROCEDURE oltp(n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE r DOUBLE;
  DECLARE k INT;
  DECLARE u INT;
  DECLARE p INT;
  DECLARE o BIGINT;
  DECLARE maxo BIGINT DEFAULT 0;
  DECLARE maxu INT DEFAULT 20000;
  -- Same random choices on every run (timestamps still differ).
  SET SESSION rand_seed1 = 20240101, SESSION rand_seed2 = 31337;
  WHILE i < n DO
    SET r = RAND();
    START TRANSACTION;
    IF r < 0.40 THEN
      -- Checkout: an order, its lines, stock and the customer's balance.
      SET k = 1 + FLOOR(RAND() * 8);
      SET u = 1 + FLOOR(RAND() * maxu);
      SET p = FLOOR(RAND() * (10000 - k));
      INSERT INTO orders (user_id, amount, status, shipping_address, note, created_at)
        VALUES (u, ROUND(RAND() * 900 + 5, 2), 'pending',
                IF(RAND() < 0.1, NULL, CONCAT(k, ' Rue de la Paix, 750', k, ' Paris')),
                IF(RAND() < 0.7, NULL, 'Leave at the door, merci 🙏'), NOW(3));
      SET o = LAST_INSERT_ID();
      SET maxo = o;
      INSERT INTO order_items
        SELECT o, seq, p + seq, 1 + (seq + i) % 3, price FROM seq_1_to_8 JOIN products ON id = p + seq
        WHERE seq <= k;
      UPDATE products SET stock = stock - 1 WHERE id BETWEEN p + 1 AND p + k;
      UPDATE users SET balance = balance - 1.50 WHERE id = u;
    ELSEIF r < 0.65 THEN
      -- Fulfilment: a batch of recent orders moves on.
      SET k = 1 + FLOOR(RAND() * 10);
      SET o = GREATEST(1, maxo - FLOOR(RAND() * 2000));
      UPDATE orders SET status = ELT(1 + FLOOR(RAND() * 3), 'paid', 'shipped', 'delivered')
        WHERE id BETWEEN o AND o + k - 1;
    ELSEIF r < 0.75 THEN
      -- Sign-ups.
      SET k = 1 + FLOOR(RAND() * 3);
      INSERT INTO users (username, email, phone, password_hash, nickname, status, profile, created_at)
        SELECT CONCAT('new', i, '_', seq), CONCAT('new', i, '_', seq, '@example.org'),
          IF(RAND() < 0.3, NULL, CONCAT('+1-555-', LPAD(i % 10000, 4, '0'))),
          CONCAT('$2b$12$', LEFT(SHA2(i + seq, 256), 53)),
          IF(RAND() < 0.2, NULL, CONCAT('Jürgen ', seq, ' 🚀')), 'active',
          JSON_OBJECT('lang', 'de-DE', 'referrer', IF(RAND() < 0.5, NULL, 'ads')), NOW()
        FROM seq_1_to_3 WHERE seq <= k;
      SET maxu = LAST_INSERT_ID() + k - 1;
    ELSEIF r < 0.85 THEN
      -- Profile edits and logins.
      SET k = 1 + FLOOR(RAND() * 5);
      SET u = 1 + FLOOR(RAND() * (maxu - k));
      UPDATE users SET status = IF(RAND() < 0.05, 'inactive', 'active'),
          profile = JSON_SET(COALESCE(profile, '{}'), '$.last_login', CAST(NOW() AS CHAR)),
          nickname = COALESCE(nickname, '新用户')
        WHERE id BETWEEN u AND u + k - 1;
    ELSEIF r < 0.93 THEN
      -- Repricing.
      SET k = 1 + FLOOR(RAND() * 20);
      SET p = 1 + FLOOR(RAND() * (10000 - k));
      UPDATE products SET price = ROUND(price * (0.9 + RAND() / 5), 2),
          attrs = JSON_SET(attrs, '$.repriced', i)
        WHERE id BETWEEN p AND p + k - 1;
    ELSE
      -- Cancellation purge of an older order.
      SET o = GREATEST(1, maxo - 1000 - FLOOR(RAND() * 5000));
      DELETE FROM order_items WHERE order_id = o;
      DELETE FROM orders WHERE id = o;
    END IF;
    COMMIT;
    SET i = i + 1;
  END WHILE;
END//
DELIMITER ;
