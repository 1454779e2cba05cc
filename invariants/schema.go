package invariants

// The schemas the checker reads. The journal's is the run-directory contract
// (INTERFACES.md) as xk6-pos writes it; the books' are copies of the simulators' DDL
// (simulator/netsuite/books.go, simulator/gateway/books.go), kept here because the
// checker reads the books as plain SQLite files and does not import the simulators.
// schema_test.go fails when a copy drifts from the real thing.
//
// ValidateCustom builds empty databases from these to prepare custom invariants
// against, so a custom query may use any table or column below.

// JournalSchema is journal.db's DDL: the tables of INTERFACES.md plus the columns
// xk6-pos adds. The checker itself relies only on the INTERFACES.md columns.
const JournalSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS tx (
  id TEXT PRIMARY KEY, type TEXT NOT NULL,
  scenario TEXT, flow TEXT, location_id TEXT NOT NULL, register_id TEXT NOT NULL, cashier_id TEXT,
  occurred_at TEXT NOT NULL, occurred_date TEXT NOT NULL,
  customer_identity TEXT,
  customer_email TEXT, customer_loyalty_id TEXT,
  original_tx_id TEXT, offline INTEGER NOT NULL,
  subtotal_cents INTEGER, discount_cents INTEGER, tax_cents INTEGER, total_cents INTEGER,
  submitted_at TEXT, acked_at TEXT, ack_status INTEGER,
  outcome TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER,        -- added: submissions made (single and batch)
  batch_status TEXT,       -- added: accepted | duplicate | rejected for a transaction acknowledged in a batch
  error TEXT,              -- added: the connector's error of a rejection, or the last failure
  customer_kind TEXT       -- added: anonymous | known | new
);
CREATE TABLE IF NOT EXISTS line (tx_id TEXT, line_no INTEGER, sku TEXT, item_id TEXT, quantity REAL,
  unit_price_cents INTEGER, discount_cents INTEGER, tax_code TEXT, tax_rate REAL, tax_cents INTEGER, restock INTEGER,
  signed_quantity REAL,    -- added: negative when the item comes back (returns and exchange returns)
  total_cents INTEGER,     -- added: the line total (quantity × price − discount + tax), signed like signed_quantity
  weighed INTEGER,         -- added: 1 when sold by weight
  PRIMARY KEY (tx_id, line_no));
CREATE TABLE IF NOT EXISTS tender (tx_id TEXT, tender_no INTEGER, type TEXT, amount_cents INTEGER, payment_intent_id TEXT,
  signed_amount_cents INTEGER, -- added: money in positive, money paid back negative
  PRIMARY KEY (tx_id, tender_no));
CREATE TABLE IF NOT EXISTS payment (
  intent_id TEXT PRIMARY KEY, tx_id TEXT, register_id TEXT, location_id TEXT, amount_cents INTEGER,
  outcome TEXT,
  created_at TEXT, finished_at TEXT,
  flow TEXT,               -- added
  card_last4 TEXT,         -- added: the test card presented
  decline_code TEXT,       -- added: generic_decline, insufficient_funds… for a declined payment
  offline INTEGER,         -- added: 1 when taken offline and forwarded on reconnect (store-and-forward)
  captured_cents INTEGER,  -- added: what the capture reply says was received
  error TEXT               -- added: why a payment failed or was canceled
);
CREATE TABLE IF NOT EXISTS stock_probe (sku TEXT, location_id TEXT, connector_on_hand REAL, probed_at TEXT,
  item_id TEXT,            -- added
  expected_on_hand REAL,   -- added: the registers' shelf model (world start − sold + restocked by acknowledged transactions)
  status INTEGER);         -- added: HTTP status of the lookup (connector_on_hand is NULL unless 200)
CREATE TABLE IF NOT EXISTS drawer (  -- added: cash drawer of each register at Close
  register_id TEXT PRIMARY KEY, location_id TEXT, cash_in_cents INTEGER, cash_out_cents INTEGER, transactions INTEGER);
-- tx_compact (added): the columns the invariant checker reads of every transaction, so that
-- it reads them without the wide rows (the submitted body).
CREATE INDEX IF NOT EXISTS tx_compact ON tx (id, type, location_id, occurred_date, offline, outcome, customer_identity,
  original_tx_id, acked_at);
