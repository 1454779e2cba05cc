package invariants

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Helper tables, built in the temp schema once per session by the invariants that
// need them. Custom invariants may read them too. Money is in cents; a part is the
// record of a transaction it belongs in: 'S' the cash sale, 'R' the cash refund (an
// exchange has both).
//
//	pos_origin   per NetSuite cash sale or refund: ns_id, recordtype, part, tx_id (the
//	             journal transaction it posts, NULL when none), claimed (the POS id it
//	             names), createddate, trandate, location, entity, createdfrom, subtotal,
//	             tax, total.
//	pos_tx       per journal transaction: id, type, loc, d (occurred date), offline,
//	             outcome, ack (acknowledged), acc (the books must reflect it:
//	             acknowledged, or posted anyway), ident, orig, acked.
//	pos_jline    (view) per journal line: tx_id, part, line_no, item (NetSuite id), q
//	             (quantity, positive), amt (line amount before tax, as the record must
//	             carry it), tax, restock (returned lines only), h (signature), and the
//	             transaction's loc, d, offline, ack, acc, orig, type.
//	pos_jpart    per journal transaction and part: n (lines), q, amt, tax, rq
//	             (restocked quantity), h, sq (Σ item × the quantity that moves stock: sold,
//	             or restocked), and the transaction's type, loc, d, offline, ack, acc.
//	pos_rsum     (view) per NetSuite transaction, its sums (the books' transaction_sums):
//	             item lines n, q, amt, tax, rq, h; stock moves mn, mq, miq, mloc (Σ
//	             location), mloc2 (Σ location²); tenders tn, card, cash, gift, other;
//	             GL lines gn, dr, cr.
//	pos_rline    (view) pos_rsum of the transactions with item lines: n, q, amt, tax, rq, h.
//	pos_rmove    (view) of those with stock moves: n, mq (Σ quantity, signed), miq (Σ
//	             item×quantity), mloc, mloc2.
//	pos_jtender  per journal transaction: card, cash, gift, other — signed tender
//	             amounts (money in > 0, paid back < 0) — and loc, d, acc.
//	pos_rtender  (view) per NetSuite record with tenders: card, cash, gift, other.
//	pos_cmp      the records that differ from their journal transaction (see "cmp").
//	pos_missing  accounted journal parts no record posts.
//	pos_dups     journal parts posted by more than one record.
//	pos_gl       (view) per NetSuite transaction with GL lines: dr, cr.
//	pos_brev     per location and day: bamt, bn (NetSuite's cash sales and refunds).
//	pos_rev      per location and day: jamt, jn (journal), bamt, bn (NetSuite).
//	pos_intent   gateway payment intent → the journal transaction it paid for.
//	pos_gi       per gateway intent: tx_id, acc, loc, d, status, received, refunded,
//	             capturable, pos_tx.
//	pos_ledger   (only with a start snapshot) per location and item: startq, moves, endq.
type helper struct {
	needs []string
	sql   []string
	// stage: the worker stage that builds the helper when the session has a worker
	// (see worker.go); its statements then may not use the session's temp tables.
	stage string
	build func(ctx context.Context, s *session) ([]string, error) // instead of sql
	// unless, when set, is an EXISTS query: when it yields 1 the helper is not built
	// (what it would make is already there).
	unless string
	// late are helpers needed only by lateSQL, run after sql: the helper's first
	// statements do not wait for them.
	late    []string
	lateSQL []string
}

// lineHash is a per-line signature over a line's item, amount, tax, quantity and
// restock flag; sums of it per record tell a record whose lines differ from the POS
// transaction's even when the totals agree (tax or amount moved between lines of
// different items, items swapped, restock flags moved).
func lineHash(item, amt, tax, q, restock string) string {
	return "(" + item + " * (" + amt + " + 3 * " + tax + " + 7 * CAST(round(" + q + " * 1000) AS INTEGER) * (1 + 2 * " + restock + ")))"
}

// partOf is a journal line's part: the record of an exchange it belongs to.
const partOf = `CASE WHEN j.type = 'sale' THEN 'S' WHEN j.type = 'return' OR l.quantity < 0 THEN 'R' ELSE 'S' END`

// lineItem is a journal line's item: its NetSuite id, else the item of its SKU.
const lineItem = `COALESCE(l.item_id + 0, (SELECT i.id FROM ns.items i WHERE i.itemid = l.sku))`

// lineAmount is the amount a journal line's record line must carry: the magnitude of
// contract.LineNet, |quantity| × unit price (rounded half away from zero to the cent)
// − discount. The discount always shrinks the line, so an exchange's returned line
// (quantity < 0) carries exactly what the same line sold did.
const lineAmount = `(CAST(round(abs(l.quantity) * l.unit_price_cents) AS INTEGER) - COALESCE(l.discount_cents, 0))`

