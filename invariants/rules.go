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
	// extra, when set, adds statements that depend on the session.
	extra func(s *session) []string
	// stage: the worker stage that builds the violations table when the session has a
	// worker (see worker.go); build may then read only the journal, the books and the
	// worker's own tables (not pos_tx).
	stage string
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
		needs:     []string{"origin", "tx", "cmp", "missing", "dups"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM pos_tx) OR EXISTS (SELECT 1 FROM pos_origin)",
			"the journal has no transactions and NetSuite no cash sales or refunds"}},
		build: []string{`INSERT INTO v_exactly_once
			SELECT tx_id, 'missing', part, 1, 0, NULL FROM pos_missing WHERE ack
			UNION ALL
			SELECT tx_id, 'duplicate', part, 1, n, recs FROM pos_dups
			UNION ALL
			SELECT NULL, 'no-origin', recordtype || ' ' || ns_id, NULL, claimed, createddate FROM pos_origin WHERE tx_id IS NULL
			UNION ALL
			SELECT c.tx_id, 'unexpected', c.recordtype || ' ' || c.ns_id, NULL, NULL, (SELECT type FROM pos_tx WHERE id = c.tx_id)
			FROM pos_cmp c WHERE NOT c.expected
			UNION ALL
			SELECT o.tx_id, 'rejected', o.recordtype || ' ' || o.ns_id, NULL,
				(SELECT ack_status FROM main.tx WHERE id = j.id), (SELECT error FROM main.tx WHERE id = j.id)
			FROM pos_tx j CROSS JOIN pos_origin o ON o.tx_id = j.id WHERE j.outcome = 'rejected'`},
		format:   formatExactlyOnce,
		accuracy: []string{"missing", "duplicate"},
	},
	{
		id:        Amounts,
		statement: "Each posted record carries the POS transaction's lines (item, quantity, amount, tax, restock) and tenders to the cent.",
		needs:     []string{"origin", "tx", "cmp", "jtender", "rtender"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_origin WHERE tx_id IS NOT NULL)", "no NetSuite record posts a journal transaction"}},
		build: []string{`INSERT INTO v_amounts
			SELECT tx_id, 'lines', recordtype || ' ' || ns_id, jamt || ' ' || jtax || ' ' || jn,
				COALESCE(ramt, 0) || ' ' || COALESCE(rtax, 0) || ' ' || COALESCE(rn, 0), part
			FROM pos_cmp WHERE lines_bad`,
			`INSERT INTO v_amounts
			SELECT c.tx_id, 'tender', k.name,
				CASE k.name WHEN 'card' THEN jcard WHEN 'cash' THEN jcash WHEN 'gift card' THEN jgift ELSE jother END,
				CASE k.name WHEN 'card' THEN rcard WHEN 'cash' THEN rcash WHEN 'gift card' THEN rgift ELSE rother END,
				c.recordtype || ' ' || c.ns_id
			FROM pos_cmp c, (SELECT 'card' AS name UNION ALL SELECT 'cash' UNION ALL SELECT 'gift card' UNION ALL SELECT 'other') k
			WHERE c.tender_bad AND (CASE k.name WHEN 'card' THEN jcard - rcard WHEN 'cash' THEN jcash - rcash
				WHEN 'gift card' THEN jgift - rgift ELSE jother - rother END) <> 0`,
			// An exchange's tenders net over its two records (each carries the exchange
			// credit); compared per transaction where each record was posted once.
			`INSERT INTO v_amounts
			SELECT c.tx_id, 'tender', k.name,
				CASE k.name WHEN 'card' THEN c.jcard WHEN 'cash' THEN c.jcash WHEN 'gift card' THEN c.jgift ELSE c.jother END,
				CASE k.name WHEN 'card' THEN c.rcard WHEN 'cash' THEN c.rcash WHEN 'gift card' THEN c.rgift ELSE c.rother END, c.recs
			FROM (
				SELECT r.tx_id, COALESCE(jt.card, 0) AS jcard, COALESCE(jt.cash, 0) AS jcash, COALESCE(jt.gift, 0) AS jgift,
					COALESCE(jt.other, 0) AS jother, r.card AS rcard, r.cash AS rcash, r.gift AS rgift, r.other AS rother, r.recs
				FROM (
					SELECT j.id AS tx_id, SUM(o.s * COALESCE(t.card, 0)) AS card, SUM(o.s * COALESCE(t.cash, 0)) AS cash,
						SUM(o.s * COALESCE(t.gift, 0)) AS gift, SUM(o.s * COALESCE(t.other, 0)) AS other,
						group_concat(o.recordtype || ' ' || o.ns_id, ', ') AS recs
					FROM pos_tx j CROSS JOIN (SELECT ns_id, tx_id, recordtype, part, CASE part WHEN 'S' THEN 1 ELSE -1 END AS s
						FROM pos_origin) o ON o.tx_id = j.id
					LEFT JOIN pos_rtender t ON t.ns_id = o.ns_id
					WHERE j.type = 'exchange'
					GROUP BY j.id HAVING COUNT(*) = 1 + (MIN(o.part) <> MAX(o.part))
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
		statement: "Every NetSuite transaction's debits equal its credits, and the trial balance balances.",
		needs:     []string{"origin", "gl"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_gl)", "NetSuite booked no GL lines"}},
		build: []string{`INSERT INTO v_gl_balanced
			SELECT o.tx_id, 'unbalanced', COALESCE(t.recordtype, 'transaction') || ' ' || g.ns_id, g.dr, g.cr, NULL
			FROM pos_gl g LEFT JOIN ns.transactions t ON t.id = g.ns_id LEFT JOIN pos_origin o ON o.ns_id = g.ns_id
			WHERE g.dr <> g.cr
			UNION ALL
			SELECT NULL, 'trial-balance', 'all accounts', SUM(dr), SUM(cr), NULL FROM pos_gl HAVING SUM(dr) <> SUM(cr)`},
		format: formatGL,
	},
	{
		id:        RevenueByStoreDay,
		statement: "NetSuite's income per location and tranDate (cash sale subtotals − cash refund subtotals) equals the POS line amounts per store and occurred date.",
		needs:     []string{"rev"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM pos_rev)",
			"nothing was acknowledged or posted"}},
		build: []string{`INSERT INTO v_revenue_by_store_day
			SELECT NULL, 'store-day', loc || ' ' || d, jamt, bamt, jn || ' ' || bn FROM pos_rev WHERE jamt <> bamt`},
		format: formatRevenue,
	},
	{
		id:        PaymentsReconcile,
		statement: "Per store and day the gateway's captures − refunds equal the POS card tenders − card refunds; no orphan capture, no authorisation left open, no double refund.",
		needs:     []string{"tx", "intent", "jtender", "gday"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM main.tender WHERE type = 'card') OR EXISTS (SELECT 1 FROM gw.payment_intents)",
			"no card tenders in the journal and no payment intents at the gateway"}},
		build: []string{
			// Store-day: journal card money of accounted transactions against the gateway's
			// (pos_gday).
			`INSERT INTO v_payments_reconcile
			SELECT NULL, 'store-day', COALESCE(a.loc, b.loc) || ' ' || COALESCE(a.d, b.d), COALESCE(a.amt, 0), COALESCE(b.amt, 0),
				COALESCE(b.captured, 0) || ' ' || COALESCE(b.refunded, 0)
			FROM (SELECT loc, d, SUM(card) AS amt FROM pos_jtender WHERE card <> 0 AND acc GROUP BY loc, d) a
			FULL JOIN (SELECT loc, d, captured - refunded AS amt, captured, refunded FROM pos_gday) b
			ON b.loc = a.loc AND b.d = a.d
			WHERE COALESCE(a.amt, 0) <> COALESCE(b.amt, 0)`,
			`INSERT INTO v_payments_reconcile
			SELECT COALESCE(tx_id, pos_tx), 'orphan', intent, 0, received - refunded, CASE WHEN tx_id IS NULL THEN NULL ELSE 'unaccounted' END
			FROM pos_gi WHERE received - refunded > 0 AND NOT acc
			UNION ALL
			SELECT COALESCE(tx_id, pos_tx), 'uncaptured', intent, 0, capturable, status
			FROM pos_gi WHERE status = 'requires_capture' OR capturable > 0`,
			// Refunds per intent against the POS card refunds naming it (a return's card
			// tender's intent, else the original sale's card intent).
			`INSERT INTO v_payments_reconcile
			SELECT COALESCE(group_concat(txs, ' '), (SELECT gi.tx_id FROM pos_gi gi WHERE gi.intent = u.intent)),
				CASE WHEN SUM(gn) > SUM(en) THEN 'double-refund' ELSE 'over-refund' END, intent,
				SUM(ea) || ' ' || SUM(en), SUM(ga) || ' ' || SUM(gn), group_concat(ids, ' ')
			FROM (
				SELECT payment_intent AS intent, 0 AS ea, 0 AS en, amount AS ga, 1 AS gn, NULL AS txs, id AS ids
				FROM gw.refunds WHERE status IN ('succeeded', 'pending')
				UNION ALL
				SELECT COALESCE(NULLIF(t.payment_intent_id, ''), (SELECT t2.payment_intent_id FROM main.tender t2
						WHERE t2.tx_id = j.orig AND t2.type = 'card' AND t2.payment_intent_id <> ''
						ORDER BY t2.tender_no LIMIT 1)),
					-CASE j.type WHEN 'return' THEN -abs(t.amount_cents) ELSE t.amount_cents END, 1, 0, 0, t.tx_id, NULL
				FROM main.tender t JOIN pos_tx j ON j.id = t.tx_id
				WHERE t.type = 'card' AND (j.type = 'return' OR (j.type = 'exchange' AND t.amount_cents < 0)) AND j.acc
			) u
			GROUP BY intent HAVING SUM(ga) > SUM(ea)`},
		format: formatPayments,
	},
	{
		id: InventoryConserved,
		statement: "Per location and item, start − sold + restocked ± adjustments = end on hand: every POS record moves stock as its lines say, " +
			"at the store; nothing else moves stock but adjustments; with a start snapshot, start + moves = end.",
		needs:   []string{"origin", "cmp", "missing", "dups", "rmove", "ledger"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM pos_jpart) OR EXISTS (SELECT 1 FROM pos_rmove)", "no journal line and no stock move"}},
		build: []string{`INSERT INTO v_inventory_conserved
			SELECT tx_id, 'moves', recordtype || ' ' || ns_id, emq || ' ' || COALESCE(jloc, ''),
				mq || ' ' || COALESCE(minloc, '') || ' ' || COALESCE(maxloc, ''), part
			FROM pos_cmp WHERE stock_bad
			UNION ALL
			SELECT tx_id, 'unexplained', recordtype || ' ' || ns_id, 0, mq, NULL FROM pos_cmp WHERE NOT expected AND mn > 0
			UNION ALL
			SELECT NULL, 'unexplained', o.recordtype || ' ' || o.ns_id, 0, m.mq, o.claimed
			FROM pos_origin o JOIN pos_rmove m ON m.ns_id = o.ns_id WHERE o.tx_id IS NULL
			UNION ALL
			SELECT d.tx_id, 'duplicate', d.part, 1, COUNT(*), group_concat(o.ns_id, ' ')
			FROM pos_dups d JOIN pos_origin o ON o.tx_id = d.tx_id AND o.part = d.part JOIN pos_rmove m ON m.ns_id = o.ns_id
			GROUP BY d.tx_id, d.part HAVING COUNT(*) > 1
			UNION ALL
			SELECT tx_id, 'missing', part, CASE part WHEN 'S' THEN -q ELSE rq END, 0, NULL FROM pos_missing WHERE part = 'S' OR rq > 0`},
		extra: func(s *session) []string {
			if s.startSource == startLedger {
				return nil
			}
			return []string{`INSERT INTO v_inventory_conserved
				SELECT NULL, 'ledger', loc || ' ' || item, startq + moves, endq, startq || ' ' || moves
				FROM pos_ledger WHERE abs(startq + moves - endq) > 1e-4`}
		},
		detail: inventoryDetail,
		format: formatInventory,
	},
	{
		id:        NoNegativeStock,
		statement: "No item's on hand at any location is below zero at the end (unless the world allows selling below zero).",
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM ns.inventory)", "NetSuite holds no stock"}},
		build: []string{`INSERT INTO v_no_negative_stock
			SELECT NULL, 'negative', location || ' ' || item, 0, onhand, NULL FROM ns.inventory WHERE onhand < -1e-9`},
		format: formatNegative,
	},
	{
		id:        SaleLocation,
		statement: "Each posted record is at the POS transaction's store location, and so are its stock moves.",
		needs:     []string{"origin", "cmp"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_origin WHERE tx_id IS NOT NULL)", "no NetSuite record posts a journal transaction"}},
		build: []string{`INSERT INTO v_sale_location
			SELECT tx_id, CASE WHEN hloc IS NOT jloc THEN 'header' ELSE 'moves' END, recordtype || ' ' || ns_id, jloc,
				CASE WHEN hloc IS NOT jloc THEN hloc WHEN minloc = maxloc THEN minloc ELSE minloc || '…' || maxloc END, NULL
			FROM pos_cmp WHERE loc_bad`},
		format:   formatLocation,
		accuracy: []string{"*"},
	},
	{
		id:        OfflineTranDate,
		statement: "Every record of an offline POS transaction has tranDate = the day it occurred at the register.",
		needs:     []string{"origin", "tx", "cmp"},
		applies: []condition{
			{"SELECT EXISTS (SELECT 1 FROM pos_tx WHERE offline = 1)", "no offline transactions in this run"},
			{"SELECT EXISTS (SELECT 1 FROM pos_tx j CROSS JOIN pos_origin o ON o.tx_id = j.id WHERE j.offline = 1)", "no offline transaction was posted"},
		},
		build: []string{`INSERT INTO v_offline_trandate
			SELECT tx_id, 'trandate', recordtype || ' ' || ns_id, d, trandate, (SELECT occurred_at FROM main.tx WHERE id = tx_id)
			FROM pos_cmp WHERE date_bad`},
		format:   formatTranDate,
		accuracy: []string{"*"},
	},
	{
		id:        OneCustomerPerIdentity,
		statement: "Each customer identity the registers saw maps to exactly one NetSuite customer.",
		needs:     []string{"origin", "tx"},
		applies:   []condition{{"SELECT EXISTS (SELECT 1 FROM pos_tx WHERE ident IS NOT NULL)", "no transaction named a customer identity"}},
		// Read from the journal itself (not pos_tx) so that the worker can build it.
		stage: "post",
		build: []string{`INSERT INTO v_one_customer_per_identity
			WITH named AS (SELECT id, NULLIF(customer_identity, '') AS ident, outcome FROM main.tx WHERE NULLIF(customer_identity, '') IS NOT NULL),
				ids AS (SELECT ident, MIN(id) AS tx, COUNT(*) AS ntx FROM named j
					WHERE j.outcome = 'acknowledged' OR EXISTS (SELECT 1 FROM pos_origin ao WHERE ao.tx_id = j.id) GROUP BY ident),
				cand AS (
					SELECT i.ident, c.id FROM ids i JOIN ns.customers c ON c.externalid = i.ident
					UNION
					SELECT i.ident, c.id FROM ids i JOIN ns.customers c ON c.loyaltyid = substr(i.ident, 5) WHERE i.ident LIKE 'LOY-%'
					UNION
					SELECT j.ident, o.entity FROM named j CROSS JOIN pos_origin o ON o.tx_id = j.id WHERE o.entity IS NOT NULL)
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
		needs:     []string{"origin", "tx", "jline", "jpart"},
		applies: []condition{{"SELECT EXISTS (SELECT 1 FROM pos_tx WHERE type IN ('return', 'exchange')) OR EXISTS (SELECT 1 FROM pos_origin WHERE part = 'R')",
			"no returns or exchanges in this run"}},
		build: []string{
			// The returns and exchanges, and what the POS returned against each original
			// sale, per item and in money.
			`CREATE TEMP TABLE pos_rtx AS SELECT id, orig, acc FROM pos_tx WHERE type IN ('return', 'exchange') AND orig IS NOT NULL`,
			`CREATE TEMP TABLE pos_ret AS
			SELECT r.orig, l.item, SUM(l.q) AS q, group_concat(DISTINCT r.id) AS txs
			FROM pos_rtx r CROSS JOIN pos_jline l ON l.tx_id = r.id
			WHERE r.acc AND l.part = 'R'
			GROUP BY r.orig, l.item`,
			`CREATE TEMP TABLE pos_retamt AS
			SELECT r.orig, SUM(p.amt + p.tax) AS amt, group_concat(r.id, ' ') AS txs
			FROM pos_rtx r JOIN pos_jpart p ON p.tx_id = r.id AND p.part = 'R'
			WHERE r.acc
			GROUP BY r.orig`,
			// POS: returned ≤ sold, refunded ≤ sale total.
			`INSERT INTO v_returns_bounded
			SELECT orig, 'pos-qty', item, sold, q, txs FROM (
				SELECT r.*, COALESCE((SELECT SUM(s.q) FROM pos_jline s WHERE s.tx_id = r.orig AND s.part = 'S' AND s.item IS r.item), 0) AS sold
				FROM pos_ret r WHERE EXISTS (SELECT 1 FROM pos_tx WHERE id = r.orig))
			WHERE q > sold + 1e-6
			UNION ALL
			SELECT a.orig, 'pos-amount', '', COALESCE(p.amt + p.tax, 0), a.amt, a.txs
			FROM pos_retamt a LEFT JOIN pos_jpart p ON p.tx_id = a.orig AND p.part = 'S'
			WHERE EXISTS (SELECT 1 FROM pos_tx WHERE id = a.orig) AND a.amt > COALESCE(p.amt + p.tax, 0)`,
			// NetSuite: what its refunds returned against each original ≤ what the POS returned.
			`CREATE TEMP TABLE pos_bret AS
			SELECT r.orig, r.id AS tx_id, o.ns_id, o.recordtype, o.total, o.createdfrom
			FROM pos_rtx r CROSS JOIN pos_origin o ON o.tx_id = r.id AND o.part = 'R'`,
			`INSERT INTO v_returns_bounded
			SELECT b.orig, 'books-qty', b.item, COALESCE(r.q, 0), b.q, b.recs
			FROM (SELECT br.orig, l.item, SUM(l.quantity) AS q, group_concat(DISTINCT br.ns_id) AS recs
				FROM pos_bret br JOIN ns.transaction_lines l ON l.transaction_id = br.ns_id AND l.sublist = 'item'
				GROUP BY br.orig, l.item) b
			LEFT JOIN pos_ret r ON r.orig = b.orig AND r.item IS b.item
			WHERE b.q > COALESCE(r.q, 0) + 1e-6
			UNION ALL
			SELECT b.orig, 'books-amount', '', COALESCE(a.amt, 0), b.amt, b.recs
			FROM (SELECT orig, SUM(total) AS amt, group_concat(ns_id, ' ') AS recs FROM pos_bret GROUP BY orig) b
			LEFT JOIN pos_retamt a ON a.orig = b.orig
			WHERE b.amt > COALESCE(a.amt, 0)
			UNION ALL
			SELECT br.tx_id, 'link', br.recordtype || ' ' || br.ns_id,
				(SELECT group_concat(s.ns_id, ' ') FROM pos_origin s WHERE s.tx_id = br.orig AND s.part = 'S'),
				br.createdfrom, br.orig
			FROM pos_bret br
			WHERE EXISTS (SELECT 1 FROM pos_origin s WHERE s.tx_id = br.orig AND s.part = 'S')
				AND NOT EXISTS (SELECT 1 FROM pos_origin s WHERE s.ns_id = br.createdfrom AND s.tx_id = br.orig AND s.part = 'S')`,
		},
		format: formatReturns,
	},
}
