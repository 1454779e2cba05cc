package invariants

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Helper tables, built in the temp schema once per session by the invariants that
// need them. Custom invariants may read them too (they are documented in the README):
//
//	pos_origin   one row per NetSuite cash sale or cash refund: ns_id, recordtype, part
//	             ('S' sale, 'R' refund), tx_id (the journal transaction it posts, NULL
//	             when none), claimed (the POS id it names), createddate, trandate,
//	             location, entity, createdfrom, subtotal, tax, total (cents).
//	pos_jline    one row per journal line: tx_id, part, line_no, item (NetSuite id), q
//	             (quantity, positive), amt (line amount before tax, cents, as the record
//	             must carry it), tax (cents, positive), restock.
//	pos_jpart    per journal transaction and part: the lines' count, sums and
//	             signatures (n, q, amt, tax, iq = Σ item×q, ia = Σ item×amt,
//	             it = Σ item×tax, rq = restocked quantity, irq = Σ item×restocked).
//	pos_rline    the same sums per NetSuite record (ns_id), plus minloc and maxloc of
//	             its lines.
//	pos_jtender  per journal transaction: card, cash, gift, other — signed tender
//	             amounts (money in > 0, money paid back < 0).
//	pos_rtender  per NetSuite record: card, cash, gift, other — its tenders' amounts.
//	pos_gl       per NetSuite transaction: dr, cr, pay (net debit of payment and gift
//	             certificate lines), inc (net credit of income), tax (net credit of tax), n.
//	pos_intent   gateway payment intent → the journal transaction it paid for.
//	pos_stock    per location and item: sold, restocked (journal, accounted
//	             transactions), adj (stock moves of non-POS NetSuite transactions),
//	             posmoves (moves of cash sales and refunds), allmoves, endq, startq.
type helper struct {
	needs []string
	sql   []string
	build func(ctx context.Context, s *session) ([]string, error) // instead of sql
}

// accounted is true for a journal transaction j the books must reflect: acknowledged
// by the connector, or posted anyway.
const accounted = `(j.outcome = 'acknowledged' OR EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = j.id))`

// partOf is a journal line's part: the record of an exchange it belongs to.
const partOf = `CASE WHEN j.type = 'return' OR (j.type = 'exchange' AND l.quantity < 0) THEN 'R' ELSE 'S' END`