// jpartCols are pos_jpart's aggregates over pos_jline.
const jpartCols = `COUNT(*), SUM(q), SUM(amt), SUM(tax), SUM(restock * q), SUM(h),
	SUM(item * q * CASE part WHEN 'S' THEN 1 ELSE restock END), type, loc, d, offline, ack, acc`

var helpers = map[string]helper{
	"origin": {stage: "origin", sql: []string{
		`CREATE TEMP TABLE pos_origin (
			ns_id INTEGER PRIMARY KEY, recordtype TEXT NOT NULL, part TEXT NOT NULL, tx_id TEXT, claimed TEXT,
			createddate TEXT, trandate TEXT, location INTEGER, entity INTEGER, createdfrom INTEGER,
			subtotal INTEGER, tax INTEGER, total INTEGER)`,
		// A record names its POS transaction in memo ("POS <id>", the reference
		// connector) or by external id (<id>, or <id>-R / <id>-S for an exchange's two).
		`INSERT INTO pos_origin
		SELECT t.id, t.recordtype, CASE t.recordtype WHEN 'cashSale' THEN 'S' ELSE 'R' END,
			COALESCE(
				(SELECT j.id FROM main.tx j WHERE t.memo LIKE 'POS %' AND j.id = substr(t.memo, 5)),
				(SELECT j.id FROM main.tx j WHERE j.id = t.externalid),
				(SELECT j.id FROM main.tx j WHERE j.type = 'exchange'
					AND substr(t.externalid, -2) = CASE t.recordtype WHEN 'cashSale' THEN '-S' ELSE '-R' END
					AND j.id = substr(t.externalid, 1, length(t.externalid) - 2))),
			CASE WHEN t.memo LIKE 'POS %' THEN substr(t.memo, 5) ELSE t.externalid END,
			t.createddate, t.trandate, t.location, t.entity, t.createdfrom, t.subtotal_cents, t.tax_cents, t.total_cents
		FROM ns.transactions t NOT INDEXED WHERE t.recordtype IN ('cashSale', 'cashRefund')`,
		`CREATE INDEX temp.pos_origin_tx ON pos_origin (tx_id, part, createddate)`,
	}},
	// pos_tx: the journal's transactions, compact (the journal's rows carry the
	// submitted body). It is filled while the worker still builds pos_origin, with acc =
	// ack; "acc" settles acc (acknowledged, or posted anyway) once pos_origin is there.
	"tx": {sql: []string{
		`CREATE TEMP TABLE pos_tx (id TEXT PRIMARY KEY, type TEXT, loc INTEGER, d TEXT, offline INTEGER, outcome TEXT,
			ack INTEGER, acc INTEGER, ident TEXT, orig TEXT, acked TEXT) WITHOUT ROWID`,
		`INSERT INTO pos_tx
		SELECT j.id, j.type, CAST(j.location_id AS INTEGER), j.occurred_date, j.offline, j.outcome, j.outcome = 'acknowledged',
			j.outcome = 'acknowledged',
			NULLIF(j.customer_identity, ''), NULLIF(j.original_tx_id, ''), j.acked_at
		FROM main.tx j`,
	}},
	// acc: a transaction the connector did not acknowledge but posted anyway is
	// accounted too, in pos_tx and in what copied acc from it.
	"acc": {needs: []string{"tx", "origin", "jpart", "jtender"}, sql: []string{
		`UPDATE pos_tx SET acc = 1 WHERE NOT ack AND EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = pos_tx.id)`,
		`UPDATE pos_jpart SET acc = 1 WHERE NOT ack AND EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = pos_jpart.tx_id)`,
		`UPDATE pos_jtender SET acc = 1 WHERE NOT acc AND EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = pos_jtender.tx_id)`,
	}},
	// jsums: whether the journal keeps tx_sums for every transaction (see "jpart").
	"jsums": {build: func(ctx context.Context, s *session) ([]string, error) {
		ok, err := s.hasTable(ctx, "main", "tx_sums")
		if err != nil || !ok {
			return nil, err
		}
		n, err := s.count(ctx, `SELECT COUNT(*) FROM main.meta WHERE key = 'tx_sums' AND value = 'complete'`)
		s.jsums = n == 1
		return nil, err
	}},
	// pos_jline is a view: the journal's lines as the records must carry them, read
	// through pos_tx (filter it by tx_id or by the transaction's columns).
	"jline": {needs: []string{"tx"}, sql: []string{
		// The record's line amount is |quantity| × unit price (rounded to the cent) −
		// discount, the magnitude of the contract's line net (LineNet); tax is the
		// register's; restock counts on returned lines only.
		`CREATE TEMP VIEW pos_jline AS
		SELECT tx_id, part, line_no, item, q, amt, tax, restock, ` + lineHash("item", "amt", "tax", "q", "restock") + ` AS h,
			loc, d, offline, ack, acc, orig, type
		FROM (SELECT j.id AS tx_id, ` + partOf + ` AS part, l.line_no,
				` + lineItem + ` AS item,
				abs(l.quantity) AS q, ` + lineAmount + ` AS amt,
				abs(COALESCE(l.tax_cents, 0)) AS tax,
				CASE j.type WHEN 'sale' THEN 0 WHEN 'return' THEN COALESCE(l.restock, 0)
					ELSE iif(l.quantity < 0, COALESCE(l.restock, 0), 0) END AS restock,
				j.loc, j.d, j.offline, j.ack, j.acc, j.orig, j.type
			FROM pos_tx j CROSS JOIN main.line l ON l.tx_id = j.id)`,
	}},
	// From the journal's tx_sums when it keeps them: per transaction type and part,
	// the sums of the lines that belong to it (a sale's are all 'S', a return's all
	// 'R', an exchange's split by the sign of the quantity). A transaction with a line
	// that names no item id, or a journal without tx_sums, is summed from its lines
	// (items then found by SKU). Bare columns (type, loc, …) are the transaction's: the
	// same on every line.
	"jpart": {needs: []string{"jline", "jsums"}, build: func(ctx context.Context, s *session) ([]string, error) {
		// Appended to, then indexed (one sort), since parts do not come in key order.
		stmts := []string{`CREATE TEMP TABLE pos_jpart (
			tx_id TEXT NOT NULL, part TEXT NOT NULL, n INTEGER, q REAL, amt INTEGER, tax INTEGER, rq REAL, h INTEGER,
			sq REAL, type TEXT, loc INTEGER, d TEXT, offline INTEGER, ack INTEGER, acc INTEGER)`}
		only := ""
		if s.jsums {
			for _, x := range []struct {
				part, types, signs string
				restock            bool
			}{{"S", "= 'sale'", "pn", false}, {"R", "= 'return'", "pn", true}, {"S", "NOT IN ('sale', 'return')", "p", false},
				{"R", "NOT IN ('sale', 'return')", "n", true}} {
				// Sales (most transactions) in tx_sums's order; the rest through pos_tx.
				from := "pos_tx j CROSS JOIN main.tx_sums x ON x.tx_id = j.id"
				if x.types == "= 'sale'" {
					from = "main.tx_sums x CROSS JOIN pos_tx j ON j.id = x.tx_id"
				}
				stmts = append(stmts, `INSERT INTO pos_jpart
				SELECT j.id, '`+x.part+`', `+jpartSums(x.signs, x.restock)+`, j.type, j.loc, j.d, j.offline, j.ack, j.acc
				FROM `+from+`
				WHERE j.type `+x.types+` AND `+sumOf(x.signs, "x.", "_lines")+` > 0 AND x.p_noitem + x.n_noitem = 0`)
			}
			only = ` AND tx_id IN (SELECT tx_id FROM main.tx_sums WHERE p_noitem + n_noitem > 0)`
		}
		return append(stmts, `INSERT INTO pos_jpart
		SELECT tx_id, 'S', COUNT(*), SUM(q), SUM(amt), SUM(tax), 0, SUM(`+lineHash("item", "amt", "tax", "q", "0")+`), SUM(item * q),
			'sale', loc, d, offline, ack, acc
		FROM (SELECT j.id AS tx_id, `+lineItem+` AS item, abs(l.quantity) AS q, `+lineAmount+` AS amt,
				abs(COALESCE(l.tax_cents, 0)) AS tax, j.loc, j.d, j.offline, j.ack, j.acc
			FROM pos_tx j CROSS JOIN main.line l ON l.tx_id = j.id WHERE j.type = 'sale')
		WHERE true`+only+`
		GROUP BY tx_id`,
			`INSERT INTO pos_jpart SELECT tx_id, part, `+jpartCols+` FROM pos_jline WHERE type = 'return'`+only+` GROUP BY tx_id`,
			`INSERT INTO pos_jpart SELECT tx_id, part, `+jpartCols+` FROM pos_jline WHERE type NOT IN ('sale', 'return')`+only+
				` GROUP BY tx_id, part`,
			`CREATE UNIQUE INDEX temp.pos_jpart_key ON pos_jpart (tx_id, part)`), nil
	}},
	// pos_sums: the NetSuite books' per-transaction sums (transaction_sums, the same
	// columns), built from the lines only when the books do not keep them (books written
	// before the simulator kept them). Restock is only set on cash refund lines.
	"sums": {stage: "books", unless: "SELECT EXISTS (SELECT 1 FROM ns.sqlite_master WHERE type = 'table' AND name = 'transaction_sums')",
		sql: []string{
			`CREATE TEMP TABLE pos_sums (transaction_id INTEGER PRIMARY KEY,
				item_lines INTEGER NOT NULL DEFAULT 0, item_qty REAL NOT NULL DEFAULT 0, item_amount INTEGER NOT NULL DEFAULT 0,
				item_tax INTEGER NOT NULL DEFAULT 0, item_restock_qty REAL NOT NULL DEFAULT 0, item_x_amount INTEGER NOT NULL DEFAULT 0,
				item_x_tax INTEGER NOT NULL DEFAULT 0, item_x_mqty INTEGER NOT NULL DEFAULT 0, item_x_restock_mqty INTEGER NOT NULL DEFAULT 0,
				moves INTEGER NOT NULL DEFAULT 0, move_qty REAL NOT NULL DEFAULT 0, move_item_qty REAL NOT NULL DEFAULT 0,
				move_loc INTEGER NOT NULL DEFAULT 0, move_loc2 INTEGER NOT NULL DEFAULT 0,
				tenders INTEGER NOT NULL DEFAULT 0, tender_card INTEGER NOT NULL DEFAULT 0, tender_cash INTEGER NOT NULL DEFAULT 0,
				tender_gift INTEGER NOT NULL DEFAULT 0, tender_other INTEGER NOT NULL DEFAULT 0,
				gl_lines INTEGER NOT NULL DEFAULT 0, debit INTEGER NOT NULL DEFAULT 0, credit INTEGER NOT NULL DEFAULT 0)`,
			`INSERT INTO pos_sums (transaction_id, item_lines, item_qty, item_amount, item_tax, item_restock_qty, item_x_amount,
				item_x_tax, item_x_mqty, item_x_restock_mqty)
			SELECT transaction_id, COUNT(*), SUM(COALESCE(quantity, 0)), SUM(amount_cents), SUM(tax_cents),
				SUM(COALESCE(restock, 0) * COALESCE(quantity, 0)), SUM(COALESCE(item * amount_cents, 0)), SUM(COALESCE(item * tax_cents, 0)),
				SUM(COALESCE(item * CAST(round(quantity * 1000) AS INTEGER), 0)),
				SUM(COALESCE(item * CAST(round(quantity * 1000) AS INTEGER) * COALESCE(restock, 0), 0))
			FROM ns.transaction_lines WHERE sublist = 'item' GROUP BY transaction_id`,
			`INSERT INTO pos_sums (transaction_id, moves, move_qty, move_item_qty, move_loc, move_loc2)
			SELECT transaction_id, COUNT(*), SUM(quantity), SUM(item * quantity), SUM(location), SUM(location * location)
			FROM ns.inventory_moves GROUP BY transaction_id
			ON CONFLICT (transaction_id) DO UPDATE SET moves = excluded.moves, move_qty = excluded.move_qty,
				move_item_qty = excluded.move_item_qty, move_loc = excluded.move_loc, move_loc2 = excluded.move_loc2`,
			`INSERT INTO pos_sums (transaction_id, tenders, tender_card, tender_cash, tender_gift, tender_other)
			SELECT transaction_id, COUNT(*), SUM(CASE WHEN kind = 'card' THEN amount_cents ELSE 0 END),
				SUM(CASE WHEN kind = 'cash' THEN amount_cents ELSE 0 END), SUM(CASE WHEN kind = 'gift_card' THEN amount_cents ELSE 0 END),
				SUM(CASE WHEN kind IN ('card', 'cash', 'gift_card') THEN 0 ELSE amount_cents END)
			FROM ns.tenders GROUP BY transaction_id
			ON CONFLICT (transaction_id) DO UPDATE SET tenders = excluded.tenders, tender_card = excluded.tender_card,
				tender_cash = excluded.tender_cash, tender_gift = excluded.tender_gift, tender_other = excluded.tender_other`,
			`INSERT INTO pos_sums (transaction_id, gl_lines, debit, credit)
			SELECT transaction_id, COUNT(*), SUM(debit_cents), SUM(credit_cents) FROM ns.gl_lines GROUP BY transaction_id
			ON CONFLICT (transaction_id) DO UPDATE SET gl_lines = excluded.gl_lines, debit = excluded.debit, credit = excluded.credit`,
		}},
	// pos_rsum: per NetSuite transaction, its sums under short names (h is the line
	// signature, lineHash summed over the item lines); pos_rline, pos_rmove, pos_rtender
	// and pos_gl are the transactions that have such lines.
	"rsum": {needs: []string{"sums"}, build: func(ctx context.Context, s *session) ([]string, error) {
		src := "pos_sums"
		books, err := s.hasTable(ctx, "ns", "transaction_sums")
		if err != nil {
			return nil, err
		}
		if books {
			src = "ns.transaction_sums"
		}
		return []string{`CREATE TEMP VIEW pos_rsum AS
			SELECT transaction_id AS ns_id, item_lines AS n, item_qty AS q, item_amount AS amt, item_tax AS tax, item_restock_qty AS rq,
				item_x_amount + 3 * item_x_tax + 7 * item_x_mqty + 14 * item_x_restock_mqty AS h,
				moves AS mn, move_qty AS mq, move_item_qty AS miq, move_loc AS mloc, move_loc2 AS mloc2,
				tenders AS tn, tender_card AS card, tender_cash AS cash, tender_gift AS gift, tender_other AS other,
				gl_lines AS gn, debit AS dr, credit AS cr
			FROM ` + src}, nil
	}},
	"rline": {needs: []string{"rsum"}, sql: []string{
		`CREATE TEMP VIEW pos_rline AS SELECT ns_id, n, q, amt, tax, rq, h FROM pos_rsum WHERE n > 0`}},
	"rmove": {needs: []string{"rsum"}, sql: []string{
		`CREATE TEMP VIEW pos_rmove AS SELECT ns_id, mn AS n, mq, miq, mloc, mloc2 FROM pos_rsum WHERE mn > 0`}},
	"rtender": {needs: []string{"rsum"}, sql: []string{
		`CREATE TEMP VIEW pos_rtender AS SELECT ns_id, card, cash, gift, other FROM pos_rsum WHERE tn > 0`}},
	"gl": {needs: []string{"rsum"}, sql: []string{
		`CREATE TEMP VIEW pos_gl AS SELECT ns_id, dr, cr FROM pos_rsum WHERE gn > 0`}},
	"jtender": {needs: []string{"tx", "jsums"}, build: func(ctx context.Context, s *session) ([]string, error) {
		create := `CREATE TEMP TABLE pos_jtender (tx_id TEXT PRIMARY KEY, card INTEGER, cash INTEGER, gift INTEGER, other INTEGER,
			loc INTEGER, d TEXT, acc INTEGER) WITHOUT ROWID`
		if s.jsums {
			signed := func(k string) string {
				return `CASE j.type WHEN 'sale' THEN x.tender_` + k + `_abs WHEN 'return' THEN -x.tender_` + k + `_abs ELSE x.tender_` + k + ` END`
			}
			return []string{create, `INSERT INTO pos_jtender
			SELECT j.id, ` + signed("card") + `, ` + signed("cash") + `, ` + signed("gift") + `, ` + signed("other") + `, j.loc, j.d, j.acc
			FROM main.tx_sums x CROSS JOIN pos_tx j ON j.id = x.tx_id WHERE x.tenders > 0`}, nil
		}
		return []string{create, `INSERT INTO pos_jtender
		SELECT tx_id, SUM(CASE WHEN type = 'card' THEN a ELSE 0 END), SUM(CASE WHEN type = 'cash' THEN a ELSE 0 END),
			SUM(CASE WHEN type = 'gift_card' THEN a ELSE 0 END),
			SUM(CASE WHEN type IN ('card', 'cash', 'gift_card') THEN 0 ELSE a END), loc, d, acc
		FROM (SELECT j.id AS tx_id, t.type, CASE j.type WHEN 'sale' THEN abs(t.amount_cents) WHEN 'return' THEN -abs(t.amount_cents)
				ELSE t.amount_cents END AS a, j.loc, j.d, j.acc
			FROM pos_tx j CROSS JOIN main.tender t ON t.tx_id = j.id)
		GROUP BY tx_id`}, nil
	}},
	// pos_cmp: one pass over the records that post a journal transaction, keeping those
	// that differ from it: expected (the transaction has such a part), lines_bad (item
	// lines), loc_bad (header or stock moves not at the store), date_bad (an offline
	// transaction's record dated otherwise), stock_bad (stock moves unlike the lines),
	// tender_bad (a sale's or return's tenders; exchanges net over two records and are
	// compared per transaction by amounts).
	"cmp": {needs: []string{"origin", "jpart", "rsum", "jtender"}, sql: []string{
		`CREATE TEMP TABLE pos_cmp AS
		SELECT o.ns_id, o.tx_id, o.part, o.recordtype, p.tx_id IS NOT NULL AS expected,
			p.n AS jn, p.amt AS jamt, p.tax AS jtax, r.n AS rn, r.amt AS ramt, r.tax AS rtax,
			p.tx_id IS NOT NULL AND (COALESCE(r.n, 0) = 0 OR p.n <> r.n OR abs(p.q - r.q) > 1e-6 OR p.amt <> r.amt OR p.tax <> r.tax
				OR abs(p.rq - r.rq) > 1e-6 OR p.h <> r.h) AS lines_bad,
			p.loc AS jloc, o.location AS hloc, NULLIF(r.mn, 0) AS mn, COALESCE(r.mq, 0) AS mq,
			(SELECT MIN(location) FROM ns.inventory_moves mv WHERE mv.transaction_id = o.ns_id) AS minloc,
			(SELECT MAX(location) FROM ns.inventory_moves mv WHERE mv.transaction_id = o.ns_id) AS maxloc,
			CASE p.part WHEN 'S' THEN -p.q ELSE p.rq END AS emq,
			p.tx_id IS NOT NULL AND (o.location IS NOT p.loc
				OR (r.mn > 0 AND (r.mloc IS NOT r.mn * p.loc OR r.mloc2 IS NOT r.mn * p.loc * p.loc))) AS loc_bad,
			p.d, o.trandate, p.offline = 1 AND o.trandate IS NOT p.d AS date_bad,
			p.tx_id IS NOT NULL AND (abs(COALESCE(r.mq, 0) - CASE p.part WHEN 'S' THEN -p.q ELSE p.rq END) > 1e-6
				OR abs(COALESCE(r.miq, 0) - CASE p.part WHEN 'S' THEN -p.sq ELSE p.sq END) > 1e-3
				OR (r.mn > 0 AND (r.mloc IS NOT r.mn * p.loc OR r.mloc2 IS NOT r.mn * p.loc * p.loc))) AS stock_bad,
			COALESCE(jt.card, 0) AS jcard, COALESCE(jt.cash, 0) AS jcash, COALESCE(jt.gift, 0) AS jgift, COALESCE(jt.other, 0) AS jother,
			s * COALESCE(r.card, 0) AS rcard, s * COALESCE(r.cash, 0) AS rcash, s * COALESCE(r.gift, 0) AS rgift,
			s * COALESCE(r.other, 0) AS rother,
			p.type <> 'exchange' AND (COALESCE(jt.card, 0) <> s * COALESCE(r.card, 0) OR COALESCE(jt.cash, 0) <> s * COALESCE(r.cash, 0)
				OR COALESCE(jt.gift, 0) <> s * COALESCE(r.gift, 0) OR COALESCE(jt.other, 0) <> s * COALESCE(r.other, 0)) AS tender_bad
		FROM (SELECT *, CASE part WHEN 'S' THEN 1 ELSE -1 END AS s FROM pos_origin WHERE tx_id IS NOT NULL) o
		LEFT JOIN pos_jpart p ON p.tx_id = o.tx_id AND p.part = o.part
		LEFT JOIN pos_rsum r ON r.ns_id = o.ns_id
		LEFT JOIN pos_jtender jt ON jt.tx_id = o.tx_id
		WHERE NOT expected OR lines_bad OR loc_bad OR date_bad OR stock_bad OR tender_bad`,
	}},
	"missing": {needs: []string{"origin", "jpart"}, sql: []string{
		`CREATE TEMP TABLE pos_missing AS
		SELECT tx_id, part, ack, q, rq FROM pos_jpart p
		WHERE acc AND NOT EXISTS (SELECT 1 FROM pos_origin o WHERE o.tx_id = p.tx_id AND o.part = p.part)`,
	}},
	// Counted on pos_origin_tx alone; the records listed only for the duplicates.
	"dups": {needs: []string{"origin"}, stage: "post", sql: []string{
		`CREATE TEMP TABLE pos_dups AS
		SELECT d.tx_id, d.part, d.n, (SELECT group_concat(o.recordtype || ' ' || o.ns_id, ', ') FROM pos_origin o
			WHERE o.tx_id = d.tx_id AND o.part = d.part) AS recs
		FROM (SELECT tx_id, part, COUNT(*) AS n FROM pos_origin WHERE tx_id IS NOT NULL GROUP BY tx_id, part HAVING COUNT(*) > 1) d`,
	}},
	// Income per location and day: the journal's line amounts (accounted transactions)
	// and NetSuite's (a cash sale's subtotal, less a cash refund's: what its posting
	// credits to income).
	// NetSuite's income per location and day (built by the worker).
	// Summed into its few rows as pos_origin is read (no sort of a million rows).
	"brev": {needs: []string{"origin"}, stage: "post", sql: []string{
		`CREATE TEMP TABLE pos_brev (loc INTEGER NOT NULL, d TEXT NOT NULL, bamt INTEGER NOT NULL, bn INTEGER NOT NULL,
			PRIMARY KEY (loc, d)) WITHOUT ROWID`,
		`INSERT INTO pos_brev
		SELECT IFNULL(location, 0), IFNULL(trandate, ''), CASE part WHEN 'S' THEN COALESCE(subtotal, 0) ELSE -COALESCE(subtotal, 0) END, 1
		FROM pos_origin WHERE true
		ON CONFLICT (loc, d) DO UPDATE SET bamt = bamt + excluded.bamt, bn = bn + 1`,
	}},
	"rev": {needs: []string{"origin", "jpart", "brev"}, sql: []string{
		`CREATE TEMP TABLE pos_rev (loc INTEGER NOT NULL, d TEXT NOT NULL, jamt INTEGER NOT NULL DEFAULT 0, jn INTEGER NOT NULL DEFAULT 0,
			bamt INTEGER NOT NULL DEFAULT 0, bn INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (loc, d)) WITHOUT ROWID`,
		`INSERT INTO pos_rev (loc, d, jamt, jn)
		SELECT IFNULL(loc, 0), IFNULL(d, ''), CASE part WHEN 'S' THEN amt ELSE -amt END, 1 FROM pos_jpart WHERE acc
		ON CONFLICT (loc, d) DO UPDATE SET jamt = jamt + excluded.jamt, jn = jn + 1`,
		`INSERT INTO pos_rev (loc, d, bamt, bn) SELECT loc, d, bamt, bn FROM pos_brev
		WHERE true ON CONFLICT (loc, d) DO UPDATE SET bamt = bamt + excluded.bamt, bn = bn + excluded.bn`,
	}},
	// Gateway intents with the journal transaction each paid for. Read from the
	// journal's own tables (not pos_tx), so that the worker can build them.
	"intent": {needs: []string{"origin"}, stage: "gateway", sql: []string{
		`CREATE TEMP TABLE pos_intent (intent TEXT PRIMARY KEY, tx_id TEXT) WITHOUT ROWID`,
		`INSERT OR IGNORE INTO pos_intent SELECT intent_id, tx_id FROM main.payment
			WHERE intent_id IS NOT NULL AND tx_id IS NOT NULL AND tx_id <> ''`,
		`INSERT OR IGNORE INTO pos_intent
		SELECT t.payment_intent_id, t.tx_id FROM main.tender t JOIN main.tx j ON j.id = t.tx_id
		WHERE t.type = 'card' AND t.payment_intent_id IS NOT NULL AND t.payment_intent_id <> ''
			AND (j.type = 'sale' OR (j.type = 'exchange' AND t.amount_cents > 0))`,
		`CREATE TEMP TABLE pos_gi (intent TEXT PRIMARY KEY, tx_id TEXT, acc INTEGER, loc INTEGER, d TEXT,
			status TEXT, received INTEGER, refunded INTEGER, capturable INTEGER, pos_tx TEXT) WITHOUT ROWID`,
		`INSERT INTO pos_gi
		SELECT g.id, j.id, CASE WHEN j.id IS NULL THEN 0
				WHEN j.outcome = 'acknowledged' THEN 1 ELSE EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = j.id) END,
			CAST(j.location_id AS INTEGER), j.occurred_date, g.status, g.amount_received, g.amount_refunded,
			g.amount_capturable, g.pos_tx
		FROM gw.payment_intents g
		LEFT JOIN main.tx j ON j.id = COALESCE((SELECT pi.tx_id FROM pos_intent pi WHERE pi.intent = g.id), g.pos_tx)`,
	}},
	// The gateway's card money per store and day: captures of accounted transactions
	// (dated by the transaction they paid for) and refunds (by the POS transaction named
	// in their metadata, else the sale's store and the refund's day). Read from the
	// journal's own tables (not pos_tx), so that the worker can build it.
	"gday": {needs: []string{"origin", "intent"}, stage: "post", sql: []string{
		`CREATE TEMP TABLE pos_gday (loc INTEGER, d TEXT, captured INTEGER NOT NULL, refunded INTEGER NOT NULL)`,
		`INSERT INTO pos_gday
		SELECT loc, d, SUM(c), SUM(r) FROM (
			SELECT loc, d, received AS c, 0 AS r FROM pos_gi WHERE acc AND received <> 0
			UNION ALL
			SELECT CASE WHEN jacc THEN jloc ELSE gloc END, CASE WHEN jacc THEN jd ELSE substr(created_at, 1, 10) END, 0, amount
			FROM (SELECT rf.amount, rf.created_at, gi.loc AS gloc, gi.acc AS gacc, CAST(j.location_id AS INTEGER) AS jloc,
					j.occurred_date AS jd,
					(j.outcome = 'acknowledged' OR EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = j.id)) AS jacc
				FROM gw.refunds rf
				LEFT JOIN pos_gi gi ON gi.intent = rf.payment_intent
				LEFT JOIN main.tx j ON j.id = rf.pos_tx
				WHERE rf.status IN ('succeeded', 'pending'))
			WHERE jacc OR gacc)
		GROUP BY 1, 2`,
	}},
	// The stock ledger per location and item, when the start on hand is known: every
	// pair a move touched (an untouched pair's end is its start by construction).
	"ledger": {needs: []string{"start"}, build: func(ctx context.Context, s *session) ([]string, error) {
		var start string
		switch s.startSource {
		case startBooks:
			start = "(SELECT st.onhand FROM ns.inventory_start st WHERE st.item = pos_ledger.item AND st.location = pos_ledger.loc)"
		case startOptions:
			start = "(SELECT st.q FROM pos_start st WHERE st.loc = pos_ledger.loc AND st.item = pos_ledger.item)"
		default:
			return nil, nil
		}
		return []string{
			`CREATE TEMP TABLE pos_ledger (loc INTEGER NOT NULL, item INTEGER NOT NULL, moves REAL NOT NULL DEFAULT 0,
				startq REAL, endq REAL, PRIMARY KEY (loc, item)) WITHOUT ROWID`,
			`INSERT INTO pos_ledger (loc, item, moves) SELECT location, item, quantity FROM ns.inventory_moves NOT INDEXED
			WHERE true ON CONFLICT (loc, item) DO UPDATE SET moves = moves + excluded.moves`,
			`UPDATE pos_ledger SET startq = COALESCE(` + start + `, 0),
				endq = COALESCE((SELECT v.onhand FROM ns.inventory v WHERE v.item = pos_ledger.item AND v.location = pos_ledger.loc), 0)`,
		}, nil
	}},
	"start": {build: func(ctx context.Context, s *session) ([]string, error) {
		books, err := s.hasTable(ctx, "ns", "inventory_start")
		if err != nil {
			return nil, err
		}
		switch {
		case books:
			s.startSource = startBooks
			return nil, nil
		case len(s.start) > 0:
			s.startSource = startOptions
			stmts := []string{`CREATE TEMP TABLE pos_start (loc INTEGER, item INTEGER, q REAL, PRIMARY KEY (loc, item)) WITHOUT ROWID`}
			const chunk = 500
			for i := 0; i < len(s.start); i += chunk {
				var b strings.Builder
				b.WriteString("INSERT OR REPLACE INTO pos_start (loc, item, q) VALUES ")
				for k, st := range s.start[i:min(i+chunk, len(s.start))] {
					loc, err1 := strconv.ParseInt(st.LocationID, 10, 64)
					item, err2 := strconv.ParseInt(st.ItemID, 10, 64)
					if err1 != nil || err2 != nil {
						return nil, fmt.Errorf("start stock %d: item %q at location %q: ids must be NetSuite internal ids", i+k, st.ItemID, st.LocationID)
					}
					if k > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "(%d,%d,%s)", loc, item, strconv.FormatFloat(st.Quantity, 'g', -1, 64))
				}
				stmts = append(stmts, b.String())
			}
			return stmts, nil
		default:
			s.startSource = startLedger
			return nil, nil
		}
	}},
}

