package pos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/doorbuster/doorbuster/contract"
)

// JournalSchema is journal.db's schema: the tables of the run directory contract
// (INTERFACES.md) plus the columns and tables marked "added". All money is in integer
// cents; times are RFC 3339 UTC with nanoseconds (fixed width, so they sort as text).
// line_no and tender_no are 0-based, the index in the contract's lines and tenders.
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

// timeFormat is RFC 3339 with nanoseconds, fixed width.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// Transaction outcomes in the journal.
const (
	OutcomeAcknowledged   = "acknowledged"
	OutcomeRejected       = "rejected"
	OutcomeUnacknowledged = "unacknowledged"
)

// Payment outcomes in the journal.
const (
	PayCaptured = "captured"
	PayCanceled = "canceled"
	PayDeclined = "declined"
	PayFailed   = "failed"
	PayVoided   = "voided"
)

// txEntry is one transaction's journal entry.
type txEntry struct {
	tx           *contract.Transaction
	body         []byte
	scenario     string
	flow         string
	customerKind string
	lines        []lineMeta // per line: what the contract does not carry
	submittedAt  time.Time
	ackedAt      time.Time
	ackStatus    int
	outcome      string
	attempts     int
	batchStatus  string
	err          string
}

// paymentEntry is one card-terminal authorisation attempt.
type paymentEntry struct {
	intentID, txID, registerID, locationID string
	amount                                 int64
	outcome                                string
	created, finished                      time.Time
	flow, last4, declineCode, err          string
	offline                                bool
	captured                               int64
}

// lineMeta is what a register knows of a line beyond the contract.
type lineMeta struct {
	itemID  string
	taxRate float64
	weighed bool
}

type probeEntry struct {
	sku, itemID, locationID string
	onHand                  *float64
	expected                float64
	status                  int
	at                      time.Time
}

type drawerEntry struct {
	registerID, locationID string
	in, out                int64
	count                  int64
}

type metaEntry struct{ key, value string }

// JournalStats tell how the journal writer is doing.
type JournalStats struct {
	Transactions int64 // transaction rows written
	Payments     int64
	Probes       int64
	Flushes      int64 // SQL transactions committed
	MaxBatch     int   // most entries in one flush
	Errors       int64 // failed flushes (their entries are lost, and logged)
	Pending      int   // entries waiting in the channel
	LastError    string
}

// journal appends entries to journal.db through one writer goroutine.
type journal struct {
	db   *sql.DB
	log  *slog.Logger
	ch   chan any
	done chan struct{}

	mu     sync.RWMutex // senders hold it shared; close holds it exclusively
	closed bool

	txs, pays, probes, flushes, errs atomic.Int64
	maxBatch                         atomic.Int64
	lastErr                          atomic.Value // string
}

const (
	journalChan     = 8192
	journalBatch    = 512
	journalInterval = 100 * time.Millisecond
)

// openJournal creates the journal at path (an existing file is replaced).
func openJournal(path string, log *slog.Logger) (*journal, error) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("pos: journal: remove old %s: %w", p, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		return nil, fmt.Errorf("pos: journal: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(JournalSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("pos: journal: create schema in %s: %w", path, err)
	}
	j := &journal{db: db, log: log, ch: make(chan any, journalChan), done: make(chan struct{})}
	go j.run()
	return j, nil
}

// add queues an entry; it blocks only while the channel is full.
func (j *journal) add(e any) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		j.log.Warn("pos: journal entry after close dropped", "entry", fmt.Sprintf("%T", e))
		return
	}
	j.ch <- e
}

