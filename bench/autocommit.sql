-- Autocommit workload for bench/decode: the schema of bench/oltp.sql, then
-- a procedure `autocommit_traffic(n)` that runs n single-row statements
-- with autocommit on, as most web applications write: every row change is
-- its own transaction (GTID, ANNOTATE_ROWS, TABLE_MAP, one-row ROWS event,
-- XID). bench/decode loads oltp.sql and this file, flushes the binary log,
-- then CALLs autocommit_traffic(n).
USE ecommerce;
DELIMITER //
CREATE PROCEDURE autocommit_traffic(n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE r DOUBLE;
  DECLARE u INT;
  DECLARE p INT;
  DECLARE o BIGINT;
  DECLARE mino BIGINT DEFAULT 1;
  DECLARE maxo BIGINT DEFAULT 0;
  DECLARE maxu INT DEFAULT 20000;
  SET SESSION rand_seed1 = 20240101, SESSION rand_seed2 = 31337;
  -- Seed a few orders so that updates and deletes always find a row.
  WHILE maxo < 100 DO
    INSERT INTO orders (user_id, amount, status, created_at) VALUES (1, 9.99, 'pending', NOW(3));
    SET maxo = LAST_INSERT_ID();
  END WHILE;
  WHILE i < n DO
    SET r = RAND();
    IF r < 0.30 THEN
      SET u = 1 + FLOOR(RAND() * maxu);
      INSERT INTO orders (user_id, amount, status, shipping_address, note, created_at)
        VALUES (u, ROUND(RAND() * 900 + 5, 2), 'pending',
                IF(RAND() < 0.1, NULL, CONCAT(u % 90, ' Rue de la Paix, 750', u % 20, ' Paris')),
                IF(RAND() < 0.7, NULL, 'Leave at the door, merci 🙏'), NOW(3));
      SET maxo = LAST_INSERT_ID();
    ELSEIF r < 0.60 THEN
      SET o = GREATEST(mino, maxo - FLOOR(RAND() * 50));
      UPDATE orders SET status = ELT(1 + FLOOR(RAND() * 3), 'paid', 'shipped', 'delivered')
        WHERE id = o;
    ELSEIF r < 0.75 THEN
      SET u = 1 + FLOOR(RAND() * maxu);
      UPDATE users SET profile = JSON_SET(COALESCE(profile, '{}'), '$.last_login', CAST(NOW() AS CHAR)),
          nickname = COALESCE(nickname, '新用户')
        WHERE id = u;
    ELSEIF r < 0.85 THEN
      SET p = 1 + FLOOR(RAND() * 10000);
      UPDATE products SET stock = stock - 1 WHERE id = p;
    ELSEIF r < 0.95 THEN
      INSERT INTO users (username, email, phone, password_hash, nickname, status, profile, created_at)
        VALUES (CONCAT('new', i), CONCAT('new', i, '@example.org'),
          IF(RAND() < 0.3, NULL, CONCAT('+1-555-', LPAD(i % 10000, 4, '0'))),
          CONCAT('$2b$12$', LEFT(SHA2(i, 256), 53)),
          IF(RAND() < 0.2, NULL, CONCAT('Jürgen ', i % 97, ' 🚀')), 'active',
          JSON_OBJECT('lang', 'de-DE', 'referrer', IF(RAND() < 0.5, NULL, 'ads')), NOW());
      SET maxu = LAST_INSERT_ID();
    ELSE
      -- The oldest order goes: always exactly one row.
      DELETE FROM orders WHERE id = mino;
      SET mino = mino + 1;
    END IF;
    SET i = i + 1;
  END WHILE;
END//
DELIMITER ;
