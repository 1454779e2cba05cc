package netsuite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/doorbuster/doorbuster/fixtures"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// The books are one SQLite file (WAL). Base tables hold the state; views named like
// NetSuite's SuiteQL tables present it to SuiteQL. The invariant checker reads the base
// tables. Money is INTEGER cents in base tables (columns ending in _cents) and decimal
// in the views; quantities and average costs are REAL; dates are TEXT: tran dates
// 'YYYY-MM-DD', server times RFC 3339 UTC with milliseconds ('2024-11-29T10:00:00.123Z',
// so they sort as text). Ids are INTEGER internal ids; every transaction type shares one
// id space, so transactions.id is unique across types.
//
// Sign conventions: line quantities and amounts are stored as entered (a cash refund's
// lines are positive); the direction of money is in gl_lines (debit_cents, credit_cents,
// both ≥ 0, one of them 0) and the direction of stock in inventory_moves.quantity
// (+ into the location, − out of it).
const booksSchema = `
-- records: every record of the record API, in the JSON form NetSuite accepts
-- (references by id, sublists as {"items": [...]}, defaults filled in).
CREATE TABLE records (
	type             TEXT    NOT NULL, -- REST record type, e.g. 'cashSale', 'customer'
	id               INTEGER NOT NULL, -- internal id
	externalid       TEXT,             -- NULL when none; unique per type
	body             TEXT    NOT NULL, -- canonical JSON body
	createddate      TEXT    NOT NULL, -- server time the record was created
	lastmodifieddate TEXT    NOT NULL, -- server time of the last change that changed the body
	PRIMARY KEY (type, id)
);
CREATE UNIQUE INDEX records_externalid ON records (type, externalid) WHERE externalid IS NOT NULL;

-- id_sequences: the next internal id per id family (a record type, or 'transaction' for all transactions).
CREATE TABLE id_sequences (family TEXT PRIMARY KEY, next_id INTEGER NOT NULL);

CREATE TABLE subsidiaries (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, currency TEXT, externalid TEXT
);
CREATE TABLE locations (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL, subsidiary INTEGER,
	kind TEXT,          -- 'store' or 'warehouse'
	taxcode INTEGER,    -- the jurisdiction's sales tax code (tax_codes.id)
	city TEXT, state TEXT, timezone TEXT, externalid TEXT
);
CREATE TABLE accounts (
	id INTEGER PRIMARY KEY, number TEXT, name TEXT NOT NULL,
	type TEXT NOT NULL, -- NetSuite account type: Bank, OthCurrAsset, OthCurrLiab, Income, COGS, Expense
	role TEXT,          -- the posting role from the world ('undepositedFunds', 'income', 'cogs', …) or NULL
	externalid TEXT
);
CREATE TABLE tax_codes (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL,
	rate REAL NOT NULL, -- percent: 8.625 means 8.625 %
	jurisdiction TEXT, externalid TEXT
);
CREATE TABLE payment_methods (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL,
	kind TEXT,          -- 'card', 'cash', 'gift_card'
	account INTEGER,    -- the account it debits; NULL: undeposited funds
	externalid TEXT
);
CREATE TABLE items (
	id INTEGER PRIMARY KEY, itemid TEXT NOT NULL, upccode TEXT, displayname TEXT,
	baseprice_cents INTEGER NOT NULL DEFAULT 0,
	averagecost REAL NOT NULL DEFAULT 0, -- starting cost at a location that has no inventory row yet
	taxable INTEGER NOT NULL DEFAULT 1, taxcode INTEGER, weighed INTEGER NOT NULL DEFAULT 0,
	incomeaccount INTEGER, cogsaccount INTEGER, assetaccount INTEGER, externalid TEXT
);
CREATE INDEX items_upccode ON items (upccode);
CREATE INDEX items_itemid ON items (itemid);
CREATE TABLE customers (
	id INTEGER PRIMARY KEY, entityid TEXT, externalid TEXT, firstname TEXT, lastname TEXT,
	companyname TEXT, email TEXT, phone TEXT, loyaltyid TEXT, subsidiary INTEGER
);
CREATE INDEX customers_externalid ON customers (externalid);
CREATE INDEX customers_email ON customers (email);

-- inventory: on hand and average cost per item and location (multi-location inventory).
CREATE TABLE inventory (
	item        INTEGER NOT NULL,
	location    INTEGER NOT NULL,
	onhand      REAL    NOT NULL, -- may go below zero (selling below zero is allowed)
	averagecost REAL    NOT NULL, -- per unit; re-weighted by receipts, unchanged by sales
	PRIMARY KEY (item, location)
) WITHOUT ROWID;

-- transactions: one row per transaction record (header and totals).
CREATE TABLE transactions (
	id               INTEGER PRIMARY KEY,
	recordtype       TEXT NOT NULL, -- REST record type: 'cashSale', 'cashRefund', …
	type             TEXT NOT NULL, -- NetSuite type code: 'CashSale', 'CashRfnd', 'SalesOrd', 'ItemShip', 'InvTrnfr', 'InvAdjst', 'Journal'
	tranid           TEXT,
	externalid       TEXT,
	trandate         TEXT NOT NULL, -- 'YYYY-MM-DD'
	subsidiary       INTEGER,
	location         INTEGER,
	entity           INTEGER,       -- customer id or NULL
	paymentmethod    INTEGER,
	createdfrom      INTEGER,       -- the sale a refund reverses, the order a fulfillment ships
	total_cents      INTEGER NOT NULL DEFAULT 0, -- lines + tax (what the customer paid or got back)
	subtotal_cents   INTEGER NOT NULL DEFAULT 0, -- sum of line amounts
	tax_cents        INTEGER NOT NULL DEFAULT 0, -- sum of line tax
	memo             TEXT,
	register         TEXT,          -- custbody_pos_register
	cashier          TEXT,          -- custbody_pos_cashier
	createddate      TEXT NOT NULL,
	lastmodifieddate TEXT NOT NULL
);
CREATE INDEX transactions_externalid ON transactions (recordtype, externalid);
CREATE INDEX transactions_entity ON transactions (entity);
CREATE INDEX transactions_createdfrom ON transactions (createdfrom);
CREATE INDEX transactions_trandate ON transactions (trandate);

-- transaction_lines: item, inventory and journal lines.
CREATE TABLE transaction_lines (
	transaction_id INTEGER NOT NULL,
	sublist      TEXT    NOT NULL, -- 'item', 'inventory', 'line'
	line         INTEGER NOT NULL, -- the line number in the record body
	item         INTEGER,
	location     INTEGER,          -- the line's location (the body's when the line has none)
	tolocation   INTEGER,          -- inventory transfers: the receiving location
	quantity     REAL,
	rate         REAL,
	amount_cents INTEGER NOT NULL DEFAULT 0,
	taxcode      INTEGER,
	tax_cents    INTEGER NOT NULL DEFAULT 0,
	restock      INTEGER,          -- cash refunds: 1 when the goods went back on hand
	unitcost     REAL,             -- cost per unit the line moved stock at
	cost_cents   INTEGER NOT NULL DEFAULT 0, -- COGS or inventory value of the line
	account      INTEGER,          -- journal lines
	debit_cents  INTEGER NOT NULL DEFAULT 0, -- journal lines
	credit_cents INTEGER NOT NULL DEFAULT 0, -- journal lines
	PRIMARY KEY (transaction_id, sublist, line)
) WITHOUT ROWID;
CREATE INDEX transaction_lines_item ON transaction_lines (item);

-- gl_lines: the accounting lines; every transaction's debits equal its credits.
CREATE TABLE gl_lines (
	transaction_id INTEGER NOT NULL,
	seq          INTEGER NOT NULL,
	line         INTEGER,          -- the transaction line it comes from, NULL for header amounts
	account      INTEGER NOT NULL,
	debit_cents  INTEGER NOT NULL,
	credit_cents INTEGER NOT NULL,
	role         TEXT NOT NULL,    -- 'payment', 'giftcert', 'income', 'tax', 'cogs', 'asset', 'adjustment', 'journal'
	PRIMARY KEY (transaction_id, seq)
) WITHOUT ROWID;
CREATE INDEX gl_lines_account ON gl_lines (account);

-- tenders: what paid (or was refunded by) each cash sale and cash refund.
CREATE TABLE tenders (
	transaction_id INTEGER NOT NULL,
	seq           INTEGER NOT NULL,
	source        TEXT NOT NULL, -- 'paymentMethod' (the body field), 'custbody_pos_tenders', 'giftCertRedemption'
	paymentmethod INTEGER,       -- NULL for gift certificates and for undeposited funds
	kind          TEXT,          -- 'card', 'cash', 'gift_card' or NULL
	account       INTEGER NOT NULL,
	amount_cents  INTEGER NOT NULL,
	pnrefnum      TEXT,          -- card: the gateway payment intent id
	authcode      TEXT,          -- gift certificate code
	PRIMARY KEY (transaction_id, seq)
) WITHOUT ROWID;
CREATE INDEX tenders_pnrefnum ON tenders (pnrefnum);

-- inventory_moves: every change of on hand a transaction made, in order.
CREATE TABLE inventory_moves (
	transaction_id INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	line        INTEGER,
	item        INTEGER NOT NULL,
	location    INTEGER NOT NULL,
	quantity    REAL    NOT NULL, -- + into the location, − out of it
	unitcost    REAL    NOT NULL, -- cost per unit of the move
	value_cents INTEGER NOT NULL, -- |quantity| × unitcost, rounded
	reweighs    INTEGER NOT NULL, -- 1 when the move re-weighted the average cost (a receipt)
	prevcost    REAL    NOT NULL, -- average cost before the move (to reverse it)
	PRIMARY KEY (transaction_id, seq)
) WITHOUT ROWID;
CREATE INDEX inventory_moves_item ON inventory_moves (item, location);

-- transaction_sums: per transaction, sums over its item lines, stock moves, tenders and GL lines,
-- kept by the triggers below on every insert, delete and update of those tables (a materialised
-- aggregate: the invariant checker reads one row per record instead of every line).
CREATE TABLE transaction_sums (
	transaction_id INTEGER PRIMARY KEY,
	-- item lines: count, Σ quantity, amount, tax, restocked quantity,
	item_lines INTEGER NOT NULL DEFAULT 0,
	item_qty REAL NOT NULL DEFAULT 0,
	item_amount INTEGER NOT NULL DEFAULT 0,
	item_tax INTEGER NOT NULL DEFAULT 0,
	item_restock_qty REAL NOT NULL DEFAULT 0,
	-- Σ item × amount, × tax, × round(quantity × 1000), × that when restocked (item-weighted: lines moved between items change them)
	item_x_amount INTEGER NOT NULL DEFAULT 0,
	item_x_tax INTEGER NOT NULL DEFAULT 0,
	item_x_mqty INTEGER NOT NULL DEFAULT 0,
	item_x_restock_mqty INTEGER NOT NULL DEFAULT 0,
	-- stock moves: count, Σ quantity (signed), Σ item × quantity, Σ location, Σ location² (all at L ⇔ Σ = n·L and Σ² = n·L²)
	moves INTEGER NOT NULL DEFAULT 0,
	move_qty REAL NOT NULL DEFAULT 0,
	move_item_qty REAL NOT NULL DEFAULT 0,
	move_loc INTEGER NOT NULL DEFAULT 0,
	move_loc2 INTEGER NOT NULL DEFAULT 0,
	-- tenders: count, Σ amount per kind
	tenders INTEGER NOT NULL DEFAULT 0,
	tender_card INTEGER NOT NULL DEFAULT 0,
	tender_cash INTEGER NOT NULL DEFAULT 0,
	tender_gift INTEGER NOT NULL DEFAULT 0,
	tender_other INTEGER NOT NULL DEFAULT 0,
	-- GL lines: count, Σ debits, Σ credits
	gl_lines INTEGER NOT NULL DEFAULT 0,
	debit INTEGER NOT NULL DEFAULT 0,
	credit INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER transaction_lines_sums_insert AFTER INSERT ON transaction_lines WHEN NEW.sublist = 'item' BEGIN
	INSERT INTO transaction_sums (transaction_id, item_lines, item_qty, item_amount, item_tax, item_restock_qty, item_x_amount, item_x_tax, item_x_mqty,
		item_x_restock_mqty)
	VALUES (NEW.transaction_id, 1, COALESCE(NEW.quantity, 0), NEW.amount_cents, NEW.tax_cents, COALESCE(NEW.restock, 0) *
		COALESCE(NEW.quantity, 0), COALESCE(NEW.item * NEW.amount_cents, 0), COALESCE(NEW.item * NEW.tax_cents, 0),
		COALESCE(NEW.item * CAST(round(NEW.quantity * 1000) AS INTEGER), 0), COALESCE(NEW.item *
		CAST(round(NEW.quantity * 1000) AS INTEGER) * COALESCE(NEW.restock, 0), 0))
	ON CONFLICT (transaction_id) DO UPDATE SET
		item_lines = item_lines + excluded.item_lines, item_qty = item_qty + excluded.item_qty, item_amount =
		item_amount + excluded.item_amount, item_tax = item_tax + excluded.item_tax, item_restock_qty =
		item_restock_qty + excluded.item_restock_qty, item_x_amount = item_x_amount + excluded.item_x_amount,
		item_x_tax = item_x_tax + excluded.item_x_tax, item_x_mqty = item_x_mqty + excluded.item_x_mqty,
		item_x_restock_mqty = item_x_restock_mqty + excluded.item_x_restock_mqty;
END;
CREATE TRIGGER transaction_lines_sums_delete AFTER DELETE ON transaction_lines WHEN OLD.sublist = 'item' BEGIN
	INSERT INTO transaction_sums (transaction_id, item_lines, item_qty, item_amount, item_tax, item_restock_qty, item_x_amount, item_x_tax, item_x_mqty,
		item_x_restock_mqty)
	VALUES (OLD.transaction_id, -1, -(COALESCE(OLD.quantity, 0)), -(OLD.amount_cents), -(OLD.tax_cents),
		-(COALESCE(OLD.restock, 0) * COALESCE(OLD.quantity, 0)), -(COALESCE(OLD.item * OLD.amount_cents, 0)),
		-(COALESCE(OLD.item * OLD.tax_cents, 0)), -(COALESCE(OLD.item * CAST(round(OLD.quantity * 1000) AS INTEGER),
		0)), -(COALESCE(OLD.item * CAST(round(OLD.quantity * 1000) AS INTEGER) * COALESCE(OLD.restock, 0), 0)))
	ON CONFLICT (transaction_id) DO UPDATE SET
		item_lines = item_lines + excluded.item_lines, item_qty = item_qty + excluded.item_qty, item_amount =
		item_amount + excluded.item_amount, item_tax = item_tax + excluded.item_tax, item_restock_qty =
		item_restock_qty + excluded.item_restock_qty, item_x_amount = item_x_amount + excluded.item_x_amount,
		item_x_tax = item_x_tax + excluded.item_x_tax, item_x_mqty = item_x_mqty + excluded.item_x_mqty,
		item_x_restock_mqty = item_x_restock_mqty + excluded.item_x_restock_mqty;
END;
CREATE TRIGGER transaction_lines_sums_update_old AFTER UPDATE ON transaction_lines WHEN OLD.sublist = 'item' BEGIN
	INSERT INTO transaction_sums (transaction_id, item_lines, item_qty, item_amount, item_tax, item_restock_qty, item_x_amount, item_x_tax, item_x_mqty,
		item_x_restock_mqty)
	VALUES (OLD.transaction_id, -1, -(COALESCE(OLD.quantity, 0)), -(OLD.amount_cents), -(OLD.tax_cents),
		-(COALESCE(OLD.restock, 0) * COALESCE(OLD.quantity, 0)), -(COALESCE(OLD.item * OLD.amount_cents, 0)),
		-(COALESCE(OLD.item * OLD.tax_cents, 0)), -(COALESCE(OLD.item * CAST(round(OLD.quantity * 1000) AS INTEGER),
		0)), -(COALESCE(OLD.item * CAST(round(OLD.quantity * 1000) AS INTEGER) * COALESCE(OLD.restock, 0), 0)))
	ON CONFLICT (transaction_id) DO UPDATE SET
		item_lines = item_lines + excluded.item_lines, item_qty = item_qty + excluded.item_qty, item_amount =
		item_amount + excluded.item_amount, item_tax = item_tax + excluded.item_tax, item_restock_qty =
		item_restock_qty + excluded.item_restock_qty, item_x_amount = item_x_amount + excluded.item_x_amount,
		item_x_tax = item_x_tax + excluded.item_x_tax, item_x_mqty = item_x_mqty + excluded.item_x_mqty,
		item_x_restock_mqty = item_x_restock_mqty + excluded.item_x_restock_mqty;
END;
CREATE TRIGGER transaction_lines_sums_update_new AFTER UPDATE ON transaction_lines WHEN NEW.sublist = 'item' BEGIN
	INSERT INTO transaction_sums (transaction_id, item_lines, item_qty, item_amount, item_tax, item_restock_qty, item_x_amount, item_x_tax, item_x_mqty,
		item_x_restock_mqty)
	VALUES (NEW.transaction_id, 1, COALESCE(NEW.quantity, 0), NEW.amount_cents, NEW.tax_cents, COALESCE(NEW.restock, 0) *
		COALESCE(NEW.quantity, 0), COALESCE(NEW.item * NEW.amount_cents, 0), COALESCE(NEW.item * NEW.tax_cents, 0),
		COALESCE(NEW.item * CAST(round(NEW.quantity * 1000) AS INTEGER), 0), COALESCE(NEW.item *
		CAST(round(NEW.quantity * 1000) AS INTEGER) * COALESCE(NEW.restock, 0), 0))
	ON CONFLICT (transaction_id) DO UPDATE SET
		item_lines = item_lines + excluded.item_lines, item_qty = item_qty + excluded.item_qty, item_amount =
		item_amount + excluded.item_amount, item_tax = item_tax + excluded.item_tax, item_restock_qty =
		item_restock_qty + excluded.item_restock_qty, item_x_amount = item_x_amount + excluded.item_x_amount,
		item_x_tax = item_x_tax + excluded.item_x_tax, item_x_mqty = item_x_mqty + excluded.item_x_mqty,
		item_x_restock_mqty = item_x_restock_mqty + excluded.item_x_restock_mqty;
END;
CREATE TRIGGER inventory_moves_sums_insert AFTER INSERT ON inventory_moves BEGIN
	INSERT INTO transaction_sums (transaction_id, moves, move_qty, move_item_qty, move_loc, move_loc2)
	VALUES (NEW.transaction_id, 1, NEW.quantity, NEW.item * NEW.quantity, NEW.location, NEW.location * NEW.location)
	ON CONFLICT (transaction_id) DO UPDATE SET
		moves = moves + excluded.moves, move_qty = move_qty + excluded.move_qty, move_item_qty = move_item_qty +
		excluded.move_item_qty, move_loc = move_loc + excluded.move_loc, move_loc2 = move_loc2 + excluded.move_loc2;
END;
CREATE TRIGGER inventory_moves_sums_delete AFTER DELETE ON inventory_moves BEGIN
	INSERT INTO transaction_sums (transaction_id, moves, move_qty, move_item_qty, move_loc, move_loc2)
	VALUES (OLD.transaction_id, -1, -(OLD.quantity), -(OLD.item * OLD.quantity), -(OLD.location), -(OLD.location *
		OLD.location))
	ON CONFLICT (transaction_id) DO UPDATE SET
		moves = moves + excluded.moves, move_qty = move_qty + excluded.move_qty, move_item_qty = move_item_qty +
		excluded.move_item_qty, move_loc = move_loc + excluded.move_loc, move_loc2 = move_loc2 + excluded.move_loc2;
END;
CREATE TRIGGER inventory_moves_sums_update AFTER UPDATE ON inventory_moves BEGIN
	INSERT INTO transaction_sums (transaction_id, moves, move_qty, move_item_qty, move_loc, move_loc2)
	VALUES (OLD.transaction_id, -1, -(OLD.quantity), -(OLD.item * OLD.quantity), -(OLD.location), -(OLD.location *
		OLD.location))
	ON CONFLICT (transaction_id) DO UPDATE SET
		moves = moves + excluded.moves, move_qty = move_qty + excluded.move_qty, move_item_qty = move_item_qty +
		excluded.move_item_qty, move_loc = move_loc + excluded.move_loc, move_loc2 = move_loc2 + excluded.move_loc2;
	INSERT INTO transaction_sums (transaction_id, moves, move_qty, move_item_qty, move_loc, move_loc2)
	VALUES (NEW.transaction_id, 1, NEW.quantity, NEW.item * NEW.quantity, NEW.location, NEW.location * NEW.location)
	ON CONFLICT (transaction_id) DO UPDATE SET
		moves = moves + excluded.moves, move_qty = move_qty + excluded.move_qty, move_item_qty = move_item_qty +
		excluded.move_item_qty, move_loc = move_loc + excluded.move_loc, move_loc2 = move_loc2 + excluded.move_loc2;
END;
CREATE TRIGGER tenders_sums_insert AFTER INSERT ON tenders BEGIN
	INSERT INTO transaction_sums (transaction_id, tenders, tender_card, tender_cash, tender_gift, tender_other)
	VALUES (NEW.transaction_id, 1, iif(NEW.kind = 'card', NEW.amount_cents, 0), iif(NEW.kind = 'cash', NEW.amount_cents,
		0), iif(NEW.kind = 'gift_card', NEW.amount_cents, 0), iif(NEW.kind IN ('card', 'cash', 'gift_card'), 0,
		NEW.amount_cents))
	ON CONFLICT (transaction_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_cash =
		tender_cash + excluded.tender_cash, tender_gift = tender_gift + excluded.tender_gift, tender_other =
		tender_other + excluded.tender_other;
END;
CREATE TRIGGER tenders_sums_delete AFTER DELETE ON tenders BEGIN
	INSERT INTO transaction_sums (transaction_id, tenders, tender_card, tender_cash, tender_gift, tender_other)
	VALUES (OLD.transaction_id, -1, -(iif(OLD.kind = 'card', OLD.amount_cents, 0)), -(iif(OLD.kind = 'cash',
		OLD.amount_cents, 0)), -(iif(OLD.kind = 'gift_card', OLD.amount_cents, 0)), -(iif(OLD.kind IN ('card', 'cash',
		'gift_card'), 0, OLD.amount_cents)))
	ON CONFLICT (transaction_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_cash =
		tender_cash + excluded.tender_cash, tender_gift = tender_gift + excluded.tender_gift, tender_other =
		tender_other + excluded.tender_other;
END;
CREATE TRIGGER tenders_sums_update AFTER UPDATE ON tenders BEGIN
	INSERT INTO transaction_sums (transaction_id, tenders, tender_card, tender_cash, tender_gift, tender_other)
	VALUES (OLD.transaction_id, -1, -(iif(OLD.kind = 'card', OLD.amount_cents, 0)), -(iif(OLD.kind = 'cash',
		OLD.amount_cents, 0)), -(iif(OLD.kind = 'gift_card', OLD.amount_cents, 0)), -(iif(OLD.kind IN ('card', 'cash',
		'gift_card'), 0, OLD.amount_cents)))
	ON CONFLICT (transaction_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_cash =
		tender_cash + excluded.tender_cash, tender_gift = tender_gift + excluded.tender_gift, tender_other =
		tender_other + excluded.tender_other;
	INSERT INTO transaction_sums (transaction_id, tenders, tender_card, tender_cash, tender_gift, tender_other)
	VALUES (NEW.transaction_id, 1, iif(NEW.kind = 'card', NEW.amount_cents, 0), iif(NEW.kind = 'cash', NEW.amount_cents,
		0), iif(NEW.kind = 'gift_card', NEW.amount_cents, 0), iif(NEW.kind IN ('card', 'cash', 'gift_card'), 0,
		NEW.amount_cents))
	ON CONFLICT (transaction_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_cash =
		tender_cash + excluded.tender_cash, tender_gift = tender_gift + excluded.tender_gift, tender_other =
		tender_other + excluded.tender_other;
END;
CREATE TRIGGER gl_lines_sums_insert AFTER INSERT ON gl_lines BEGIN
	INSERT INTO transaction_sums (transaction_id, gl_lines, debit, credit)
	VALUES (NEW.transaction_id, 1, NEW.debit_cents, NEW.credit_cents)
	ON CONFLICT (transaction_id) DO UPDATE SET
		gl_lines = gl_lines + excluded.gl_lines, debit = debit + excluded.debit, credit = credit + excluded.credit;
END;
CREATE TRIGGER gl_lines_sums_delete AFTER DELETE ON gl_lines BEGIN
	INSERT INTO transaction_sums (transaction_id, gl_lines, debit, credit)
	VALUES (OLD.transaction_id, -1, -(OLD.debit_cents), -(OLD.credit_cents))
	ON CONFLICT (transaction_id) DO UPDATE SET
		gl_lines = gl_lines + excluded.gl_lines, debit = debit + excluded.debit, credit = credit + excluded.credit;
END;
CREATE TRIGGER gl_lines_sums_update AFTER UPDATE ON gl_lines BEGIN
	INSERT INTO transaction_sums (transaction_id, gl_lines, debit, credit)
	VALUES (OLD.transaction_id, -1, -(OLD.debit_cents), -(OLD.credit_cents))
	ON CONFLICT (transaction_id) DO UPDATE SET
		gl_lines = gl_lines + excluded.gl_lines, debit = debit + excluded.debit, credit = credit + excluded.credit;
	INSERT INTO transaction_sums (transaction_id, gl_lines, debit, credit)
	VALUES (NEW.transaction_id, 1, NEW.debit_cents, NEW.credit_cents)
	ON CONFLICT (transaction_id) DO UPDATE SET
		gl_lines = gl_lines + excluded.gl_lines, debit = debit + excluded.debit, credit = credit + excluded.credit;
END;

-- Views for SuiteQL, named like NetSuite's tables, lower-case columns, money in decimals.
CREATE VIEW subsidiary AS
	SELECT id, name, country, currency, externalid, 'F' AS isinactive FROM subsidiaries;
CREATE VIEW location AS
	SELECT id, name, subsidiary, kind AS locationtype, taxcode, city, state, timezone, externalid,
	       'F' AS isinactive FROM locations;
CREATE VIEW account AS
	SELECT id, number AS acctnumber, name AS accountsearchdisplayname, name AS fullname,
	       type AS accttype, externalid, 'F' AS isinactive FROM accounts;
CREATE VIEW salestaxitem AS
	SELECT id, name AS itemid, name, rate, jurisdiction AS description, externalid, 'F' AS isinactive
	FROM tax_codes;
CREATE VIEW paymentmethod AS
	SELECT id, name, kind AS methodtype, account, externalid, 'F' AS isinactive FROM payment_methods;
CREATE VIEW item AS
	SELECT i.id, i.itemid, i.itemid AS fullname, i.upccode, i.displayname,
	       i.baseprice_cents / 100.0 AS baseprice,
	       COALESCE((SELECT SUM(v.onhand * v.averagecost) / SUM(v.onhand) FROM inventory v
	                 WHERE v.item = i.id AND v.onhand > 0), i.averagecost) AS averagecost,
	       i.averagecost AS cost, 'InvtPart' AS itemtype,
	       CASE WHEN i.taxable THEN 'T' ELSE 'F' END AS istaxable, i.taxcode AS salestaxcode,
	       CASE WHEN i.weighed THEN 'T' ELSE 'F' END AS weighed,
	       i.incomeaccount, i.cogsaccount AS expenseaccount, i.assetaccount, i.externalid,
	       'F' AS isinactive
	FROM items i;
CREATE VIEW customer AS
	SELECT id, entityid, externalid, firstname, lastname, companyname, email, phone,
	       loyaltyid AS custentity_loyalty_id, subsidiary,
	       CASE WHEN companyname IS NULL OR companyname = '' THEN 'T' ELSE 'F' END AS isperson,
	       'F' AS isinactive
	FROM customers;
CREATE VIEW inventoryitemlocations AS
	SELECT item, location, onhand AS quantityonhand, onhand AS quantityavailable,
	       0 AS quantitycommitted, averagecost AS averagecostmli,
	       onhand * averagecost AS onhandvaluemli
	FROM inventory;
CREATE VIEW "transaction" AS
	SELECT id, tranid, type, recordtype, trandate, externalid, entity, subsidiary, location,
	       paymentmethod, createdfrom, total_cents / 100.0 AS foreigntotal, total_cents / 100.0 AS total,
	       tax_cents / 100.0 AS taxtotal, memo, createddate, lastmodifieddate,
	       'F' AS voided, 'T' AS posting
	FROM transactions;
CREATE VIEW transactionline AS
	SELECT transaction_id AS "transaction", line AS id, line AS linesequencenumber, sublist, item, location,
	       tolocation, quantity, rate, amount_cents / 100.0 AS amount, amount_cents / 100.0 AS netamount,
	       taxcode, tax_cents / 100.0 AS tax1amt, restock AS custcol_restock,
	       cost_cents / 100.0 AS costestimate, account, 'F' AS mainline, 'F' AS taxline,
	       CASE WHEN item IS NOT NULL THEN 'T' ELSE 'F' END AS isinventoryaffecting
	FROM transaction_lines;
CREATE VIEW transactionaccountingline AS
	SELECT transaction_id AS "transaction", line AS transactionline, account,
	       CASE WHEN debit_cents > 0 THEN debit_cents / 100.0 END AS debit,
	       CASE WHEN credit_cents > 0 THEN credit_cents / 100.0 END AS credit,
	       (debit_cents - credit_cents) / 100.0 AS amount, role, 'T' AS posting, 1 AS accountingbook
	FROM gl_lines;
`

