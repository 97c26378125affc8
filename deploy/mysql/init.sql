-- Runs once, when the mysql container initialises an empty data directory.
-- The replication account Rivulet connects with (the grants Debezium documents)
-- and the sample inventory database.
CREATE USER 'rivulet'@'%' IDENTIFIED BY 'rivulet';
GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'rivulet'@'%';

CREATE DATABASE inventory;
USE inventory;
CREATE TABLE customers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_name VARCHAR(255) NOT NULL,
  last_name VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE
) AUTO_INCREMENT = 1001;
CREATE TABLE orders (
  order_number INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_date DATE NOT NULL,
  purchaser INT NOT NULL,
  quantity INT NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  FOREIGN KEY (purchaser) REFERENCES customers (id)
) AUTO_INCREMENT = 10001;
INSERT INTO customers (first_name, last_name, email) VALUES
  ('Sally', 'Thomas', 'sally.thomas@acme.com'),
  ('George', 'Bailey', 'gbailey@foobar.com'),
  ('Edward', 'Walker', 'ed@walker.com');
INSERT INTO orders (order_date, purchaser, quantity, total) VALUES
  ('2016-01-16', 1001, 1, 19.99);