// Where the start on hand of inventory-conserved comes from.
const (
	startBooks   = "books"   // ns.inventory_start, a snapshot taken when the world was loaded
	startOptions = "options" // Options.StartStock
	startLedger  = "ledger"  // derived: NetSuite's end on hand − every stock move it booked
)

// sumOf adds a tx_sums column over the signs of quantity named ("p" ≥ 0, "n" < 0).
func sumOf(signs, prefix, col string) string {
	var terms []string
	for _, sg := range signs {
		terms = append(terms, prefix+string(sg)+col)
	}
	return "(" + strings.Join(terms, " + ") + ")"
}

// jpartSums are pos_jpart's n, q, amt, tax, rq, h and sq from tx_sums (aliased x)
// over the lines of the signs named; restock: the part is returned goods, whose
// restocked quantities count (rq, the signature, and the stock that moves).
func jpartSums(signs string, restock bool) string {
	sum := func(col string) string { return sumOf(signs, "x.", col) }
	rq, h, sq := "0", sum("_x_gross")+" - "+sum("_x_discount")+" + 3 * "+sum("_x_tax")+" + 7 * "+sum("_x_mqty"), sum("_x_qty")
	if restock {
		rq, h, sq = sum("_restock_qty"), h+" + 14 * "+sum("_x_restock_mqty"), sum("_x_restock_qty")
	}
	return strings.Join([]string{sum("_lines"), sum("_qty"), sum("_gross") + " - " + sum("_discount"), sum("_tax"), rq, h, sq}, ", ")
}
