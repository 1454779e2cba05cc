package invariants

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Evidence formatting: violations tables hold raw values (cents, quantities, ids);
// these functions say what they mean.

// cents formats cents as a decimal amount: 1234 → "12.34", -5 → "-0.05".
func cents(v any) string {
	c, ok := toInt(v)
	if !ok {
		return str(v)
	}
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// qty formats a quantity without float noise.
func qty(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return str(v)
	}
	f = math.Round(f*1e6) / 1e6
	if f == 0 {
		f = 0 // no "-0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(math.Round(x)), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	case []byte:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case []byte:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// str formats any SQLite value.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// fields splits a space-separated composite value.
func fields(v any) []string { return strings.Fields(str(v)) }

func field(fs []string, i int) string {
	if i < len(fs) {
		return fs[i]
	}
	return ""
}

func partName(p string) string {
	if p == "R" {
		return "cash refund"
	}
	return "cash sale"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// locItem splits "loc item".
func locItem(ref string) (loc, item string) {
	loc, item, _ = strings.Cut(ref, " ")
	return loc, item
}

func formatExactlyOnce(v violation) Evidence {
	e := Evidence{TxID: v.tx}
	switch v.kind {
	case "missing":
		e.What = "acknowledged but not posted: no NetSuite " + partName(v.ref)
		e.Expected, e.Actual = "1 "+partName(v.ref), "none"
	case "duplicate":
		n, _ := toInt(v.act)
		e.What = fmt.Sprintf("posted %d times as a %s", n, partName(v.ref))
		e.Expected, e.Actual = "1 record", fmt.Sprintf("%d records", n)
		e.Detail = v.extra
	case "no-origin":
		e.What = "NetSuite " + v.ref + " has no POS origin"
		e.Expected = `the id of a journal transaction in memo ("POS <id>") or externalId`
		e.Actual = str(v.act)
		if e.Actual == "" {
			e.Actual = "names no transaction"
		} else {
			e.Actual = "names " + strconv.Quote(e.Actual) + ", not in the journal"
		}
		if v.extra != "" {
			e.Detail = "created " + v.extra
		}
	case "unexpected":
		e.What = fmt.Sprintf("NetSuite %s posted for a %s, which has no such record", v.ref, v.extra)
		e.Expected, e.Actual = "no "+strings.Fields(v.ref)[0], v.ref
	case "rejected":
		e.What = "posted although the connector rejected the transaction"
		e.Expected, e.Actual = "not posted", v.ref
		e.Detail = strings.TrimSpace(fmt.Sprintf("HTTP %s %s", str(v.act), v.extra))
	default:
		e.What = v.kind + " " + v.ref
	}
	return e
}

func formatAmounts(v violation) Evidence {
	e := Evidence{TxID: v.tx}
	switch v.kind {
	case "lines":
		x, a := fields(v.exp), fields(v.act)
		e.What = "NetSuite " + v.ref + " lines differ from the POS transaction"
		e.Expected = fmt.Sprintf("subtotal %s, tax %s, %s lines", cents(field(x, 0)), cents(field(x, 1)), field(x, 2))
		e.Actual = fmt.Sprintf("subtotal %s, tax %s, %s lines", cents(field(a, 0)), cents(field(a, 1)), field(a, 2))
	case "tender":
		e.What = v.ref + " tenders (money in − money paid back, over the transaction's records)"
		e.Expected, e.Actual = cents(v.exp), cents(v.act)
	default:
		e.What = v.kind + " " + v.ref
	}
	return e
}

// amountsDetail names the items whose lines differ (a record's lines against the POS
// transaction's).
func amountsDetail(ctx context.Context, s *session, v violation, e *Evidence) error {
	if v.kind != "lines" {
		return nil
	}
	f := strings.Fields(v.ref)
	if len(f) != 2 {
		return nil
	}
	nsID, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return nil
	}
	rows, err := s.c.QueryContext(ctx, `SELECT item, SUM(jq), SUM(rq), SUM(ja), SUM(ra), SUM(jt), SUM(rt), SUM(jr), SUM(rr), SUM(jn), SUM(rn)
		FROM (SELECT item, q AS jq, 0 AS rq, amt AS ja, 0 AS ra, tax AS jt, 0 AS rt,
				CASE WHEN part = 'R' AND restock THEN q ELSE 0 END AS jr, 0 AS rr, 1 AS jn, 0 AS rn
			FROM pos_jline WHERE tx_id = ? AND part = ?
			UNION ALL
			SELECT item, 0, quantity, 0, amount_cents, 0, tax_cents, 0, CASE WHEN ? = 'R' AND restock THEN quantity ELSE 0 END, 0, 1
			FROM ns.transaction_lines WHERE transaction_id = ? AND sublist = 'item')
		GROUP BY item
		HAVING abs(SUM(jq) - SUM(rq)) > 1e-6 OR SUM(ja) <> SUM(ra) OR SUM(jt) <> SUM(rt) OR abs(SUM(jr) - SUM(rr)) > 1e-6 OR SUM(jn) <> SUM(rn)
		ORDER BY item LIMIT 10`, v.tx, v.extra, v.extra, nsID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var (
			item                   sql.NullInt64
			jq, rq, jr, rr         float64
			ja, ra, jt, rt, jn, rn int64
		)
		if err := rows.Scan(&item, &jq, &rq, &ja, &ra, &jt, &rt, &jr, &rr, &jn, &rn); err != nil {
			return err
		}
		var d []string
		if jn != rn {
			d = append(d, fmt.Sprintf("lines %d ≠ %d", jn, rn))
		}
		if math.Abs(jq-rq) > 1e-6 {
			d = append(d, fmt.Sprintf("quantity %s ≠ %s", qty(jq), qty(rq)))
		}
		if ja != ra {
			d = append(d, fmt.Sprintf("amount %s ≠ %s", cents(ja), cents(ra)))
		}
		if jt != rt {
			d = append(d, fmt.Sprintf("tax %s ≠ %s", cents(jt), cents(rt)))
		}
		if math.Abs(jr-rr) > 1e-6 {
			d = append(d, fmt.Sprintf("restocked %s ≠ %s", qty(jr), qty(rr)))
		}
		name := "item ?"
		if item.Valid {
			name = fmt.Sprintf("item %d", item.Int64)
		}
		parts = append(parts, name+": "+strings.Join(d, ", "))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(parts) > 0 {
		e.Detail = "POS ≠ NetSuite — " + strings.Join(parts, "; ")
	}
	return nil
}

func formatGL(v violation) Evidence {
	e := Evidence{TxID: v.tx}
	switch v.kind {
	case "unbalanced":
		e.What = "NetSuite " + v.ref + " does not balance"
		e.Expected = "debits = credits"
		e.Actual = fmt.Sprintf("debits %s, credits %s", cents(v.exp), cents(v.act))
	case "trial-balance":
		e.What = "the trial balance over all accounts does not balance"
		e.Expected = "debits = credits"
		e.Actual = fmt.Sprintf("debits %s, credits %s", cents(v.exp), cents(v.act))
	default:
		e.What = v.kind + " " + v.ref
	}
	return e
}

func formatRevenue(v violation) Evidence {
	loc, day := locItem(v.ref)
	n := fields(v.extra)
	return Evidence{
		What:     fmt.Sprintf("income at location %s on %s", loc, day),
		Expected: cents(v.exp) + " (POS line amounts)",
		Actual:   cents(v.act) + " (NetSuite income)",
		Detail:   fmt.Sprintf("journal: %s transactions; NetSuite: %s records", field(n, 0), field(n, 1)),
	}
}

func formatPayments(v violation) Evidence {
	e := Evidence{TxID: v.tx}
	switch v.kind {
	case "store-day":
		loc, day := locItem(v.ref)
		n := fields(v.extra)
		e.What = fmt.Sprintf("card money at location %s on %s", loc, day)
		e.Expected = cents(v.exp) + " (POS card tenders − card refunds)"
		e.Actual = cents(v.act) + " (gateway captured − refunded)"
		e.Detail = fmt.Sprintf("gateway captured %s, refunded %s", cents(field(n, 0)), cents(field(n, 1)))
	case "orphan":
		e.What = "payment intent " + v.ref + " captured for no acknowledged POS transaction"
		e.Expected, e.Actual = "nothing captured", cents(v.act)+" captured (net of refunds)"
		if v.extra == "unaccounted" {
			e.Detail = "its transaction was never acknowledged nor posted"
		} else {
			e.Detail = "no journal transaction names this intent"
		}
	case "uncaptured":
		e.What = "authorisation " + v.ref + " left open (neither captured nor canceled)"
		e.Expected = "captured or canceled"
		e.Actual = fmt.Sprintf("%s, %s capturable", v.extra, cents(v.act))
	case "double-refund", "over-refund":
		x, a := fields(v.exp), fields(v.act)
		en, _ := strconv.ParseInt(field(x, 1), 10, 64)
		an, _ := strconv.ParseInt(field(a, 1), 10, 64)
		if v.kind == "double-refund" {
			e.What = "payment intent " + v.ref + " refunded more times than the POS refunded it"
		} else {
			e.What = "payment intent " + v.ref + " refunded more than the POS refunded"
		}
		e.Expected = cents(field(x, 0)) + " in " + plural(en, "refund", "refunds")
		e.Actual = cents(field(a, 0)) + " in " + plural(an, "refund", "refunds")
		e.Detail = "gateway refunds: " + v.extra
	default:
		e.What = v.kind + " " + v.ref
	}
	return e
}

func formatInventory(v violation) Evidence {
	e := Evidence{TxID: v.tx}
	switch v.kind {
	case "moves":
		x, a := fields(v.exp), fields(v.act)
		e.What = "NetSuite " + v.ref + " moved stock unlike the POS transaction's lines"
		e.Expected = fmt.Sprintf("%s units at location %s", qty(field(x, 0)), field(x, 1))
		switch {
		case field(a, 1) == "":
			e.Actual = "no stock moved"
		case field(a, 1) == field(a, 2):
			e.Actual = fmt.Sprintf("%s units at location %s", qty(field(a, 0)), field(a, 1))
		default:
			e.Actual = fmt.Sprintf("%s units at locations %s…%s", qty(field(a, 0)), field(a, 1), field(a, 2))
		}
	case "unexplained":
		e.What = "NetSuite " + v.ref + " moved stock for no POS transaction (or for a record the transaction does not have)"
		e.Expected, e.Actual = "no stock moved", qty(v.act)+" units"
		if v.extra != "" {
			e.Detail = "names " + strconv.Quote(v.extra)
		}
	case "duplicate":
		n, _ := toInt(v.act)
		e.What = fmt.Sprintf("the transaction's %s was posted %d times, each moving stock", partName(v.ref), n)
		e.Expected, e.Actual = "moved once", fmt.Sprintf("moved %d times", n)
		e.Detail = "NetSuite records: " + v.extra
	case "missing":
		e.What = "acknowledged but not posted: its " + partName(v.ref) + " never moved stock"
		e.Expected, e.Actual = qty(v.exp)+" units", "none"
	case "ledger":
		loc, item := locItem(v.ref)
		x := fields(v.extra)
		e.What = fmt.Sprintf("item %s at location %s: start + stock moves ≠ end on hand", item, loc)
		e.Expected, e.Actual = qty(v.exp)+" on hand", qty(v.act)+" on hand in NetSuite"
		e.Detail = fmt.Sprintf("start %s, moves %s", qty(field(x, 0)), qty(field(x, 1)))
	default:
		e.What = v.kind + " " + v.ref
	}
	return e
}

// inventoryDetail names, per item and location, the stock moves a record made against
// those its POS lines call for.
func inventoryDetail(ctx context.Context, s *session, v violation, e *Evidence) error {
	if v.kind != "moves" {
		return nil
	}
	f := strings.Fields(v.ref)
	if len(f) != 2 {
		return nil
	}
	nsID, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return nil
	}
	rows, err := s.c.QueryContext(ctx, `SELECT item, loc, SUM(e), SUM(a) FROM (
			SELECT item, loc, CASE WHEN part = 'S' THEN -q ELSE q * restock END AS e, 0 AS a FROM pos_jline WHERE tx_id = ? AND part = ?
			UNION ALL
			SELECT item, location, 0, quantity FROM ns.inventory_moves WHERE transaction_id = ?)
		GROUP BY item, loc HAVING abs(SUM(e) - SUM(a)) > 1e-6 ORDER BY item, loc LIMIT 10`, v.tx, v.extra, nsID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var (
			item, loc sql.NullInt64
			x, a      float64
		)
		if err := rows.Scan(&item, &loc, &x, &a); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("item %s at location %s: %s ≠ %s", nullInt(item), nullInt(loc), qty(x), qty(a)))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(parts) > 0 {
		e.Detail = "POS ≠ NetSuite — " + strings.Join(parts, "; ")
	}
	return nil
}

func nullInt(n sql.NullInt64) string {
	if !n.Valid {
		return "?"
	}
	return strconv.FormatInt(n.Int64, 10)
}

func formatNegative(v violation) Evidence {
	loc, item := locItem(v.ref)
	return Evidence{What: fmt.Sprintf("item %s at location %s is below zero", item, loc), Expected: "≥ 0", Actual: qty(v.act)}
}

func formatLocation(v violation) Evidence {
	e := Evidence{TxID: v.tx, Expected: "location " + str(v.exp), Actual: "location " + str(v.act)}
	if v.kind == "moves" {
		e.What = "NetSuite " + v.ref + " moved stock elsewhere than the store"
	} else {
		e.What = "NetSuite " + v.ref + " is not at the store"
		if v.act == nil {
			e.Actual = "no location"
		}
	}
	return e
}

func formatTranDate(v violation) Evidence {
	e := Evidence{TxID: v.tx, What: "NetSuite " + v.ref + " of an offline transaction has the wrong tranDate",
		Expected: str(v.exp), Actual: str(v.act)}
	if v.extra != "" {
		e.Detail = "occurredAt " + v.extra
	}
	return e
}

func formatCustomer(v violation) Evidence {
	ids, ntx, _ := strings.Cut(v.extra, "|")
	n, _ := toInt(v.act)
	e := Evidence{TxID: v.tx, What: "customer identity " + v.ref, Expected: "1 NetSuite customer",
		Actual: plural(n, "customer", "customers")}
	if ids != "" {
		e.Actual += ": " + ids
	}
	e.Detail = "named by " + ntx + " transactions (first shown)"
	return e
}

func formatStockView(v violation) Evidence {
	sku, loc := locItem(v.ref)
	e := Evidence{What: fmt.Sprintf("SKU %s at location %s", sku, loc), Expected: qty(v.exp) + " (NetSuite on hand)"}
	if v.kind == "no-answer" {
		e.Actual = "no on-hand from the connector's item lookup"
	} else {
		e.Actual = qty(v.act) + " (connector lookup)"
	}
	if v.extra != "" {
		e.Detail = "probed at " + v.extra
	}
	return e
}

func formatReturns(v violation) Evidence {
	e := Evidence{TxID: v.tx}
	switch v.kind {
	case "pos-qty":
		e.What = "the POS returned more of item " + v.ref + " than the original sale sold"
		e.Expected, e.Actual = "≤ "+qty(v.exp), qty(v.act)
		e.Detail = "returns: " + v.extra
	case "pos-amount":
		e.What = "the POS refunded more than the original sale's total"
		e.Expected, e.Actual = "≤ "+cents(v.exp), cents(v.act)
		e.Detail = "returns: " + v.extra
	case "books-qty":
		e.What = "NetSuite's refunds return more of item " + v.ref + " than the POS returned against this sale"
		e.Expected, e.Actual = "≤ "+qty(v.exp), qty(v.act)
		e.Detail = "NetSuite records: " + v.extra
	case "books-amount":
		e.What = "NetSuite's refunds exceed what the POS refunded against this sale"
		e.Expected, e.Actual = "≤ "+cents(v.exp), cents(v.act)
		e.Detail = "NetSuite records: " + v.extra
	case "link":
		e.What = "NetSuite " + v.ref + " is not linked to the original sale " + v.extra
		e.Expected = "createdFrom " + str(v.exp)
		e.Actual = "createdFrom " + str(v.act)
		if v.act == nil {
			e.Actual = "no createdFrom"
		}
	default:
		e.What = v.kind + " " + v.ref
	}
	return e
}