-- tx_sums (added): per transaction, sums over its lines (split by the sign of the quantity) and
-- tenders, kept by the triggers below on every insert, delete and update (a materialised aggregate:
-- the invariant checker reads one row per transaction instead of every line). meta 'tx_sums' =
-- 'complete' says it was there before the first line, so it covers them all.
CREATE TABLE IF NOT EXISTS tx_sums (
  tx_id TEXT PRIMARY KEY,
  -- lines with quantity >= 0: count, without item_id, Σ |quantity|, Σ restocked |quantity|, Σ round(|quantity| × unit price), Σ discount, Σ |tax|;
  -- item-weighted (item_id × each): gross, discount, |tax|, round(|quantity| × 1000), that when restocked, |quantity|, that when restocked
  p_lines INTEGER NOT NULL DEFAULT 0,
  p_noitem INTEGER NOT NULL DEFAULT 0,
  p_qty REAL NOT NULL DEFAULT 0,
  p_restock_qty REAL NOT NULL DEFAULT 0,
  p_gross INTEGER NOT NULL DEFAULT 0,
  p_discount INTEGER NOT NULL DEFAULT 0,
  p_tax INTEGER NOT NULL DEFAULT 0,
  p_x_gross INTEGER NOT NULL DEFAULT 0,
  p_x_discount INTEGER NOT NULL DEFAULT 0,
  p_x_tax INTEGER NOT NULL DEFAULT 0,
  p_x_mqty INTEGER NOT NULL DEFAULT 0,
  p_x_restock_mqty INTEGER NOT NULL DEFAULT 0,
  p_x_qty REAL NOT NULL DEFAULT 0,
  p_x_restock_qty REAL NOT NULL DEFAULT 0,
  -- lines with quantity < 0 (the same)
  n_lines INTEGER NOT NULL DEFAULT 0,
  n_noitem INTEGER NOT NULL DEFAULT 0,
  n_qty REAL NOT NULL DEFAULT 0,
  n_restock_qty REAL NOT NULL DEFAULT 0,
  n_gross INTEGER NOT NULL DEFAULT 0,
  n_discount INTEGER NOT NULL DEFAULT 0,
  n_tax INTEGER NOT NULL DEFAULT 0,
  n_x_gross INTEGER NOT NULL DEFAULT 0,
  n_x_discount INTEGER NOT NULL DEFAULT 0,
  n_x_tax INTEGER NOT NULL DEFAULT 0,
  n_x_mqty INTEGER NOT NULL DEFAULT 0,
  n_x_restock_mqty INTEGER NOT NULL DEFAULT 0,
  n_x_qty REAL NOT NULL DEFAULT 0,
  n_x_restock_qty REAL NOT NULL DEFAULT 0,
  -- tenders: count, Σ amount and Σ |amount| per type (gift = gift_card, other = the rest)
  tenders INTEGER NOT NULL DEFAULT 0,
  tender_card INTEGER NOT NULL DEFAULT 0,
  tender_card_abs INTEGER NOT NULL DEFAULT 0,
  tender_cash INTEGER NOT NULL DEFAULT 0,
  tender_cash_abs INTEGER NOT NULL DEFAULT 0,
  tender_gift INTEGER NOT NULL DEFAULT 0,
  tender_gift_abs INTEGER NOT NULL DEFAULT 0,
  tender_other INTEGER NOT NULL DEFAULT 0,
  tender_other_abs INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) SELECT 'tx_sums', 'complete' WHERE NOT EXISTS (SELECT 1 FROM line);