var helpers = map[string]helper{
	"origin": {sql: []string{
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
		FROM ns.transactions t WHERE t.recordtype IN ('cashSale', 'cashRefund')`,
		`CREATE INDEX temp.pos_origin_tx ON pos_origin (tx_id, part)`,
	}},
	"jline": {sql: []string{
		`CREATE TEMP TABLE pos_jline (
			tx_id TEXT NOT NULL, part TEXT NOT NULL, line_no INTEGER NOT NULL, item INTEGER, q REAL NOT NULL,
			amt INTEGER NOT NULL, tax INTEGER NOT NULL, restock INTEGER NOT NULL,
			PRIMARY KEY (tx_id, part, line_no)) WITHOUT ROWID`,
		// The record's line amount is quantity × unit price (rounded to the cent) −
		// discount, made positive for an exchange's returned line, as the contract's line
		// total before tax; tax is the register's.
		`INSERT INTO pos_jline
		SELECT l.tx_id, ` + partOf + `, l.line_no,
			COALESCE(CAST(NULLIF(l.item_id, '') AS INTEGER), (SELECT i.id FROM ns.items i WHERE i.itemid = l.sku)),
			abs(l.quantity),
			(CASE WHEN l.quantity < 0 THEN -1 ELSE 1 END) *
				(CAST(round(l.quantity * l.unit_price_cents) AS INTEGER) - COALESCE(l.discount_cents, 0)),
			abs(COALESCE(l.tax_cents, 0)), COALESCE(l.restock, 0)
		FROM main.line l JOIN main.tx j ON j.id = l.tx_id`,
	}},
	"jpart": {needs: []string{"jline"}, sql: []string{
		`CREATE TEMP TABLE pos_jpart (
			tx_id TEXT NOT NULL, part TEXT NOT NULL, n INTEGER, q REAL, amt INTEGER, tax INTEGER,
			iq REAL, ia INTEGER, it INTEGER, rq REAL, irq REAL,
			PRIMARY KEY (tx_id, part)) WITHOUT ROWID`,
		`INSERT INTO pos_jpart
		SELECT tx_id, part, COUNT(*), SUM(q), SUM(amt), SUM(tax), SUM(item * q), SUM(item * amt), SUM(item * tax),
			SUM(CASE WHEN part = 'R' AND restock THEN q ELSE 0 END), SUM(CASE WHEN part = 'R' AND restock THEN item * q ELSE 0 END)
		FROM pos_jline GROUP BY tx_id, part`,
	}},
	"rline": {needs: []string{"origin"}, sql: []string{
		`CREATE TEMP TABLE pos_rline (
			ns_id INTEGER PRIMARY KEY, n INTEGER, q REAL, amt INTEGER, tax INTEGER, iq REAL, ia INTEGER, it INTEGER,
			rq REAL, irq REAL, minloc INTEGER, maxloc INTEGER)`,
		`INSERT INTO pos_rline
		SELECT l.transaction_id, COUNT(*), SUM(l.quantity), SUM(l.amount_cents), SUM(l.tax_cents),
			SUM(l.item * l.quantity), SUM(l.item * l.amount_cents), SUM(l.item * l.tax_cents),
			SUM(CASE WHEN o.part = 'R' AND l.restock THEN l.quantity ELSE 0 END),
			SUM(CASE WHEN o.part = 'R' AND l.restock THEN l.item * l.quantity ELSE 0 END),
			MIN(l.location), MAX(l.location)
		FROM ns.transaction_lines l JOIN pos_origin o ON o.ns_id = l.transaction_id
		WHERE l.sublist = 'item'
		GROUP BY l.transaction_id`,
	}},
	"jtender": {sql: []string{
		`CREATE TEMP TABLE pos_jtender (tx_id TEXT PRIMARY KEY, card INTEGER, cash INTEGER, gift INTEGER, other INTEGER) WITHOUT ROWID`,
		`INSERT INTO pos_jtender
		SELECT tx_id, SUM(CASE WHEN type = 'card' THEN a ELSE 0 END), SUM(CASE WHEN type = 'cash' THEN a ELSE 0 END),
			SUM(CASE WHEN type = 'gift_card' THEN a ELSE 0 END),
			SUM(CASE WHEN type IN ('card', 'cash', 'gift_card') THEN 0 ELSE a END)
		FROM (SELECT t.tx_id, t.type, CASE j.type WHEN 'sale' THEN abs(t.amount_cents) WHEN 'return' THEN -abs(t.amount_cents)
				ELSE t.amount_cents END AS a
			FROM main.tender t JOIN main.tx j ON j.id = t.tx_id)
		GROUP BY tx_id`,
	}},
	"rtender": {needs: []string{"origin"}, sql: []string{
		`CREATE TEMP TABLE pos_rtender (ns_id INTEGER PRIMARY KEY, card INTEGER, cash INTEGER, gift INTEGER, other INTEGER)`,
		`INSERT INTO pos_rtender
		SELECT t.transaction_id, SUM(CASE WHEN t.kind = 'card' THEN t.amount_cents ELSE 0 END),
			SUM(CASE WHEN t.kind = 'cash' THEN t.amount_cents ELSE 0 END),
			SUM(CASE WHEN t.kind = 'gift_card' THEN t.amount_cents ELSE 0 END),
			SUM(CASE WHEN t.kind IN ('card', 'cash', 'gift_card') THEN 0 ELSE t.amount_cents END)
		FROM ns.tenders t JOIN pos_origin o ON o.ns_id = t.transaction_id
		GROUP BY t.transaction_id`,
	}},
	"gl": {sql: []string{
		`CREATE TEMP TABLE pos_gl (ns_id INTEGER PRIMARY KEY, dr INTEGER, cr INTEGER, pay INTEGER, inc INTEGER, tax INTEGER, n INTEGER)`,
		`INSERT INTO pos_gl
		SELECT transaction_id, SUM(debit_cents), SUM(credit_cents),
			SUM(CASE WHEN role IN ('payment', 'giftcert') THEN debit_cents - credit_cents ELSE 0 END),
			SUM(CASE WHEN role = 'income' THEN credit_cents - debit_cents ELSE 0 END),
			SUM(CASE WHEN role = 'tax' THEN credit_cents - debit_cents ELSE 0 END), COUNT(*)
		FROM ns.gl_lines GROUP BY transaction_id`,
	}},
	"intent": {needs: []string{"origin"}, sql: []string{
		`CREATE TEMP TABLE pos_intent (intent TEXT PRIMARY KEY, tx_id TEXT) WITHOUT ROWID`,
		`INSERT OR IGNORE INTO pos_intent SELECT intent_id, tx_id FROM main.payment
			WHERE intent_id IS NOT NULL AND tx_id IS NOT NULL AND tx_id <> ''`,
		`INSERT OR IGNORE INTO pos_intent
		SELECT t.payment_intent_id, t.tx_id FROM main.tender t JOIN main.tx j ON j.id = t.tx_id
		WHERE t.type = 'card' AND t.payment_intent_id IS NOT NULL AND t.payment_intent_id <> ''
			AND (j.type = 'sale' OR (j.type = 'exchange' AND t.amount_cents > 0))`,
		// gi: every gateway intent with the journal transaction it paid for and
		// whether the books must reflect that transaction.
		`CREATE TEMP TABLE pos_gi (intent TEXT PRIMARY KEY, tx_id TEXT, acc INTEGER, loc INTEGER, d TEXT,
			status TEXT, received INTEGER, refunded INTEGER, capturable INTEGER, pos_tx TEXT) WITHOUT ROWID`,
		`INSERT INTO pos_gi
		SELECT g.id, j.id, CASE WHEN j.id IS NULL THEN 0 ELSE ` + accounted + ` END,
			CAST(j.location_id AS INTEGER), j.occurred_date, g.status, g.amount_received, g.amount_refunded,
			g.amount_capturable, g.pos_tx
		FROM gw.payment_intents g
		LEFT JOIN main.tx j ON j.id = COALESCE((SELECT pi.tx_id FROM pos_intent pi WHERE pi.intent = g.id), g.pos_tx)`,
	}},
	"stock": {needs: []string{"origin", "jline", "start"}, build: func(ctx context.Context, s *session) ([]string, error) {
		start := "s.endq - s.allmoves" // the books' own ledger
		switch s.startSource {
		case startBooks:
			start = "COALESCE((SELECT st.onhand FROM ns.inventory_start st WHERE st.item = s.item AND st.location = s.loc), 0)"
		case startOptions:
			start = "COALESCE((SELECT st.q FROM pos_start st WHERE st.loc = s.loc AND st.item = s.item), 0)"
		}
		return []string{
			`CREATE TEMP TABLE pos_stock (loc INTEGER, item INTEGER, sold REAL, restocked REAL, adj REAL, posmoves REAL,
				allmoves REAL, endq REAL, startq REAL, PRIMARY KEY (loc, item)) WITHOUT ROWID`,
			`INSERT INTO pos_stock (loc, item, sold, restocked, adj, posmoves, allmoves, endq)
			SELECT loc, item, SUM(sold), SUM(restocked), SUM(adj), SUM(pm), SUM(am),
				COALESCE((SELECT v.onhand FROM ns.inventory v WHERE v.item = u.item AND v.location = u.loc), 0)
			FROM (
				SELECT CAST(j.location_id AS INTEGER) AS loc, l.item AS item,
					CASE WHEN l.part = 'S' THEN l.q ELSE 0 END AS sold,
					CASE WHEN l.part = 'R' AND l.restock THEN l.q ELSE 0 END AS restocked, 0 AS adj, 0 AS pm, 0 AS am
				FROM pos_jline l JOIN main.tx j ON j.id = l.tx_id WHERE ` + accounted + `
				UNION ALL
				SELECT m.location, m.item, 0, 0, CASE WHEN o.ns_id IS NULL THEN m.quantity ELSE 0 END,
					CASE WHEN o.ns_id IS NULL THEN 0 ELSE m.quantity END, m.quantity
				FROM ns.inventory_moves m LEFT JOIN pos_origin o ON o.ns_id = m.transaction_id
			) u GROUP BY loc, item`,
			`UPDATE pos_stock AS s SET startq = ` + start,
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