func (j *journal) run() {
	defer close(j.done)
	tick := time.NewTicker(journalInterval)
	defer tick.Stop()
	batch := make([]any, 0, journalBatch)
	for {
		select {
		case e, ok := <-j.ch:
			if !ok {
				j.flush(batch)
				return
			}
			batch = append(batch, e)
			if len(batch) >= journalBatch {
				j.flush(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			if len(batch) > 0 {
				j.flush(batch)
				batch = batch[:0]
			}
		}
	}
}

// flush writes a batch in one SQL transaction; a failure is retried once, then the
// batch is logged and counted as lost.
func (j *journal) flush(batch []any) {
	if len(batch) == 0 {
		return
	}
	var err error
	for attempt := range 2 {
		if err = j.write(batch); err == nil {
			break
		}
		if attempt == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err != nil {
		j.errs.Add(1)
		j.lastErr.Store(err.Error())
		j.log.Error("pos: journal write failed; entries lost", "entries", len(batch), "err", err)
		return
	}
	j.flushes.Add(1)
	if n := int64(len(batch)); n > j.maxBatch.Load() {
		j.maxBatch.Store(n)
	}
	for _, e := range batch {
		switch e.(type) {
		case *txEntry:
			j.txs.Add(1)
		case *paymentEntry:
			j.pays.Add(1)
		case *probeEntry:
			j.probes.Add(1)
		}
	}
}

func (j *journal) write(batch []any) error {
	ctx := context.Background()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	stmts := map[string]*sql.Stmt{}
	exec := func(query string, args ...any) error {
		st, ok := stmts[query]
		if !ok {
			if st, err = tx.PrepareContext(ctx, query); err != nil {
				return fmt.Errorf("prepare: %w", err)
			}
			stmts[query] = st
		}
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	for _, e := range batch {
		var err error
		switch e := e.(type) {
		case *txEntry:
			err = writeTx(exec, e)
		case *paymentEntry:
			err = exec(`INSERT OR REPLACE INTO payment (intent_id, tx_id, register_id, location_id, amount_cents, outcome,
  created_at, finished_at, flow, card_last4, decline_code, offline, captured_cents, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				e.intentID, e.txID, e.registerID, e.locationID, e.amount, e.outcome, fmtTime(e.created), fmtTime(e.finished),
				e.flow, nullStr(e.last4), nullStr(e.declineCode), boolInt(e.offline), e.captured, nullStr(e.err))
		case *probeEntry:
			var onHand any
			if e.onHand != nil {
				onHand = *e.onHand
			}
			err = exec(`INSERT INTO stock_probe (sku, location_id, connector_on_hand, probed_at, item_id, expected_on_hand, status)
  VALUES (?,?,?,?,?,?,?)`, e.sku, e.locationID, onHand, fmtTime(e.at), e.itemID, e.expected, e.status)
		case *drawerEntry:
			err = exec(`INSERT OR REPLACE INTO drawer (register_id, location_id, cash_in_cents, cash_out_cents, transactions)
  VALUES (?,?,?,?,?)`, e.registerID, e.locationID, e.in, e.out, e.count)
		case metaEntry:
			err = exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, e.key, e.value)
		default:
			err = fmt.Errorf("unknown entry %T", e)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

func writeTx(exec func(string, ...any) error, e *txEntry) error {
	t := e.tx
	sign := int64(1)
	if t.Type == contract.Return {
		sign = -1
	}
	var sub, disc, tax, total int64
	for _, l := range t.Lines {
		sub += l.UnitPrice.Mul(l.Quantity).Cents()
		disc += l.Discount.Cents()
		tax += l.TaxAmount.Cents()
		total += contract.LineTotal(l).Cents()
	}
	var cust *contract.Customer = t.Customer
	var email, loyalty any
	identity := ""
	if cust != nil {
		email, loyalty = nullStr(cust.Email), nullStr(cust.LoyaltyID)
		if cust.LoyaltyID != "" {
			identity = "LOY-" + cust.LoyaltyID
		}
	}
	var acked any
	if e.ackStatus != 0 {
		acked = e.ackStatus
	}
	if err := exec(`INSERT OR REPLACE INTO tx (id, type, scenario, flow, location_id, register_id, cashier_id, occurred_at,
  occurred_date, customer_identity, customer_email, customer_loyalty_id, original_tx_id, offline, subtotal_cents,
  discount_cents, tax_cents, total_cents, submitted_at, acked_at, ack_status, outcome, body, attempts, batch_status,
  error, customer_kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		t.ID, string(t.Type), e.scenario, e.flow, t.LocationID, t.RegisterID, t.CashierID, fmtTime(t.OccurredAt),
		t.OccurredAt.UTC().Format(time.DateOnly), identity, email, loyalty, nullStr(t.OriginalTransactionID),
		boolInt(t.Offline), sign*sub, sign*disc, sign*tax, sign*total, fmtTime(e.submittedAt), fmtTime(e.ackedAt), acked,
		e.outcome, string(e.body), e.attempts, nullStr(e.batchStatus), nullStr(e.err), nullStr(e.customerKind)); err != nil {
		return fmt.Errorf("tx %s: %w", t.ID, err)
	}
	// A transaction written again replaces its lines and tenders: deleted first (not
	// INSERT OR REPLACE, whose implicit deletes would not reach tx_sums's triggers).
	for _, q := range []string{`DELETE FROM line WHERE tx_id = ?`, `DELETE FROM tender WHERE tx_id = ?`} {
		if err := exec(q, t.ID); err != nil {
			return fmt.Errorf("tx %s: %w", t.ID, err)
		}
	}
	for i, l := range t.Lines {
		signed := l.Quantity
		lineTotal := contract.LineTotal(l).Cents()
		if t.Type == contract.Return {
			signed, lineTotal = -signed, -lineTotal
		}
		var itemID, rate any
		weighed := false
		if i < len(e.lines) {
			itemID, rate, weighed = nullStr(e.lines[i].itemID), e.lines[i].taxRate, e.lines[i].weighed
		}
		if err := exec(`INSERT INTO line (tx_id, line_no, sku, item_id, quantity, unit_price_cents, discount_cents,
  tax_code, tax_rate, tax_cents, restock, signed_quantity, total_cents, weighed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			t.ID, i, l.SKU, itemID, l.Quantity, l.UnitPrice.Cents(), l.Discount.Cents(), l.TaxCode, rate,
			l.TaxAmount.Cents(), boolInt(l.Restock), signed, lineTotal, boolInt(weighed)); err != nil {
			return fmt.Errorf("tx %s line %d: %w", t.ID, i, err)
		}
	}
	for i, td := range t.Tenders {
		signed := td.Amount.Cents()
		if t.Type == contract.Return {
			signed = -signed
		}
		if err := exec(`INSERT INTO tender (tx_id, tender_no, type, amount_cents, payment_intent_id,
  signed_amount_cents) VALUES (?,?,?,?,?,?)`,
			t.ID, i, string(td.Type), td.Amount.Cents(), nullStr(td.PaymentIntentID), signed); err != nil {
			return fmt.Errorf("tx %s tender %d: %w", t.ID, i, err)
		}
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// close drains the channel, writes everything and closes the database.
func (j *journal) close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.ch)
	j.mu.Unlock()
	<-j.done
	_, cerr := j.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	err := j.db.Close()
	if n := j.errs.Load(); n > 0 {
		return fmt.Errorf("pos: journal: %d flushes failed, the last: %v", n, j.lastErr.Load())
	}
	if cerr != nil {
		return fmt.Errorf("pos: journal: checkpoint: %w", cerr)
	}
	return err
}

func (j *journal) stats() JournalStats {
	s := JournalStats{
		Transactions: j.txs.Load(), Payments: j.pays.Load(), Probes: j.probes.Load(),
		Flushes: j.flushes.Load(), MaxBatch: int(j.maxBatch.Load()), Errors: j.errs.Load(), Pending: len(j.ch),
	}
	if v, ok := j.lastErr.Load().(string); ok {
		s.LastError = v
	}
	return s
}