// books is the SQLite store: one writer connection (every write is serialised through
// wmu, so writers never meet SQLITE_BUSY) and a pool of readers that see WAL snapshots.
type books struct {
	path   string
	tmpDir string // removed on close when the books live in a temporary file

	wmu   sync.Mutex
	w     *sql.DB // exactly one connection
	wconn *sql.Conn
	stmts map[string]*sql.Stmt // prepared on wconn; guarded by wmu
	r     *sql.DB              // read-only pool
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "cache_size(-16384)") // 16 MiB per reader
	} else {
		// A large world's load touches gigabytes: a big cache keeps the bulk load
		// from spilling pages mid-transaction.
		q.Add("_pragma", "cache_size(-262144)") // 256 MiB, allocated as used
		q.Add("_pragma", "temp_store(memory)")
		q.Set("_txlock", "immediate")
	}
	return (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String()
}

// openBooks creates fresh books at path ("" = a temporary file). An existing file at
// path is replaced: the books always start from the world.
func openBooks(ctx context.Context, path string) (*books, error) {
	b := &books{path: path, stmts: map[string]*sql.Stmt{}}
	if path == "" {
		dir, err := os.MkdirTemp("", "doorbuster-netsuite-")
		if err != nil {
			return nil, fmt.Errorf("netsuite books: %w", err)
		}
		b.tmpDir = dir
		b.path = filepath.Join(dir, "books.db")
	} else {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("netsuite books: replacing %s: %w", path+suffix, err)
			}
		}
	}
	w, err := sql.Open("sqlite", dsn(b.path, false))
	if err != nil {
		b.close()
		return nil, fmt.Errorf("netsuite books %s: %w", b.path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	b.w = w
	if _, err := w.ExecContext(ctx, booksSchema); err != nil {
		b.close()
		return nil, fmt.Errorf("netsuite books %s: creating tables: %w", b.path, err)
	}
	r, err := sql.Open("sqlite", dsn(b.path, true))
	if err != nil {
		b.close()
		return nil, fmt.Errorf("netsuite books %s: %w", b.path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	b.r = r
	return b, nil
}

func (b *books) close() error {
	var errs []error
	if b.r != nil {
		errs = append(errs, b.r.Close())
	}
	b.wmu.Lock()
	for _, st := range b.stmts {
		errs = append(errs, st.Close())
	}
	b.stmts = nil
	if b.wconn != nil {
		errs = append(errs, b.wconn.Close())
	}
	if b.w != nil {
		errs = append(errs, b.w.Close())
	}
	b.wmu.Unlock()
	if b.tmpDir != "" {
		errs = append(errs, os.RemoveAll(b.tmpDir))
	}
	return errors.Join(errs...)
}

// write runs fn in one write transaction. Writes are serialised (wmu) on the one
// writer connection, whose statements are prepared once and reused. A write runs to
// its end even if the client goes away: what NetSuite committed stays committed.
func (b *books) write(ctx context.Context, fn func(tx *wtx) error) (err error) {
	ctx = context.WithoutCancel(ctx)
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if b.wconn == nil {
		if b.wconn, err = b.w.Conn(ctx); err != nil {
			return fmt.Errorf("netsuite books: writer connection: %w", err)
		}
	}
	if _, err := b.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("netsuite books: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_, _ = b.wconn.ExecContext(ctx, "ROLLBACK") // fn failed or panicked
		}
	}()
	if err := fn(&wtx{b: b}); err != nil {
		return err
	}
	if _, err := b.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("netsuite books: commit: %w", err)
	}
	done = true
	return nil
}

// wtx is the open write transaction: a queryer over the writer connection with a
// cache of prepared statements. Only valid inside books.write.
type wtx struct{ b *books }

func (t *wtx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.b.stmts[query]; ok {
		return st, nil
	}
	st, err := t.b.wconn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(t.b.stmts) >= maxCachedStmts {
		for q, old := range t.b.stmts { // drop one: queries are a fixed set in practice
			_ = old.Close()
			delete(t.b.stmts, q)
			break
		}
	}
	t.b.stmts[query] = st
	return st, nil
}

const maxCachedStmts = 256

// ExecContext runs a statement in the transaction.
func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a query in the transaction.
func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return t.b.wconn.QueryRowContext(ctx, query, args...) // reports the same error through Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// exportTo writes a consistent snapshot of the books to dst (which must not exist).
// VACUUM INTO reads one snapshot of the WAL database and writes a compact copy; it
// runs on its own connection, so writers go on meanwhile.
func (b *books) exportTo(ctx context.Context, dst string) error {
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: b.path, RawQuery: "_pragma=busy_timeout(10000)"}).String())
	if err != nil {
		return fmt.Errorf("netsuite books: export: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("netsuite books: export: %w", err)
	}
	return nil
}