CREATE TRIGGER IF NOT EXISTS line_sums_insert_p AFTER INSERT ON line WHEN COALESCE(NEW.quantity, 0) >= 0 BEGIN
	INSERT INTO tx_sums (tx_id, p_lines, p_noitem, p_qty, p_restock_qty, p_gross, p_discount, p_tax, p_x_gross, p_x_discount, p_x_tax,
		p_x_mqty, p_x_restock_mqty, p_x_qty, p_x_restock_qty)
	VALUES (NEW.tx_id, 1, (NEW.item_id IS NULL OR NEW.item_id = ''), COALESCE(abs(NEW.quantity), 0), COALESCE(NEW.restock,
		0) * COALESCE(abs(NEW.quantity), 0), COALESCE(CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS
		INTEGER), 0), COALESCE(NEW.discount_cents, 0), abs(COALESCE(NEW.tax_cents, 0)), COALESCE((NEW.item_id + 0) *
		CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS INTEGER), 0), COALESCE((NEW.item_id + 0) *
		COALESCE(NEW.discount_cents, 0), 0), COALESCE((NEW.item_id + 0) * abs(COALESCE(NEW.tax_cents, 0)), 0),
		COALESCE((NEW.item_id + 0) * CAST(round(abs(NEW.quantity) * 1000) AS INTEGER), 0), COALESCE((NEW.item_id + 0)
		* CAST(round(abs(NEW.quantity) * 1000) AS INTEGER) * COALESCE(NEW.restock, 0), 0), COALESCE((NEW.item_id + 0)
		* abs(NEW.quantity), 0), COALESCE((NEW.item_id + 0) * abs(NEW.quantity) * COALESCE(NEW.restock, 0), 0))
	ON CONFLICT (tx_id) DO UPDATE SET
		p_lines = p_lines + excluded.p_lines, p_noitem = p_noitem + excluded.p_noitem, p_qty = p_qty + excluded.p_qty,
		p_restock_qty = p_restock_qty + excluded.p_restock_qty, p_gross = p_gross + excluded.p_gross, p_discount =
		p_discount + excluded.p_discount, p_tax = p_tax + excluded.p_tax, p_x_gross = p_x_gross + excluded.p_x_gross,
		p_x_discount = p_x_discount + excluded.p_x_discount, p_x_tax = p_x_tax + excluded.p_x_tax, p_x_mqty = p_x_mqty
		+ excluded.p_x_mqty, p_x_restock_mqty = p_x_restock_mqty + excluded.p_x_restock_mqty, p_x_qty = p_x_qty +
		excluded.p_x_qty, p_x_restock_qty = p_x_restock_qty + excluded.p_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_delete_p AFTER DELETE ON line WHEN COALESCE(OLD.quantity, 0) >= 0 BEGIN
	INSERT INTO tx_sums (tx_id, p_lines, p_noitem, p_qty, p_restock_qty, p_gross, p_discount, p_tax, p_x_gross, p_x_discount, p_x_tax,
		p_x_mqty, p_x_restock_mqty, p_x_qty, p_x_restock_qty)
	VALUES (OLD.tx_id, -1, -((OLD.item_id IS NULL OR OLD.item_id = '')), -(COALESCE(abs(OLD.quantity), 0)),
		-(COALESCE(OLD.restock, 0) * COALESCE(abs(OLD.quantity), 0)), -(COALESCE(CAST(round(abs(OLD.quantity) *
		OLD.unit_price_cents) AS INTEGER), 0)), -(COALESCE(OLD.discount_cents, 0)), -(abs(COALESCE(OLD.tax_cents,
		0))), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * OLD.unit_price_cents) AS INTEGER), 0)),
		-(COALESCE((OLD.item_id + 0) * COALESCE(OLD.discount_cents, 0), 0)), -(COALESCE((OLD.item_id + 0) *
		abs(COALESCE(OLD.tax_cents, 0)), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS
		INTEGER), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS INTEGER) *
		COALESCE(OLD.restock, 0), 0)), -(COALESCE((OLD.item_id + 0) * abs(OLD.quantity), 0)), -(COALESCE((OLD.item_id
		+ 0) * abs(OLD.quantity) * COALESCE(OLD.restock, 0), 0)))
	ON CONFLICT (tx_id) DO UPDATE SET
		p_lines = p_lines + excluded.p_lines, p_noitem = p_noitem + excluded.p_noitem, p_qty = p_qty + excluded.p_qty,
		p_restock_qty = p_restock_qty + excluded.p_restock_qty, p_gross = p_gross + excluded.p_gross, p_discount =
		p_discount + excluded.p_discount, p_tax = p_tax + excluded.p_tax, p_x_gross = p_x_gross + excluded.p_x_gross,
		p_x_discount = p_x_discount + excluded.p_x_discount, p_x_tax = p_x_tax + excluded.p_x_tax, p_x_mqty = p_x_mqty
		+ excluded.p_x_mqty, p_x_restock_mqty = p_x_restock_mqty + excluded.p_x_restock_mqty, p_x_qty = p_x_qty +
		excluded.p_x_qty, p_x_restock_qty = p_x_restock_qty + excluded.p_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_update_old_p AFTER UPDATE ON line WHEN COALESCE(OLD.quantity, 0) >= 0 BEGIN
	INSERT INTO tx_sums (tx_id, p_lines, p_noitem, p_qty, p_restock_qty, p_gross, p_discount, p_tax, p_x_gross, p_x_discount, p_x_tax,
		p_x_mqty, p_x_restock_mqty, p_x_qty, p_x_restock_qty)
	VALUES (OLD.tx_id, -1, -((OLD.item_id IS NULL OR OLD.item_id = '')), -(COALESCE(abs(OLD.quantity), 0)),
		-(COALESCE(OLD.restock, 0) * COALESCE(abs(OLD.quantity), 0)), -(COALESCE(CAST(round(abs(OLD.quantity) *
		OLD.unit_price_cents) AS INTEGER), 0)), -(COALESCE(OLD.discount_cents, 0)), -(abs(COALESCE(OLD.tax_cents,
		0))), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * OLD.unit_price_cents) AS INTEGER), 0)),
		-(COALESCE((OLD.item_id + 0) * COALESCE(OLD.discount_cents, 0), 0)), -(COALESCE((OLD.item_id + 0) *
		abs(COALESCE(OLD.tax_cents, 0)), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS
		INTEGER), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS INTEGER) *
		COALESCE(OLD.restock, 0), 0)), -(COALESCE((OLD.item_id + 0) * abs(OLD.quantity), 0)), -(COALESCE((OLD.item_id
		+ 0) * abs(OLD.quantity) * COALESCE(OLD.restock, 0), 0)))
	ON CONFLICT (tx_id) DO UPDATE SET
		p_lines = p_lines + excluded.p_lines, p_noitem = p_noitem + excluded.p_noitem, p_qty = p_qty + excluded.p_qty,
		p_restock_qty = p_restock_qty + excluded.p_restock_qty, p_gross = p_gross + excluded.p_gross, p_discount =
		p_discount + excluded.p_discount, p_tax = p_tax + excluded.p_tax, p_x_gross = p_x_gross + excluded.p_x_gross,
		p_x_discount = p_x_discount + excluded.p_x_discount, p_x_tax = p_x_tax + excluded.p_x_tax, p_x_mqty = p_x_mqty
		+ excluded.p_x_mqty, p_x_restock_mqty = p_x_restock_mqty + excluded.p_x_restock_mqty, p_x_qty = p_x_qty +
		excluded.p_x_qty, p_x_restock_qty = p_x_restock_qty + excluded.p_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_update_new_p AFTER UPDATE ON line WHEN COALESCE(NEW.quantity, 0) >= 0 BEGIN
	INSERT INTO tx_sums (tx_id, p_lines, p_noitem, p_qty, p_restock_qty, p_gross, p_discount, p_tax, p_x_gross, p_x_discount, p_x_tax,
		p_x_mqty, p_x_restock_mqty, p_x_qty, p_x_restock_qty)
	VALUES (NEW.tx_id, 1, (NEW.item_id IS NULL OR NEW.item_id = ''), COALESCE(abs(NEW.quantity), 0), COALESCE(NEW.restock,
		0) * COALESCE(abs(NEW.quantity), 0), COALESCE(CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS
		INTEGER), 0), COALESCE(NEW.discount_cents, 0), abs(COALESCE(NEW.tax_cents, 0)), COALESCE((NEW.item_id + 0) *
		CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS INTEGER), 0), COALESCE((NEW.item_id + 0) *
		COALESCE(NEW.discount_cents, 0), 0), COALESCE((NEW.item_id + 0) * abs(COALESCE(NEW.tax_cents, 0)), 0),
		COALESCE((NEW.item_id + 0) * CAST(round(abs(NEW.quantity) * 1000) AS INTEGER), 0), COALESCE((NEW.item_id + 0)
		* CAST(round(abs(NEW.quantity) * 1000) AS INTEGER) * COALESCE(NEW.restock, 0), 0), COALESCE((NEW.item_id + 0)
		* abs(NEW.quantity), 0), COALESCE((NEW.item_id + 0) * abs(NEW.quantity) * COALESCE(NEW.restock, 0), 0))
	ON CONFLICT (tx_id) DO UPDATE SET
		p_lines = p_lines + excluded.p_lines, p_noitem = p_noitem + excluded.p_noitem, p_qty = p_qty + excluded.p_qty,
		p_restock_qty = p_restock_qty + excluded.p_restock_qty, p_gross = p_gross + excluded.p_gross, p_discount =
		p_discount + excluded.p_discount, p_tax = p_tax + excluded.p_tax, p_x_gross = p_x_gross + excluded.p_x_gross,
		p_x_discount = p_x_discount + excluded.p_x_discount, p_x_tax = p_x_tax + excluded.p_x_tax, p_x_mqty = p_x_mqty
		+ excluded.p_x_mqty, p_x_restock_mqty = p_x_restock_mqty + excluded.p_x_restock_mqty, p_x_qty = p_x_qty +
		excluded.p_x_qty, p_x_restock_qty = p_x_restock_qty + excluded.p_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_insert_n AFTER INSERT ON line WHEN NEW.quantity < 0 BEGIN
	INSERT INTO tx_sums (tx_id, n_lines, n_noitem, n_qty, n_restock_qty, n_gross, n_discount, n_tax, n_x_gross, n_x_discount, n_x_tax,
		n_x_mqty, n_x_restock_mqty, n_x_qty, n_x_restock_qty)
	VALUES (NEW.tx_id, 1, (NEW.item_id IS NULL OR NEW.item_id = ''), COALESCE(abs(NEW.quantity), 0), COALESCE(NEW.restock,
		0) * COALESCE(abs(NEW.quantity), 0), COALESCE(CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS
		INTEGER), 0), COALESCE(NEW.discount_cents, 0), abs(COALESCE(NEW.tax_cents, 0)), COALESCE((NEW.item_id + 0) *
		CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS INTEGER), 0), COALESCE((NEW.item_id + 0) *
		COALESCE(NEW.discount_cents, 0), 0), COALESCE((NEW.item_id + 0) * abs(COALESCE(NEW.tax_cents, 0)), 0),
		COALESCE((NEW.item_id + 0) * CAST(round(abs(NEW.quantity) * 1000) AS INTEGER), 0), COALESCE((NEW.item_id + 0)
		* CAST(round(abs(NEW.quantity) * 1000) AS INTEGER) * COALESCE(NEW.restock, 0), 0), COALESCE((NEW.item_id + 0)
		* abs(NEW.quantity), 0), COALESCE((NEW.item_id + 0) * abs(NEW.quantity) * COALESCE(NEW.restock, 0), 0))
	ON CONFLICT (tx_id) DO UPDATE SET
		n_lines = n_lines + excluded.n_lines, n_noitem = n_noitem + excluded.n_noitem, n_qty = n_qty + excluded.n_qty,
		n_restock_qty = n_restock_qty + excluded.n_restock_qty, n_gross = n_gross + excluded.n_gross, n_discount =
		n_discount + excluded.n_discount, n_tax = n_tax + excluded.n_tax, n_x_gross = n_x_gross + excluded.n_x_gross,
		n_x_discount = n_x_discount + excluded.n_x_discount, n_x_tax = n_x_tax + excluded.n_x_tax, n_x_mqty = n_x_mqty
		+ excluded.n_x_mqty, n_x_restock_mqty = n_x_restock_mqty + excluded.n_x_restock_mqty, n_x_qty = n_x_qty +
		excluded.n_x_qty, n_x_restock_qty = n_x_restock_qty + excluded.n_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_delete_n AFTER DELETE ON line WHEN OLD.quantity < 0 BEGIN
	INSERT INTO tx_sums (tx_id, n_lines, n_noitem, n_qty, n_restock_qty, n_gross, n_discount, n_tax, n_x_gross, n_x_discount, n_x_tax,
		n_x_mqty, n_x_restock_mqty, n_x_qty, n_x_restock_qty)
	VALUES (OLD.tx_id, -1, -((OLD.item_id IS NULL OR OLD.item_id = '')), -(COALESCE(abs(OLD.quantity), 0)),
		-(COALESCE(OLD.restock, 0) * COALESCE(abs(OLD.quantity), 0)), -(COALESCE(CAST(round(abs(OLD.quantity) *
		OLD.unit_price_cents) AS INTEGER), 0)), -(COALESCE(OLD.discount_cents, 0)), -(abs(COALESCE(OLD.tax_cents,
		0))), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * OLD.unit_price_cents) AS INTEGER), 0)),
		-(COALESCE((OLD.item_id + 0) * COALESCE(OLD.discount_cents, 0), 0)), -(COALESCE((OLD.item_id + 0) *
		abs(COALESCE(OLD.tax_cents, 0)), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS
		INTEGER), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS INTEGER) *
		COALESCE(OLD.restock, 0), 0)), -(COALESCE((OLD.item_id + 0) * abs(OLD.quantity), 0)), -(COALESCE((OLD.item_id
		+ 0) * abs(OLD.quantity) * COALESCE(OLD.restock, 0), 0)))
	ON CONFLICT (tx_id) DO UPDATE SET
		n_lines = n_lines + excluded.n_lines, n_noitem = n_noitem + excluded.n_noitem, n_qty = n_qty + excluded.n_qty,
		n_restock_qty = n_restock_qty + excluded.n_restock_qty, n_gross = n_gross + excluded.n_gross, n_discount =
		n_discount + excluded.n_discount, n_tax = n_tax + excluded.n_tax, n_x_gross = n_x_gross + excluded.n_x_gross,
		n_x_discount = n_x_discount + excluded.n_x_discount, n_x_tax = n_x_tax + excluded.n_x_tax, n_x_mqty = n_x_mqty
		+ excluded.n_x_mqty, n_x_restock_mqty = n_x_restock_mqty + excluded.n_x_restock_mqty, n_x_qty = n_x_qty +
		excluded.n_x_qty, n_x_restock_qty = n_x_restock_qty + excluded.n_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_update_old_n AFTER UPDATE ON line WHEN OLD.quantity < 0 BEGIN
	INSERT INTO tx_sums (tx_id, n_lines, n_noitem, n_qty, n_restock_qty, n_gross, n_discount, n_tax, n_x_gross, n_x_discount, n_x_tax,
		n_x_mqty, n_x_restock_mqty, n_x_qty, n_x_restock_qty)
	VALUES (OLD.tx_id, -1, -((OLD.item_id IS NULL OR OLD.item_id = '')), -(COALESCE(abs(OLD.quantity), 0)),
		-(COALESCE(OLD.restock, 0) * COALESCE(abs(OLD.quantity), 0)), -(COALESCE(CAST(round(abs(OLD.quantity) *
		OLD.unit_price_cents) AS INTEGER), 0)), -(COALESCE(OLD.discount_cents, 0)), -(abs(COALESCE(OLD.tax_cents,
		0))), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * OLD.unit_price_cents) AS INTEGER), 0)),
		-(COALESCE((OLD.item_id + 0) * COALESCE(OLD.discount_cents, 0), 0)), -(COALESCE((OLD.item_id + 0) *
		abs(COALESCE(OLD.tax_cents, 0)), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS
		INTEGER), 0)), -(COALESCE((OLD.item_id + 0) * CAST(round(abs(OLD.quantity) * 1000) AS INTEGER) *
		COALESCE(OLD.restock, 0), 0)), -(COALESCE((OLD.item_id + 0) * abs(OLD.quantity), 0)), -(COALESCE((OLD.item_id
		+ 0) * abs(OLD.quantity) * COALESCE(OLD.restock, 0), 0)))
	ON CONFLICT (tx_id) DO UPDATE SET
		n_lines = n_lines + excluded.n_lines, n_noitem = n_noitem + excluded.n_noitem, n_qty = n_qty + excluded.n_qty,
		n_restock_qty = n_restock_qty + excluded.n_restock_qty, n_gross = n_gross + excluded.n_gross, n_discount =
		n_discount + excluded.n_discount, n_tax = n_tax + excluded.n_tax, n_x_gross = n_x_gross + excluded.n_x_gross,
		n_x_discount = n_x_discount + excluded.n_x_discount, n_x_tax = n_x_tax + excluded.n_x_tax, n_x_mqty = n_x_mqty
		+ excluded.n_x_mqty, n_x_restock_mqty = n_x_restock_mqty + excluded.n_x_restock_mqty, n_x_qty = n_x_qty +
		excluded.n_x_qty, n_x_restock_qty = n_x_restock_qty + excluded.n_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS line_sums_update_new_n AFTER UPDATE ON line WHEN NEW.quantity < 0 BEGIN
	INSERT INTO tx_sums (tx_id, n_lines, n_noitem, n_qty, n_restock_qty, n_gross, n_discount, n_tax, n_x_gross, n_x_discount, n_x_tax,
		n_x_mqty, n_x_restock_mqty, n_x_qty, n_x_restock_qty)
	VALUES (NEW.tx_id, 1, (NEW.item_id IS NULL OR NEW.item_id = ''), COALESCE(abs(NEW.quantity), 0), COALESCE(NEW.restock,
		0) * COALESCE(abs(NEW.quantity), 0), COALESCE(CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS
		INTEGER), 0), COALESCE(NEW.discount_cents, 0), abs(COALESCE(NEW.tax_cents, 0)), COALESCE((NEW.item_id + 0) *
		CAST(round(abs(NEW.quantity) * NEW.unit_price_cents) AS INTEGER), 0), COALESCE((NEW.item_id + 0) *
		COALESCE(NEW.discount_cents, 0), 0), COALESCE((NEW.item_id + 0) * abs(COALESCE(NEW.tax_cents, 0)), 0),
		COALESCE((NEW.item_id + 0) * CAST(round(abs(NEW.quantity) * 1000) AS INTEGER), 0), COALESCE((NEW.item_id + 0)
		* CAST(round(abs(NEW.quantity) * 1000) AS INTEGER) * COALESCE(NEW.restock, 0), 0), COALESCE((NEW.item_id + 0)
		* abs(NEW.quantity), 0), COALESCE((NEW.item_id + 0) * abs(NEW.quantity) * COALESCE(NEW.restock, 0), 0))
	ON CONFLICT (tx_id) DO UPDATE SET
		n_lines = n_lines + excluded.n_lines, n_noitem = n_noitem + excluded.n_noitem, n_qty = n_qty + excluded.n_qty,
		n_restock_qty = n_restock_qty + excluded.n_restock_qty, n_gross = n_gross + excluded.n_gross, n_discount =
		n_discount + excluded.n_discount, n_tax = n_tax + excluded.n_tax, n_x_gross = n_x_gross + excluded.n_x_gross,
		n_x_discount = n_x_discount + excluded.n_x_discount, n_x_tax = n_x_tax + excluded.n_x_tax, n_x_mqty = n_x_mqty
		+ excluded.n_x_mqty, n_x_restock_mqty = n_x_restock_mqty + excluded.n_x_restock_mqty, n_x_qty = n_x_qty +
		excluded.n_x_qty, n_x_restock_qty = n_x_restock_qty + excluded.n_x_restock_qty;
