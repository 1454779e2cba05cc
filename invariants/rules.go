package invariants

import (
	"context"
	"strings"
)

// The built-in invariants' ids, in report order.
const (
	ExactlyOnce            = "exactly-once"
	Amounts                = "amounts"
	GLBalanced             = "gl-balanced"
	RevenueByStoreDay      = "revenue-by-store-day"
	PaymentsReconcile      = "payments-reconcile"
	InventoryConserved     = "inventory-conserved"
	NoNegativeStock        = "no-negative-stock"
	SaleLocation           = "sale-location"
	OfflineTranDate        = "offline-trandate"
	OneCustomerPerIdentity = "one-customer-per-identity"
	StockViewConverges     = "stock-view-converges"
	ReturnsBounded         = "returns-bounded"
)

// IDs returns the built-in invariants' ids in report order.
func IDs() []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.id
	}
	return out
}

// Statement returns the one-line statement of built-in invariant id ("" if unknown).
func Statement(id string) string {
	for _, r := range rules {
		if r.id == id {
			return r.statement
		}
	}
	return ""
}

// rule is a built-in invariant: helper tables it needs, conditions under which it
// applies, and statements that fill its violations table
// v_<id>(tx_id, kind, ref, exp, act, extra) (created by the runner), formatted into
// evidence by format.
type rule struct {
	id, statement string
	needs         []string
	applies       []condition
	build         []string
	format        func(v violation) Evidence
	// detail, when set, adds detail to the evidence of a violation (run for the
	// sampled ones only).
	detail func(ctx context.Context, s *session, v violation, e *Evidence) error
	// accuracy: the rule's violations make a transaction "posted incorrectly" for
	// the posting accuracy KPI (only rows whose kind is listed, or all when "*").
	accuracy []string
}

// condition is an EXISTS query; when it yields 0 the rule does not apply, for reason.
type condition struct{ sql, reason string }

// violation is one row of a violations table.
type violation struct {
	tx, kind, ref string
	exp, act      any
	extra         string
}

func vtable(id string) string { return "v_" + strings.ReplaceAll(id, "-", "_") }