// Tables that hold state, emptied by a reset (views and id sequences follow).
var stateTables = []string{
	"records", "id_sequences", "subsidiaries", "locations", "accounts", "tax_codes",
	"payment_methods", "items", "customers", "inventory", "transactions", "transaction_lines",
	"gl_lines", "tenders", "inventory_moves", "transaction_sums",
}

// emptyState empties the state tables. The triggers that keep transaction_sums are
// dropped for it and made again after: emptied with them, every line would fire one
// (and SQLite's truncation of a whole table is off while a table has triggers).
func emptyState(ctx context.Context, tx *wtx) error {
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
	if err != nil {
		return fmt.Errorf("netsuite books: reading the triggers: %w", err)
	}
	var names, ddl []string
	for rows.Next() {
		var n, q string
		if err := rows.Scan(&n, &q); err != nil {
			rows.Close()
			return fmt.Errorf("netsuite books: reading the triggers: %w", err)
		}
		names, ddl = append(names, n), append(ddl, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("netsuite books: reading the triggers: %w", err)
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER "`+n+`"`); err != nil {
			return fmt.Errorf("netsuite books: dropping trigger %s: %w", n, err)
		}
	}
	for _, t := range stateTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("netsuite books: emptying %s: %w", t, err)
		}
	}
	for i, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("netsuite books: making trigger %s again: %w", names[i], err)
		}
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// worldRoles maps the world's GLAccounts fields to role names kept in accounts.role.
func worldRoles(a fixtures.GLAccounts) map[string]string {
	return map[string]string{
		a.UndepositedFunds: "undepositedFunds", a.CardClearing: "cardClearing", a.Cash: "cash",
		a.Income: "income", a.SalesTaxPayable: "salesTaxPayable", a.COGS: "cogs",
		a.InventoryAsset: "inventoryAsset", a.GiftCertLiability: "giftCertLiability",
		a.InventoryAdjusting: "inventoryAdjustment",
	}
}