END;
CREATE TRIGGER IF NOT EXISTS tender_sums_insert AFTER INSERT ON tender BEGIN
	INSERT INTO tx_sums (tx_id, tenders, tender_card, tender_card_abs, tender_cash, tender_cash_abs, tender_gift, tender_gift_abs,
		tender_other, tender_other_abs)
	VALUES (NEW.tx_id, 1, iif(NEW.type = 'card', COALESCE(NEW.amount_cents, 0), 0), iif(NEW.type = 'card',
		abs(COALESCE(NEW.amount_cents, 0)), 0), iif(NEW.type = 'cash', COALESCE(NEW.amount_cents, 0), 0), iif(NEW.type
		= 'cash', abs(COALESCE(NEW.amount_cents, 0)), 0), iif(NEW.type = 'gift_card', COALESCE(NEW.amount_cents, 0),
		0), iif(NEW.type = 'gift_card', abs(COALESCE(NEW.amount_cents, 0)), 0), iif(NEW.type NOT IN ('card', 'cash',
		'gift_card') OR NEW.type IS NULL, COALESCE(NEW.amount_cents, 0), 0), iif(NEW.type NOT IN ('card', 'cash',
		'gift_card') OR NEW.type IS NULL, abs(COALESCE(NEW.amount_cents, 0)), 0))
	ON CONFLICT (tx_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_card_abs =
		tender_card_abs + excluded.tender_card_abs, tender_cash = tender_cash + excluded.tender_cash, tender_cash_abs
		= tender_cash_abs + excluded.tender_cash_abs, tender_gift = tender_gift + excluded.tender_gift,
		tender_gift_abs = tender_gift_abs + excluded.tender_gift_abs, tender_other = tender_other +
		excluded.tender_other, tender_other_abs = tender_other_abs + excluded.tender_other_abs;
END;
CREATE TRIGGER IF NOT EXISTS tender_sums_delete AFTER DELETE ON tender BEGIN
	INSERT INTO tx_sums (tx_id, tenders, tender_card, tender_card_abs, tender_cash, tender_cash_abs, tender_gift, tender_gift_abs,
		tender_other, tender_other_abs)
	VALUES (OLD.tx_id, -1, -(iif(OLD.type = 'card', COALESCE(OLD.amount_cents, 0), 0)), -(iif(OLD.type = 'card',
		abs(COALESCE(OLD.amount_cents, 0)), 0)), -(iif(OLD.type = 'cash', COALESCE(OLD.amount_cents, 0), 0)),
		-(iif(OLD.type = 'cash', abs(COALESCE(OLD.amount_cents, 0)), 0)), -(iif(OLD.type = 'gift_card',
		COALESCE(OLD.amount_cents, 0), 0)), -(iif(OLD.type = 'gift_card', abs(COALESCE(OLD.amount_cents, 0)), 0)),
		-(iif(OLD.type NOT IN ('card', 'cash', 'gift_card') OR OLD.type IS NULL, COALESCE(OLD.amount_cents, 0), 0)),
		-(iif(OLD.type NOT IN ('card', 'cash', 'gift_card') OR OLD.type IS NULL, abs(COALESCE(OLD.amount_cents, 0)),
		0)))
	ON CONFLICT (tx_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_card_abs =
		tender_card_abs + excluded.tender_card_abs, tender_cash = tender_cash + excluded.tender_cash, tender_cash_abs
		= tender_cash_abs + excluded.tender_cash_abs, tender_gift = tender_gift + excluded.tender_gift,
		tender_gift_abs = tender_gift_abs + excluded.tender_gift_abs, tender_other = tender_other +
		excluded.tender_other, tender_other_abs = tender_other_abs + excluded.tender_other_abs;
END;
CREATE TRIGGER IF NOT EXISTS tender_sums_update AFTER UPDATE ON tender BEGIN
	INSERT INTO tx_sums (tx_id, tenders, tender_card, tender_card_abs, tender_cash, tender_cash_abs, tender_gift, tender_gift_abs,
		tender_other, tender_other_abs)
	VALUES (OLD.tx_id, -1, -(iif(OLD.type = 'card', COALESCE(OLD.amount_cents, 0), 0)), -(iif(OLD.type = 'card',
		abs(COALESCE(OLD.amount_cents, 0)), 0)), -(iif(OLD.type = 'cash', COALESCE(OLD.amount_cents, 0), 0)),
		-(iif(OLD.type = 'cash', abs(COALESCE(OLD.amount_cents, 0)), 0)), -(iif(OLD.type = 'gift_card',
		COALESCE(OLD.amount_cents, 0), 0)), -(iif(OLD.type = 'gift_card', abs(COALESCE(OLD.amount_cents, 0)), 0)),
		-(iif(OLD.type NOT IN ('card', 'cash', 'gift_card') OR OLD.type IS NULL, COALESCE(OLD.amount_cents, 0), 0)),
		-(iif(OLD.type NOT IN ('card', 'cash', 'gift_card') OR OLD.type IS NULL, abs(COALESCE(OLD.amount_cents, 0)),
		0)))
	ON CONFLICT (tx_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_card_abs =
		tender_card_abs + excluded.tender_card_abs, tender_cash = tender_cash + excluded.tender_cash, tender_cash_abs
		= tender_cash_abs + excluded.tender_cash_abs, tender_gift = tender_gift + excluded.tender_gift,
		tender_gift_abs = tender_gift_abs + excluded.tender_gift_abs, tender_other = tender_other +
		excluded.tender_other, tender_other_abs = tender_other_abs + excluded.tender_other_abs;
	INSERT INTO tx_sums (tx_id, tenders, tender_card, tender_card_abs, tender_cash, tender_cash_abs, tender_gift, tender_gift_abs,
		tender_other, tender_other_abs)
	VALUES (NEW.tx_id, 1, iif(NEW.type = 'card', COALESCE(NEW.amount_cents, 0), 0), iif(NEW.type = 'card',
		abs(COALESCE(NEW.amount_cents, 0)), 0), iif(NEW.type = 'cash', COALESCE(NEW.amount_cents, 0), 0), iif(NEW.type
		= 'cash', abs(COALESCE(NEW.amount_cents, 0)), 0), iif(NEW.type = 'gift_card', COALESCE(NEW.amount_cents, 0),
		0), iif(NEW.type = 'gift_card', abs(COALESCE(NEW.amount_cents, 0)), 0), iif(NEW.type NOT IN ('card', 'cash',
		'gift_card') OR NEW.type IS NULL, COALESCE(NEW.amount_cents, 0), 0), iif(NEW.type NOT IN ('card', 'cash',
		'gift_card') OR NEW.type IS NULL, abs(COALESCE(NEW.amount_cents, 0)), 0))
	ON CONFLICT (tx_id) DO UPDATE SET
		tenders = tenders + excluded.tenders, tender_card = tender_card + excluded.tender_card, tender_card_abs =
		tender_card_abs + excluded.tender_card_abs, tender_cash = tender_cash + excluded.tender_cash, tender_cash_abs
		= tender_cash_abs + excluded.tender_cash_abs, tender_gift = tender_gift + excluded.tender_gift,
		tender_gift_abs = tender_gift_abs + excluded.tender_gift_abs, tender_other = tender_other +
		excluded.tender_other, tender_other_abs = tender_other_abs + excluded.tender_other_abs;
END;
`

// netsuiteSchema is the NetSuite simulator's books DDL (attached as "ns").
const netsuiteSchema = `
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

// gatewaySchema is the gateway simulator's books DDL (attached as "gw").
const gatewaySchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payment_intents (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  capture_method TEXT NOT NULL,
  payment_method_types TEXT NOT NULL,
  payment_method TEXT,
  amount_capturable INTEGER NOT NULL DEFAULT 0,
  amount_received INTEGER NOT NULL DEFAULT 0,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  latest_charge TEXT,
  reader_id TEXT,
  description TEXT,
  receipt_email TEXT,
  cancellation_reason TEXT,
  last_payment_error TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  pos_tx TEXT,
  store TEXT,
  register TEXT,
  client_secret TEXT NOT NULL,
  created INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  authorized_at TEXT,
  captured_at TEXT,
  canceled_at TEXT,
  updated_at TEXT NOT NULL,
  CHECK (amount_received + amount_capturable <= amount),
  CHECK (amount_refunded <= amount_received)
);
CREATE INDEX IF NOT EXISTS payment_intents_pos_tx ON payment_intents(pos_tx);
CREATE INDEX IF NOT EXISTS payment_intents_created ON payment_intents(created);
CREATE TABLE IF NOT EXISTS charges (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  payment_intent TEXT NOT NULL,
  amount INTEGER NOT NULL,
  amount_captured INTEGER NOT NULL DEFAULT 0,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  captured INTEGER NOT NULL DEFAULT 0,
  payment_method TEXT,
  payment_method_type TEXT,
  brand TEXT,
  last4 TEXT,
  funding TEXT,
  failure_code TEXT,
  failure_message TEXT,
  decline_code TEXT,
  reader_id TEXT,
  created INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  captured_at TEXT,
  released_at TEXT,
  CHECK (amount_refunded <= amount_captured)
);
CREATE INDEX IF NOT EXISTS charges_payment_intent ON charges(payment_intent);
CREATE TABLE IF NOT EXISTS refunds (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  payment_intent TEXT NOT NULL,
  charge TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  reason TEXT,
  status TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  pos_tx TEXT,
  created INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_payment_intent ON refunds(payment_intent);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds(charge);
CREATE TABLE IF NOT EXISTS payment_methods (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  number TEXT,
  brand TEXT,
  last4 TEXT,
  funding TEXT,
  exp_month INTEGER,
  exp_year INTEGER,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payment_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  payment_intent TEXT NOT NULL,
  type TEXT NOT NULL,
  amount INTEGER NOT NULL,
  status_before TEXT,
  status_after TEXT NOT NULL,
  object_id TEXT,
  code TEXT,
  idempotency_key TEXT,
  request_id TEXT
);
CREATE INDEX IF NOT EXISTS payment_events_intent ON payment_events(payment_intent);
CREATE TABLE IF NOT EXISTS reader_actions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  reader_id TEXT NOT NULL,
  type TEXT NOT NULL,
  payment_intent TEXT,
  status TEXT NOT NULL,
  failure_code TEXT,
  failure_message TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS terminal_readers (
  id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  register_id TEXT NOT NULL,
  location_id TEXT NOT NULL,
  stripe_location TEXT NOT NULL
);
`