var rules = []rule{
	{
		id:        ExactlyOnce,
		statement: "Every acknowledged POS transaction is posted to NetSuite exactly once, and every NetSuite cash sale or refund comes from a POS transaction.",
		needs:     []string{"origin", "jpart"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM main.tx) OR EXISTS (SELECT 1 FROM pos_origin)",
			"the journal has no transactions and NetSuite no cash sales or refunds"}},
		build: []string{`INSERT INTO v_exactly_once
			SELECT p.tx_id, 'missing', p.part, 1, 0, NULL FROM pos_jpart p JOIN main.tx j ON j.id = p.tx_id
			WHERE j.outcome = 'acknowledged' AND NOT EXISTS (SELECT 1 FROM pos_origin o WHERE o.tx_id = p.tx_id AND o.part = p.part)
			UNION ALL
			SELECT tx_id, 'duplicate', part, 1, COUNT(*), group_concat(recordtype || ' ' || ns_id, ', ')
			FROM pos_origin WHERE tx_id IS NOT NULL GROUP BY tx_id, part HAVING COUNT(*) > 1
			UNION ALL
			SELECT NULL, 'no-origin', recordtype || ' ' || ns_id, NULL, claimed, createddate FROM pos_origin WHERE tx_id IS NULL
			UNION ALL
			SELECT o.tx_id, 'unexpected', o.recordtype || ' ' || o.ns_id, NULL, NULL, j.type
			FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id
			WHERE NOT EXISTS (SELECT 1 FROM pos_jpart p WHERE p.tx_id = o.tx_id AND p.part = o.part)
			UNION ALL
			SELECT o.tx_id, 'rejected', o.recordtype || ' ' || o.ns_id, NULL, j.ack_status, j.error
			FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id WHERE j.outcome = 'rejected'`},
		format:   formatExactlyOnce,
		accuracy: []string{"missing", "duplicate"},
	},
	{
		id:        Amounts,
		statement: "Each posted record carries the POS transaction's lines (item, quantity, amount, tax, restock) and tenders to the cent.",
		needs:     []string{"origin", "jpart", "rline", "jtender", "rtender"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_origin WHERE tx_id IS NOT NULL)", "no NetSuite record posts a journal transaction"}},
		build: []string{`INSERT INTO v_amounts
			SELECT o.tx_id, 'lines', o.recordtype || ' ' || o.ns_id, p.amt || ' ' || p.tax || ' ' || p.n,
				COALESCE(r.amt, 0) || ' ' || COALESCE(r.tax, 0) || ' ' || COALESCE(r.n, 0), o.part
			FROM pos_origin o JOIN pos_jpart p ON p.tx_id = o.tx_id AND p.part = o.part
			LEFT JOIN pos_rline r ON r.ns_id = o.ns_id
			WHERE r.ns_id IS NULL OR p.n <> r.n OR abs(p.q - r.q) > 1e-6 OR p.amt <> r.amt OR p.tax <> r.tax
				OR abs(p.iq - r.iq) > 1e-3 OR p.ia <> r.ia OR p.it <> r.it OR abs(p.rq - r.rq) > 1e-6 OR abs(p.irq - r.irq) > 1e-3`,
			// Tenders are compared per transaction (an exchange's two records net out the
			// exchange credit), and only where each record was posted once.
			`INSERT INTO v_amounts
			SELECT c.tx_id, 'tender', k.name,
				CASE k.name WHEN 'card' THEN c.jcard WHEN 'cash' THEN c.jcash WHEN 'gift card' THEN c.jgift ELSE c.jother END,
				CASE k.name WHEN 'card' THEN c.rcard WHEN 'cash' THEN c.rcash WHEN 'gift card' THEN c.rgift ELSE c.rother END, NULL
			FROM (
				SELECT r.tx_id, COALESCE(jt.card, 0) AS jcard, COALESCE(jt.cash, 0) AS jcash, COALESCE(jt.gift, 0) AS jgift,
					COALESCE(jt.other, 0) AS jother, r.card AS rcard, r.cash AS rcash, r.gift AS rgift, r.other AS rother
				FROM (
					SELECT o.tx_id, SUM(s * COALESCE(t.card, 0)) AS card, SUM(s * COALESCE(t.cash, 0)) AS cash,
						SUM(s * COALESCE(t.gift, 0)) AS gift, SUM(s * COALESCE(t.other, 0)) AS other
					FROM (SELECT *, CASE part WHEN 'S' THEN 1 ELSE -1 END AS s FROM pos_origin WHERE tx_id IS NOT NULL) o
					LEFT JOIN pos_rtender t ON t.ns_id = o.ns_id
					GROUP BY o.tx_id HAVING COUNT(*) = COUNT(DISTINCT o.part)
				) r LEFT JOIN pos_jtender jt ON jt.tx_id = r.tx_id
			) c, (SELECT 'card' AS name UNION ALL SELECT 'cash' UNION ALL SELECT 'gift card' UNION ALL SELECT 'other') k
			WHERE (CASE k.name WHEN 'card' THEN c.jcard - c.rcard WHEN 'cash' THEN c.jcash - c.rcash
				WHEN 'gift card' THEN c.jgift - c.rgift ELSE c.jother - c.rother END) <> 0`},
		format:   formatAmounts,
		detail:   amountsDetail,
		accuracy: []string{"*"},
	},
	{
		id:        GLBalanced,
		statement: "Every NetSuite transaction's debits equal its credits, the trial balance balances, and each cash sale or refund books its total, income and tax.",
		needs:     []string{"origin", "gl"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_gl) OR EXISTS (SELECT 1 FROM pos_origin)", "NetSuite booked no GL lines"}},
		build: []string{`INSERT INTO v_gl_balanced
			SELECT o.tx_id, 'unbalanced', COALESCE(t.recordtype, 'transaction') || ' ' || g.ns_id, g.dr, g.cr, NULL
			FROM pos_gl g LEFT JOIN ns.transactions t ON t.id = g.ns_id LEFT JOIN pos_origin o ON o.ns_id = g.ns_id
			WHERE g.dr <> g.cr
			UNION ALL
			SELECT NULL, 'trial-balance', 'all accounts', SUM(dr), SUM(cr), NULL FROM pos_gl HAVING SUM(dr) <> SUM(cr)
			UNION ALL
			SELECT o.tx_id, k.name, o.recordtype || ' ' || o.ns_id,
				s * CASE k.name WHEN 'payment' THEN o.total WHEN 'income' THEN o.subtotal ELSE o.tax END,
				COALESCE(CASE k.name WHEN 'payment' THEN g.pay WHEN 'income' THEN g.inc ELSE g.tax END, 0), NULL
			FROM (SELECT *, CASE part WHEN 'S' THEN 1 ELSE -1 END AS s FROM pos_origin) o
			LEFT JOIN pos_gl g ON g.ns_id = o.ns_id,
			(SELECT 'payment' AS name UNION ALL SELECT 'income' UNION ALL SELECT 'tax') k
			WHERE s * CASE k.name WHEN 'payment' THEN o.total WHEN 'income' THEN o.subtotal ELSE o.tax END
				<> COALESCE(CASE k.name WHEN 'payment' THEN g.pay WHEN 'income' THEN g.inc ELSE g.tax END, 0)`},
		format: formatGL,
	},
	{
		id:        RevenueByStoreDay,
		statement: "NetSuite's income per location and tranDate equals the POS line amounts per store and occurred date.",
		needs:     []string{"origin", "jpart", "gl"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM main.tx WHERE outcome = 'acknowledged') OR EXISTS (SELECT 1 FROM pos_origin)",
			"nothing was acknowledged or posted"}},
		build: []string{`INSERT INTO v_revenue_by_store_day
			SELECT NULL, 'store-day', COALESCE(jr.loc, br.loc) || ' ' || COALESCE(jr.d, br.d),
				COALESCE(jr.amt, 0), COALESCE(br.amt, 0), COALESCE(jr.n, 0) || ' ' || COALESCE(br.n, 0)
			FROM (SELECT CAST(j.location_id AS INTEGER) AS loc, j.occurred_date AS d,
					SUM(CASE p.part WHEN 'S' THEN p.amt ELSE -p.amt END) AS amt, COUNT(DISTINCT p.tx_id) AS n
				FROM pos_jpart p JOIN main.tx j ON j.id = p.tx_id WHERE ` + accounted + ` GROUP BY 1, 2) jr
			FULL JOIN (SELECT o.location AS loc, o.trandate AS d, SUM(COALESCE(g.inc, 0)) AS amt, COUNT(*) AS n
				FROM pos_origin o LEFT JOIN pos_gl g ON g.ns_id = o.ns_id GROUP BY 1, 2) br
			ON br.loc = jr.loc AND br.d = jr.d
			WHERE COALESCE(jr.amt, 0) <> COALESCE(br.amt, 0)`},
		format: formatRevenue,
	},
	{
		id:        PaymentsReconcile,
		statement: "Per store and day the gateway's captures − refunds equal the POS card tenders − card refunds; no orphan capture, no authorisation left open, no double refund.",
		needs:     []string{"origin", "intent", "jtender"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM main.tender WHERE type = 'card') OR EXISTS (SELECT 1 FROM gw.payment_intents)",
			"no card tenders in the journal and no payment intents at the gateway"}},
		build: []string{
			// Store-day: journal card money of accounted transactions against the gateway's
			// captures (dated by the transaction they paid for) and refunds (by the POS
			// transaction named in their metadata, else the sale's store and the refund's day).
			`INSERT INTO v_payments_reconcile
			SELECT NULL, 'store-day', COALESCE(a.loc, b.loc) || ' ' || COALESCE(a.d, b.d), COALESCE(a.amt, 0), COALESCE(b.amt, 0),
				COALESCE(b.captured, 0) || ' ' || COALESCE(b.refunded, 0)
			FROM (SELECT CAST(j.location_id AS INTEGER) AS loc, j.occurred_date AS d, SUM(jt.card) AS amt
				FROM pos_jtender jt JOIN main.tx j ON j.id = jt.tx_id WHERE jt.card <> 0 AND ` + accounted + ` GROUP BY 1, 2) a
			FULL JOIN (SELECT loc, d, SUM(c) - SUM(r) AS amt, SUM(c) AS captured, SUM(r) AS refunded FROM (
					SELECT loc, d, received AS c, 0 AS r FROM pos_gi WHERE acc = 1 AND received <> 0
					UNION ALL
					SELECT COALESCE(CASE WHEN rj.acc THEN rj.loc END, gi.loc),
						COALESCE(CASE WHEN rj.acc THEN rj.d END, substr(rf.created_at, 1, 10)), 0, rf.amount
					FROM gw.refunds rf
					LEFT JOIN pos_gi gi ON gi.intent = rf.payment_intent
					LEFT JOIN (SELECT j.id, CAST(j.location_id AS INTEGER) AS loc, j.occurred_date AS d, ` + accounted + ` AS acc
						FROM main.tx j) rj ON rj.id = rf.pos_tx
					WHERE rf.status IN ('succeeded', 'pending') AND (rj.acc OR gi.acc = 1)
				) GROUP BY 1, 2) b
			ON b.loc = a.loc AND b.d = a.d
			WHERE COALESCE(a.amt, 0) <> COALESCE(b.amt, 0)`,
			`INSERT INTO v_payments_reconcile
			SELECT COALESCE(tx_id, pos_tx), 'orphan', intent, 0, received - refunded, CASE WHEN tx_id IS NULL THEN NULL ELSE 'unaccounted' END
			FROM pos_gi WHERE received - refunded > 0 AND acc = 0
			UNION ALL
			SELECT COALESCE(tx_id, pos_tx), 'uncaptured', intent, 0, capturable, status
			FROM pos_gi WHERE status = 'requires_capture' OR capturable > 0`,
			// Refunds per intent against the POS card refunds naming it (a return's card
			// tender's intent, else the original sale's card intent).
			`INSERT INTO v_payments_reconcile
			SELECT COALESCE(e.txs, (SELECT gi.tx_id FROM pos_gi gi WHERE gi.intent = g.intent)),
				CASE WHEN g.n > COALESCE(e.n, 0) THEN 'double-refund' ELSE 'over-refund' END, g.intent,
				COALESCE(e.amt, 0) || ' ' || COALESCE(e.n, 0), g.amt || ' ' || g.n, g.ids
			FROM (SELECT payment_intent AS intent, SUM(amount) AS amt, COUNT(*) AS n, group_concat(id, ' ') AS ids
				FROM gw.refunds WHERE status IN ('succeeded', 'pending') GROUP BY payment_intent) g
			LEFT JOIN (SELECT intent, SUM(amt) AS amt, COUNT(*) AS n, group_concat(tx_id, ' ') AS txs FROM (
					SELECT t.tx_id, -CASE j.type WHEN 'return' THEN -abs(t.amount_cents) ELSE t.amount_cents END AS amt,
						COALESCE(NULLIF(t.payment_intent_id, ''), (SELECT t2.payment_intent_id FROM main.tender t2
							WHERE t2.tx_id = j.original_tx_id AND t2.type = 'card' AND t2.payment_intent_id <> ''
							ORDER BY t2.tender_no LIMIT 1)) AS intent
					FROM main.tender t JOIN main.tx j ON j.id = t.tx_id
					WHERE t.type = 'card' AND (j.type = 'return' OR (j.type = 'exchange' AND t.amount_cents < 0)) AND ` + accounted + `
				) GROUP BY intent) e ON e.intent = g.intent
			WHERE g.amt > COALESCE(e.amt, 0)`},
		format: formatPayments,
	},
	{
		id:        InventoryConserved,
		statement: "Per location and item: start on hand − sold + restocked ± adjustments = NetSuite's end on hand.",
		needs:     []string{"stock"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_stock)", "no journal line and no stock move"}},
		build: []string{`INSERT INTO v_inventory_conserved
			SELECT NULL, 'stock', loc || ' ' || item, startq - sold + restocked + adj, endq,
				printf('%.17g %.17g %.17g %.17g %.17g', startq, sold, restocked, adj, posmoves)
			FROM pos_stock WHERE abs(startq - sold + restocked + adj - endq) > 1e-4`},
		format: formatInventory,
	},
	{
		id:        NoNegativeStock,
		statement: "No item's on hand at any location is below zero at the end (unless the world allows selling below zero).",
		needs:     []string{"stock"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_stock)", "no journal line and no stock move"}},
		build: []string{`INSERT INTO v_no_negative_stock
			SELECT NULL, 'negative', loc || ' ' || item, 0, endq, NULL FROM pos_stock WHERE endq < -1e-9`},
		format: formatNegative,
	},
	{
		id:        SaleLocation,
		statement: "Each posted record (and each of its lines) is at the POS transaction's store location.",
		needs:     []string{"origin", "rline"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_origin WHERE tx_id IS NOT NULL)", "no NetSuite record posts a journal transaction"}},
		build: []string{`INSERT INTO v_sale_location
			SELECT o.tx_id, 'header', o.recordtype || ' ' || o.ns_id, CAST(j.location_id AS INTEGER), o.location, NULL
			FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id WHERE o.location IS NOT CAST(j.location_id AS INTEGER)
			UNION ALL
			SELECT o.tx_id, 'lines', o.recordtype || ' ' || o.ns_id, CAST(j.location_id AS INTEGER),
				CASE WHEN r.minloc = r.maxloc THEN r.minloc ELSE r.minloc || '…' || r.maxloc END, NULL
			FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id JOIN pos_rline r ON r.ns_id = o.ns_id
			WHERE o.location IS CAST(j.location_id AS INTEGER)
				AND (r.minloc IS NOT CAST(j.location_id AS INTEGER) OR r.maxloc IS NOT CAST(j.location_id AS INTEGER))`},
		format:   formatLocation,
		accuracy: []string{"*"},
	},
	{
		id:        OfflineTranDate,
		statement: "Every record of an offline POS transaction has tranDate = the day it occurred at the register.",
		needs:     []string{"origin"},
		applies: []condition{
			{"SELECT EXISTS (SELECT 1 FROM main.tx WHERE offline = 1)", "no offline transactions in this run"},
			{"SELECT EXISTS (SELECT 1 FROM main.tx j JOIN pos_origin o ON o.tx_id = j.id WHERE j.offline = 1)", "no offline transaction was posted"},
		},
		build: []string{`INSERT INTO v_offline_trandate
			SELECT j.id, 'trandate', o.recordtype || ' ' || o.ns_id, j.occurred_date, o.trandate, j.occurred_at
			FROM main.tx j JOIN pos_origin o ON o.tx_id = j.id
			WHERE j.offline = 1 AND o.trandate IS NOT j.occurred_date`},
		format:   formatTranDate,
		accuracy: []string{"*"},
	},
	{
		id:        OneCustomerPerIdentity,
		statement: "Each customer identity the registers saw maps to exactly one NetSuite customer.",
		needs:     []string{"origin"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM main.tx WHERE customer_identity <> '')",
			"no transaction named a customer identity"}},
		build: []string{`INSERT INTO v_one_customer_per_identity
			WITH ids AS (SELECT j.customer_identity AS ident, MIN(j.id) AS tx, COUNT(*) AS ntx FROM main.tx j
					WHERE j.customer_identity <> '' AND ` + accounted + ` GROUP BY j.customer_identity),
				cand AS (
					SELECT i.ident, c.id FROM ids i JOIN ns.customers c ON c.externalid = i.ident
					UNION
					SELECT i.ident, c.id FROM ids i JOIN ns.customers c ON c.loyaltyid = substr(i.ident, 5) WHERE i.ident LIKE 'LOY-%'
					UNION
					SELECT j.customer_identity, o.entity FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id
					WHERE j.customer_identity <> '' AND o.entity IS NOT NULL)
			SELECT i.tx, 'identity', i.ident, 1, COUNT(c.id), COALESCE(group_concat(c.id, ' '), '') || '|' || i.ntx
			FROM ids i LEFT JOIN cand c ON c.ident = i.ident
			GROUP BY i.ident HAVING COUNT(c.id) <> 1`},
		format: formatCustomer,
	},
	{
		id:        StockViewConverges,
		statement: "After the drain, the connector's item lookup gives NetSuite's on hand (latest probe per item and location).",
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM main.stock_probe)", "no stock probes in the journal"}},
		build: []string{`INSERT INTO v_stock_view_converges
			SELECT NULL, CASE WHEN p.connector_on_hand IS NULL THEN 'no-answer' ELSE 'mismatch' END,
				p.sku || ' ' || p.location_id, COALESCE(v.onhand, 0), p.connector_on_hand, p.probed_at
			FROM (SELECT sku, location_id, connector_on_hand, MAX(probed_at) AS probed_at FROM main.stock_probe
				GROUP BY sku, location_id) p
			LEFT JOIN ns.items i ON i.itemid = p.sku
			LEFT JOIN ns.inventory v ON v.item = i.id AND v.location = CAST(p.location_id AS INTEGER)
			WHERE p.connector_on_hand IS NULL OR abs(p.connector_on_hand - COALESCE(v.onhand, 0)) > 1e-6`},
		format: formatStockView,
	},
	{
		id:        ReturnsBounded,
		statement: "Returns never exceed the sale: per original sale and item, returned ≤ sold and refunded ≤ the sale total, in the POS and in NetSuite.",
		needs:     []string{"origin", "jline", "jpart"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM main.tx WHERE type IN ('return', 'exchange')) OR EXISTS (SELECT 1 FROM pos_origin WHERE part = 'R')",
			"no returns or exchanges in this run"}},
		build: []string{
			// What the POS returned against each original sale, per item and in money.
			`CREATE TEMP TABLE pos_ret AS
			SELECT j.original_tx_id AS orig, l.item, SUM(l.q) AS q, group_concat(DISTINCT j.id) AS txs
			FROM main.tx j JOIN pos_jline l ON l.tx_id = j.id AND l.part = 'R'
			WHERE j.type IN ('return', 'exchange') AND j.original_tx_id IS NOT NULL AND ` + accounted + `
			GROUP BY j.original_tx_id, l.item`,
			`CREATE TEMP TABLE pos_retamt AS
			SELECT j.original_tx_id AS orig, SUM(p.amt + p.tax) AS amt, group_concat(j.id, ' ') AS txs
			FROM main.tx j JOIN pos_jpart p ON p.tx_id = j.id AND p.part = 'R'
			WHERE j.type IN ('return', 'exchange') AND j.original_tx_id IS NOT NULL AND ` + accounted + `
			GROUP BY j.original_tx_id`,
			// POS: returned ≤ sold, refunded ≤ sale total.
			`INSERT INTO v_returns_bounded
			SELECT orig, 'pos-qty', item, sold, q, txs FROM (
				SELECT r.*, COALESCE((SELECT SUM(s.q) FROM pos_jline s WHERE s.tx_id = r.orig AND s.part = 'S' AND s.item IS r.item), 0) AS sold
				FROM pos_ret r WHERE EXISTS (SELECT 1 FROM main.tx WHERE id = r.orig))
			WHERE q > sold + 1e-6
			UNION ALL
			SELECT a.orig, 'pos-amount', '', COALESCE(p.amt + p.tax, 0), a.amt, a.txs
			FROM pos_retamt a LEFT JOIN pos_jpart p ON p.tx_id = a.orig AND p.part = 'S'
			WHERE EXISTS (SELECT 1 FROM main.tx WHERE id = a.orig) AND a.amt > COALESCE(p.amt + p.tax, 0)`,
			// NetSuite: what its refunds returned against each original ≤ what the POS returned.
			`INSERT INTO v_returns_bounded
			SELECT b.orig, 'books-qty', b.item, COALESCE(r.q, 0), b.q, b.recs
			FROM (SELECT j.original_tx_id AS orig, l.item, SUM(l.quantity) AS q, group_concat(DISTINCT o.ns_id) AS recs
				FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id
				JOIN ns.transaction_lines l ON l.transaction_id = o.ns_id AND l.sublist = 'item'
				WHERE o.part = 'R' AND j.original_tx_id IS NOT NULL GROUP BY j.original_tx_id, l.item) b
			LEFT JOIN pos_ret r ON r.orig = b.orig AND r.item IS b.item
			WHERE b.q > COALESCE(r.q, 0) + 1e-6
			UNION ALL
			SELECT b.orig, 'books-amount', '', COALESCE(a.amt, 0), b.amt, b.recs
			FROM (SELECT j.original_tx_id AS orig, SUM(o.total) AS amt, group_concat(o.ns_id, ' ') AS recs
				FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id
				WHERE o.part = 'R' AND j.original_tx_id IS NOT NULL GROUP BY j.original_tx_id) b
			LEFT JOIN pos_retamt a ON a.orig = b.orig
			WHERE b.amt > COALESCE(a.amt, 0)
			UNION ALL
			SELECT o.tx_id, 'link', o.recordtype || ' ' || o.ns_id,
				(SELECT group_concat(s.ns_id, ' ') FROM pos_origin s WHERE s.tx_id = j.original_tx_id AND s.part = 'S'),
				o.createdfrom, j.original_tx_id
			FROM pos_origin o JOIN main.tx j ON j.id = o.tx_id
			WHERE o.part = 'R' AND j.original_tx_id IS NOT NULL
				AND EXISTS (SELECT 1 FROM pos_origin s WHERE s.tx_id = j.original_tx_id AND s.part = 'S')
				AND NOT EXISTS (SELECT 1 FROM pos_origin s WHERE s.ns_id = o.createdfrom AND s.tx_id = j.original_tx_id AND s.part = 'S')`,
		},
		format: formatReturns,
	},
}
