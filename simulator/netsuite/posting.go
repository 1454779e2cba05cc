package netsuite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Posting rules (what the books record for each transaction type):
//
//	cashSale      Dr each tender's account (custbody_pos_tenders), or the paymentMethod's
//	              account (undeposited funds when there is none), for the total less gift
//	              certificates; Dr gift certificate liability for giftCertRedemption;
//	              Cr each line's item income account for the line amount; Cr sales tax
//	              payable for the line tax; Dr COGS / Cr inventory asset at the location's
//	              average cost × quantity; on hand at the line's location falls.
//	cashRefund    the mirror image; lines with custcol_restock (default true) go back on
//	              hand: Dr inventory asset / Cr COGS at the unit cost of the original
//	              sale (createdFrom) — the current average cost when there is none — and
//	              that receipt re-weights the average cost. Lines not restocked move no
//	              stock and leave COGS as it was.
//	itemFulfillment  Dr COGS / Cr inventory asset at average cost; on hand falls.
//	inventoryTransfer  Cr inventory asset at the source, Dr at the destination, at the
//	              source's average cost; the destination's average is re-weighted.
//	inventoryAdjustment  quantity in: Dr inventory asset / Cr the adjustment account at
//	              unitCost (default: the current average), re-weighting the average;
//	              quantity out: the reverse at the current average.
//	journalEntry  each line as given; debits must equal credits.
//	salesOrder    no GL impact and no stock movement.
//
// Line defaults, as NetSuite's: quantity 1; rate = the item's base price; amount =
// quantity × rate (rounded to the cent); taxCode = the location's tax code for a
// taxable item (the line's location, else the body's), else the item's own code;
// tax1Amt = amount × the tax code's rate unless the line gives tax1Amt (the POS sends
// the tax it computed, and the books then take it as given). A body without tranDate
// gets the server's date (UTC), without subsidiary the location's subsidiary.
//
// Selling below zero on hand is never refused (NetSuite's negative-inventory
// preference); fixtures.World.AllowNegativeStock is for the invariant checker.

// lookups reads the reference data posting needs, caching within one write.
type lookups struct {
	ctx   context.Context
	q     queryer
	items map[int64]*itemInfo
	taxes map[int64]float64
	locs  map[int64]*locInfo
	pms   map[int64]*pmInfo
}

type itemInfo struct {
	priceCents          int64
	averageCost         float64
	taxable             bool
	taxCode             int64
	income, cogs, asset int64
}

type locInfo struct{ subsidiary, taxCode int64 }

type pmInfo struct {
	account int64
	kind    string
}

func newLookups(ctx context.Context, q queryer) *lookups {
	return &lookups{ctx: ctx, q: q, items: map[int64]*itemInfo{}, taxes: map[int64]float64{},
		locs: map[int64]*locInfo{}, pms: map[int64]*pmInfo{}}
}

func (l *lookups) item(id int64) (*itemInfo, error) {
	if it, ok := l.items[id]; ok {
		return it, nil
	}
	var (
		it                    itemInfo
		tax, inc, cogs, asset sql.NullInt64
	)
	err := l.q.QueryRowContext(l.ctx, `SELECT baseprice_cents, averagecost, taxable, taxcode, incomeaccount,
		cogsaccount, assetaccount FROM items WHERE id = ?`, id).Scan(&it.priceCents, &it.averageCost,
		&it.taxable, &tax, &inc, &cogs, &asset)
	if err != nil {
		return nil, fmt.Errorf("netsuite books: item %d: %w", id, err)
	}
	it.taxCode, it.income, it.cogs, it.asset = tax.Int64, inc.Int64, cogs.Int64, asset.Int64
	l.items[id] = &it
	return &it, nil
}

func (l *lookups) taxRate(id int64) (float64, error) {
	if r, ok := l.taxes[id]; ok {
		return r, nil
	}
	var r float64
	if err := l.q.QueryRowContext(l.ctx, "SELECT rate FROM tax_codes WHERE id = ?", id).Scan(&r); err != nil {
		return 0, fmt.Errorf("netsuite books: tax code %d: %w", id, err)
	}
	l.taxes[id] = r
	return r, nil
}

func (l *lookups) location(id int64) (*locInfo, error) {
	if li, ok := l.locs[id]; ok {
		return li, nil
	}
	var sub, tax sql.NullInt64
	if err := l.q.QueryRowContext(l.ctx, "SELECT subsidiary, taxcode FROM locations WHERE id = ?", id).Scan(&sub, &tax); err != nil {
		return nil, fmt.Errorf("netsuite books: location %d: %w", id, err)
	}
	li := &locInfo{subsidiary: sub.Int64, taxCode: tax.Int64}
	l.locs[id] = li
	return li, nil
}

func (l *lookups) paymentMethod(id int64) (*pmInfo, error) {
	if pm, ok := l.pms[id]; ok {
		return pm, nil
	}
	var (
		acct sql.NullInt64
		kind sql.NullString
	)
	if err := l.q.QueryRowContext(l.ctx, "SELECT account, kind FROM payment_methods WHERE id = ?", id).Scan(&acct, &kind); err != nil {
		return nil, fmt.Errorf("netsuite books: payment method %d: %w", id, err)
	}
	pm := &pmInfo{account: acct.Int64, kind: kind.String}
	l.pms[id] = pm
	return pm, nil
}

// Accessors of decoded bodies.

func getString(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func getNumber(m map[string]any, k string) (float64, bool) { x, ok := m[k].(float64); return x, ok }

func getBool(m map[string]any, k string, def bool) bool {
	if b, ok := m[k].(bool); ok {
		return b
	}
	return def
}

// getRef returns the internal id of a resolved reference, 0 when absent.
func getRef(m map[string]any, k string) int64 {
	r, ok := m[k].(ref)
	if !ok {
		return 0
	}
	id, _ := parseID(r.ID)
	return id
}

func getLines(m map[string]any, k string) lines { l, _ := m[k].(lines); return l }

func cents(x float64) int64 { return int64(math.Round(x * 100)) }

func centsToFloat(c int64) float64 { return float64(c) / 100 }

func lineNo(l map[string]any) int { n, _ := getNumber(l, "line"); return int(n) }

func linePath(sublist string, i int, field string) string {
	return fmt.Sprintf("%s.items[%d].%s", sublist, i, field)
}

// numberLines gives every line of every sublist a line number: lines without one
// get the next free number. Two lines with the same number are refused.
func numberLines(s *recordSchema, b body) error {
	for _, name := range s.sublistNames() {
		ls := getLines(b, name)
		seen := map[int]bool{}
		next := 1
		for _, l := range ls {
			if n := lineNo(l); n > 0 {
				next = max(next, n+1)
			}
		}
		for i, l := range ls {
			n := lineNo(l)
			if n == 0 {
				n = next
				next++
				l["line"] = float64(n)
			}
			if seen[n] {
				return invalidContent(linePath(name, i, "line"), "Line number %d appears twice in sublist %s.", n, name)
			}
			seen[n] = true
		}
	}
	return nil
}

// defaults fills in what NetSuite fills in when a body leaves it out.
func (st *store) defaults(ctx context.Context, q queryer, s *recordSchema, id int64, b body) error {
	if err := numberLines(s, b); err != nil {
		return err
	}
	lk := newLookups(ctx, q)
	switch s.name {
	case typeCustomer:
		if getString(b, "entityId") == "" {
			b["entityId"] = fmt.Sprintf("CUS%d", id)
		}
		if getRef(b, "subsidiary") == 0 && st.accounts.defaultSubsidiary != 0 {
			b["subsidiary"] = ref{ID: idString(st.accounts.defaultSubsidiary)}
		}
	case typeInventoryItem:
		for field, acct := range map[string]int64{"incomeAccount": st.accounts.income, "cogsAccount": st.accounts.cogs, "assetAccount": st.accounts.asset} {
			if getRef(b, field) == 0 && acct != 0 {
				b[field] = ref{ID: idString(acct)}
			}
		}
	}
	if !s.isTransaction() {
		return nil
	}
	if getString(b, "tranDate") == "" {
		b["tranDate"] = st.clock().UTC().Format("2006-01-02")
	}
	if getString(b, "tranId") == "" {
		b["tranId"] = fmt.Sprintf("%s%d", s.prefix, id)
	}
	bodyLoc := getRef(b, "location")
	if getRef(b, "subsidiary") == 0 {
		sub := st.accounts.defaultSubsidiary
		if bodyLoc != 0 {
			li, err := lk.location(bodyLoc)
			if err != nil {
				return err
			}
			if li.subsidiary != 0 {
				sub = li.subsidiary
			}
		}
		if sub != 0 {
			b["subsidiary"] = ref{ID: idString(sub)}
		}
	}
	switch s.name {
	case typeCashSale, typeCashRefund, typeSalesOrder:
		for _, l := range getLines(b, "item") {
			if err := st.saleLineDefaults(lk, s, l, bodyLoc); err != nil {
				return err
			}
		}
	}
	return nil
}

func (st *store) saleLineDefaults(lk *lookups, s *recordSchema, l map[string]any, bodyLoc int64) error {
	itemID := getRef(l, "item")
	if itemID == 0 {
		return nil // checkRequired reports it
	}
	it, err := lk.item(itemID)
	if err != nil {
		return err
	}
	if _, ok := getNumber(l, "quantity"); !ok {
		l["quantity"] = 1.0
	}
	qty, _ := getNumber(l, "quantity")
	if _, ok := getNumber(l, "rate"); !ok {
		if _, hasAmount := getNumber(l, "amount"); hasAmount && qty != 0 {
			a, _ := getNumber(l, "amount")
			l["rate"] = a / qty
		} else {
			l["rate"] = centsToFloat(it.priceCents)
		}
	}
	rate, _ := getNumber(l, "rate")
	if _, ok := getNumber(l, "amount"); !ok {
		l["amount"] = centsToFloat(cents(qty * rate))
	}
	if getRef(l, "taxCode") == 0 {
		code := it.taxCode
		loc := getRef(l, "location")
		if loc == 0 {
			loc = bodyLoc
		}
		if it.taxable && loc != 0 {
			li, err := lk.location(loc)
			if err != nil {
				return err
			}
			if li.taxCode != 0 {
				code = li.taxCode
			}
		}
		if code != 0 {
			l["taxCode"] = ref{ID: idString(code)}
		}
	}
	if _, ok := getNumber(l, "tax1Amt"); !ok {
		var tax int64
		if code := getRef(l, "taxCode"); code != 0 {
			r, err := lk.taxRate(code)
			if err != nil {
				return err
			}
			a, _ := getNumber(l, "amount")
			tax = int64(math.Round(float64(cents(a)) * r / 100))
		}
		l["tax1Amt"] = centsToFloat(tax)
	}
	if s.name == typeCashRefund {
		if _, ok := l[fieldRestock]; !ok {
			l[fieldRestock] = true
		}
	}
	return nil
}

// validate applies the per-type rules that decoding and required fields cannot.
func (st *store) validate(ctx context.Context, q queryer, s *recordSchema, b body) error {
	switch s.name {
	case typeCustomer:
		if getString(b, "companyName") == "" && getString(b, "firstName") == "" && getString(b, "lastName") == "" {
			return userError("companyName", "Please enter value(s) for: Company Name (or First Name / Last Name).")
		}
	case typeCashSale, typeCashRefund, typeSalesOrder, typeItemFulfillment:
		if len(getLines(b, "item")) == 0 {
			return userError("item", "You must enter at least one line item for this transaction.")
		}
	case typeInventoryTransfer:
		if len(getLines(b, "inventory")) == 0 {
			return userError("inventory", "You must enter at least one line item for this transaction.")
		}
		if getRef(b, "location") == 0 {
			return userError("location", "Please enter value(s) for: From Location.")
		}
		if getRef(b, "location") == getRef(b, "transferLocation") {
			return userError("transferLocation", "The From and To locations of a transfer must differ.")
		}
		for i, l := range getLines(b, "inventory") {
			if q, _ := getNumber(l, "adjustQtyBy"); q <= 0 {
				return userError(linePath("inventory", i, "adjustQtyBy"), "The quantity to transfer must be greater than zero.")
			}
		}
	case typeInventoryAdjustment:
		if len(getLines(b, "inventory")) == 0 {
			return userError("inventory", "You must enter at least one line item for this transaction.")
		}
		for i, l := range getLines(b, "inventory") {
			if q, _ := getNumber(l, "adjustQtyBy"); q == 0 {
				return userError(linePath("inventory", i, "adjustQtyBy"), "The adjustment quantity must not be zero.")
			}
			if c, ok := getNumber(l, "unitCost"); ok && c < 0 {
				return userError(linePath("inventory", i, "unitCost"), "The unit cost must not be negative.")
			}
		}
	case typeJournalEntry:
		ls := getLines(b, "line")
		if len(ls) < 2 {
			return userError("line", "A journal entry needs at least two lines.")
		}
		var dr, cr int64
		for i, l := range ls {
			d, hasD := getNumber(l, "debit")
			c, hasC := getNumber(l, "credit")
			if hasD == hasC || d < 0 || c < 0 {
				return userError(linePath("line", i, "debit"), "Each journal line needs exactly one of debit or credit, not negative.")
			}
			dr += cents(d)
			cr += cents(c)
		}
		if dr != cr {
			return userError("line", "The transaction is not in balance: debits %s, credits %s.", fmtCents(dr), fmtCents(cr))
		}
	}
	return nil
}

func fmtCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// poster books one transaction: its lines, GL lines, tenders and inventory moves.
type poster struct {
	ctx   context.Context
	tx    *wtx
	lk    *lookups
	txn   int64
	glSeq int
	mvSeq int
	tdSeq int
	dr    int64
	cr    int64
}

// gl books signed cents on account: positive is a debit, negative a credit.
func (p *poster) gl(account int64, line int, signed int64, role string) error {
	if signed == 0 {
		return nil
	}
	if account == 0 {
		return fmt.Errorf("netsuite books: transaction %d: no account for the %s line", p.txn, role)
	}
	var d, c int64
	if signed > 0 {
		d = signed
	} else {
		c = -signed
	}
	p.dr += d
	p.cr += c
	p.glSeq++
	var lineArg any
	if line > 0 {
		lineArg = line
	}
	_, err := p.tx.ExecContext(p.ctx, `INSERT INTO gl_lines (transaction_id, seq, line, account, debit_cents, credit_cents, role)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.txn, p.glSeq, lineArg, account, d, c, role)
	if err != nil {
		return fmt.Errorf("netsuite books: gl line: %w", err)
	}
	return nil
}

// move changes on hand of item at loc by delta and books the move. unitCost < 0
// means "at the current average cost". A receipt (reweigh) re-weights the average
// cost. It returns the move's value in cents, signed like delta, and the unit cost.
func (p *poster) move(line int, item, loc int64, delta, unitCost float64, reweigh bool) (int64, float64, error) {
	var onhand, avg float64
	err := p.tx.QueryRowContext(p.ctx, "SELECT onhand, averagecost FROM inventory WHERE item = ? AND location = ?", item, loc).Scan(&onhand, &avg)
	if errors.Is(err, sql.ErrNoRows) {
		it, ierr := p.lk.item(item)
		if ierr != nil {
			return 0, 0, ierr
		}
		onhand, avg, err = 0, it.averageCost, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("netsuite books: inventory of item %d at %d: %w", item, loc, err)
	}
	if unitCost < 0 {
		unitCost = avg
	}
	prev := avg
	if reweigh && delta > 0 {
		if onhand <= 0 {
			avg = unitCost
		} else {
			avg = (onhand*avg + delta*unitCost) / (onhand + delta)
		}
	}
	onhand += delta
	value := cents(delta * unitCost)
	if _, err := p.tx.ExecContext(p.ctx, `INSERT INTO inventory (item, location, onhand, averagecost) VALUES (?, ?, ?, ?)
		ON CONFLICT (item, location) DO UPDATE SET onhand = excluded.onhand, averagecost = excluded.averagecost`,
		item, loc, onhand, avg); err != nil {
		return 0, 0, fmt.Errorf("netsuite books: inventory: %w", err)
	}
	p.mvSeq++
	if _, err := p.tx.ExecContext(p.ctx, `INSERT INTO inventory_moves (transaction_id, seq, line, item, location, quantity,
		unitcost, value_cents, reweighs, prevcost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.txn, p.mvSeq, line, item, loc, delta, unitCost, abs64(value), reweigh && delta > 0, prev); err != nil {
		return 0, 0, fmt.Errorf("netsuite books: inventory move: %w", err)
	}
	return value, unitCost, nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func (p *poster) tender(source string, pm int64, kind string, account, amount int64, pnRef, authCode string) error {
	p.tdSeq++
	_, err := p.tx.ExecContext(p.ctx, `INSERT INTO tenders (transaction_id, seq, source, paymentmethod, kind, account,
		amount_cents, pnrefnum, authcode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.txn, p.tdSeq, source,
		nullInt(pm), nullString(kind), account, amount, nullString(pnRef), nullString(authCode))
	if err != nil {
		return fmt.Errorf("netsuite books: tender: %w", err)
	}
	return nil
}

func nullInt(x int64) any {
	if x == 0 {
		return nil
	}
	return x
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// txLine is a transaction_lines row.
type txLine struct {
	sublist          string
	line             int
	item, loc, toLoc int64
	qty, rate        float64
	amount, tax      int64
	taxCode          int64
	restock          *bool
	unitCost         float64
	cost             int64
	account          int64
	debit, credit    int64
}

func (p *poster) insertLine(l txLine) error {
	var restock any
	if l.restock != nil {
		restock = *l.restock
	}
	var unitCost any
	if l.item != 0 {
		unitCost = l.unitCost
	}
	_, err := p.tx.ExecContext(p.ctx, `INSERT INTO transaction_lines (transaction_id, sublist, line, item, location,
		tolocation, quantity, rate, amount_cents, taxcode, tax_cents, restock, unitcost, cost_cents, account,
		debit_cents, credit_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.txn, l.sublist, l.line, nullInt(l.item), nullInt(l.loc), nullInt(l.toLoc), l.qty, l.rate, l.amount,
		nullInt(l.taxCode), l.tax, restock, unitCost, l.cost, nullInt(l.account), l.debit, l.credit)
	if err != nil {
		return fmt.Errorf("netsuite books: transaction line: %w", err)
	}
	return nil
}

// post books transaction id of schema s with body b.
func (st *store) post(ctx context.Context, tx *wtx, s *recordSchema, id int64, b body, created, modified string) error {
	p := &poster{ctx: ctx, tx: tx, lk: newLookups(ctx, tx), txn: id}
	h := header{location: getRef(b, "location"), entity: getRef(b, "entity"), pm: getRef(b, "paymentMethod"),
		createdFrom: getRef(b, "createdFrom")}
	var err error
	switch s.name {
	case typeCashSale:
		err = st.postSale(p, b, &h, 1)
	case typeCashRefund:
		err = st.postSale(p, b, &h, -1)
	case typeSalesOrder:
		err = st.postOrder(p, b, &h)
	case typeItemFulfillment:
		err = st.postFulfillment(p, b, &h)
	case typeInventoryTransfer:
		err = st.postTransfer(p, b, &h)
	case typeInventoryAdjustment:
		err = st.postAdjustment(p, b, &h)
	case typeJournalEntry:
		err = st.postJournal(p, b, &h)
	default:
		err = fmt.Errorf("netsuite books: no posting rule for %s", s.name)
	}
	if err != nil {
		return err
	}
	if p.dr != p.cr {
		return fmt.Errorf("netsuite books: %s %d does not balance: debits %s, credits %s", s.name, id, fmtCents(p.dr), fmtCents(p.cr))
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO transactions (id, recordtype, type, tranid, externalid, trandate,
		subsidiary, location, entity, paymentmethod, createdfrom, total_cents, subtotal_cents, tax_cents, memo,
		register, cashier, createddate, lastmodifieddate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, s.name, s.tranType, getString(b, "tranId"), nullString(getString(b, "externalId")), getString(b, "tranDate"),
		nullInt(getRef(b, "subsidiary")), nullInt(h.location), nullInt(h.entity), nullInt(h.pm), nullInt(h.createdFrom),
		h.total, h.subtotal, h.tax, nullString(getString(b, "memo")), nullString(getString(b, "custbody_pos_register")),
		nullString(getString(b, "custbody_pos_cashier")), created, modified)
	if err != nil {
		return fmt.Errorf("netsuite books: transaction %d: %w", id, err)
	}
	return nil
}

type header struct {
	location, entity, pm, createdFrom int64
	total, subtotal, tax              int64
}

// lineLocation is the line's location, else the body's; 0 is refused.
func lineLocation(l map[string]any, field string, bodyLoc int64, path string) (int64, error) {
	if loc := getRef(l, field); loc != 0 {
		return loc, nil
	}
	if bodyLoc != 0 {
		return bodyLoc, nil
	}
	return 0, userError(path, "Please enter value(s) for: Location.")
}

// postSale books a cash sale (sign 1) or a cash refund (sign −1).
func (st *store) postSale(p *poster, b body, h *header, sign int64) error {
	origCost := map[int64]float64{}
	if sign < 0 && h.createdFrom != 0 {
		rows, err := p.tx.QueryContext(p.ctx, `SELECT item, unitcost FROM transaction_lines
			WHERE transaction_id = ? AND item IS NOT NULL AND unitcost IS NOT NULL ORDER BY line DESC`, h.createdFrom)
		if err != nil {
			return fmt.Errorf("netsuite books: original sale %d: %w", h.createdFrom, err)
		}
		for rows.Next() {
			var item int64
			var c float64
			if err := rows.Scan(&item, &c); err != nil {
				rows.Close()
				return err
			}
			origCost[item] = c // the lowest line number wins
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i, l := range getLines(b, "item") {
		itemID := getRef(l, "item")
		it, err := p.lk.item(itemID)
		if err != nil {
			return err
		}
		loc, err := lineLocation(l, "location", h.location, linePath("item", i, "location"))
		if err != nil {
			return err
		}
		qty, _ := getNumber(l, "quantity")
		rate, _ := getNumber(l, "rate")
		amt, _ := getNumber(l, "amount")
		taxAmt, _ := getNumber(l, "tax1Amt")
		row := txLine{sublist: "item", line: lineNo(l), item: itemID, loc: loc, qty: qty, rate: rate,
			amount: cents(amt), tax: cents(taxAmt), taxCode: getRef(l, "taxCode")}
		h.subtotal += row.amount
		h.tax += row.tax
		income := it.income
		if income == 0 {
			income = st.accounts.income
		}
		if err := p.gl(income, row.line, -sign*row.amount, "income"); err != nil {
			return err
		}
		if err := p.gl(st.accounts.salesTax, row.line, -sign*row.tax, "tax"); err != nil {
			return err
		}
		cogs, asset := orDefault(it.cogs, st.accounts.cogs), orDefault(it.asset, st.accounts.asset)
		if sign > 0 {
			v, unit, err := p.move(row.line, itemID, loc, -qty, -1, false)
			if err != nil {
				return err
			}
			row.unitCost, row.cost = unit, -v
			if err := p.gl(cogs, row.line, -v, "cogs"); err != nil {
				return err
			}
			if err := p.gl(asset, row.line, v, "asset"); err != nil {
				return err
			}
		} else {
			restock := getBool(l, fieldRestock, true)
			row.restock = &restock
			if restock {
				unit := -1.0
				if c, ok := origCost[itemID]; ok {
					unit = c
				}
				v, u, err := p.move(row.line, itemID, loc, qty, unit, true)
				if err != nil {
					return err
				}
				row.unitCost, row.cost = u, v
				if err := p.gl(asset, row.line, v, "asset"); err != nil {
					return err
				}
				if err := p.gl(cogs, row.line, -v, "cogs"); err != nil {
					return err
				}
			}
		}
		if err := p.insertLine(row); err != nil {
			return err
		}
	}
	h.total = h.subtotal + h.tax

	var gift int64
	for i, g := range getLines(b, "giftCertRedemption") {
		a, _ := getNumber(g, "authCodeApplied")
		if a < 0 {
			return userError(linePath("giftCertRedemption", i, "authCodeApplied"), "The amount applied must not be negative.")
		}
		gift += cents(a)
		if err := p.gl(st.accounts.giftCert, 0, sign*cents(a), "giftcert"); err != nil {
			return err
		}
		if err := p.tender("giftCertRedemption", 0, "gift_card", st.accounts.giftCert, cents(a), "", getString(g, "authCode")); err != nil {
			return err
		}
	}
	if gift > abs64(h.total) && h.total >= 0 {
		return userError("giftCertRedemption", "The gift certificates applied (%s) exceed the total (%s).", fmtCents(gift), fmtCents(h.total))
	}
	rest := h.total - gift
	if ts, ok := b[fieldTenders].(tenders); ok && len(ts) > 0 {
		var sum int64
		for _, t := range ts {
			a, _ := getNumber(t, "amount")
			sum += cents(a)
		}
		if sum != rest {
			return userError(fieldTenders, "The tenders add up to %s but the total less gift certificates is %s.", fmtCents(sum), fmtCents(rest))
		}
		for _, t := range ts {
			pmID := getRef(t, "paymentMethod")
			pm, err := p.lk.paymentMethod(pmID)
			if err != nil {
				return err
			}
			acct := orDefault(pm.account, st.accounts.undeposited)
			a, _ := getNumber(t, "amount")
			if err := p.gl(acct, 0, sign*cents(a), "payment"); err != nil {
				return err
			}
			if err := p.tender(fieldTenders, pmID, pm.kind, acct, cents(a), getString(t, "pnRefNum"), ""); err != nil {
				return err
			}
		}
		return nil
	}
	acct, kind := st.accounts.undeposited, ""
	if h.pm != 0 {
		pm, err := p.lk.paymentMethod(h.pm)
		if err != nil {
			return err
		}
		acct, kind = orDefault(pm.account, st.accounts.undeposited), pm.kind
	}
	if err := p.gl(acct, 0, sign*rest, "payment"); err != nil {
		return err
	}
	if rest != 0 || gift == 0 {
		return p.tender("paymentMethod", h.pm, kind, acct, rest, getString(b, "pnRefNum"), "")
	}
	return nil
}

func orDefault(x, def int64) int64 {
	if x != 0 {
		return x
	}
	return def
}

func (st *store) postOrder(p *poster, b body, h *header) error {
	for _, l := range getLines(b, "item") {
		loc := getRef(l, "location")
		if loc == 0 {
			loc = h.location
		}
		qty, _ := getNumber(l, "quantity")
		rate, _ := getNumber(l, "rate")
		amt, _ := getNumber(l, "amount")
		tax, _ := getNumber(l, "tax1Amt")
		row := txLine{sublist: "item", line: lineNo(l), item: getRef(l, "item"), loc: loc, qty: qty, rate: rate,
			amount: cents(amt), tax: cents(tax), taxCode: getRef(l, "taxCode")}
		h.subtotal += row.amount
		h.tax += row.tax
		if err := p.insertLine(row); err != nil {
			return err
		}
	}
	h.total = h.subtotal + h.tax
	return nil
}

func (st *store) postFulfillment(p *poster, b body, h *header) error {
	for i, l := range getLines(b, "item") {
		if !getBool(l, "itemReceive", true) {
			continue // a line not shipped
		}
		itemID := getRef(l, "item")
		it, err := p.lk.item(itemID)
		if err != nil {
			return err
		}
		loc, err := lineLocation(l, "location", h.location, linePath("item", i, "location"))
		if err != nil {
			return err
		}
		qty, _ := getNumber(l, "quantity")
		v, unit, err := p.move(lineNo(l), itemID, loc, -qty, -1, false)
		if err != nil {
			return err
		}
		if err := p.gl(orDefault(it.cogs, st.accounts.cogs), lineNo(l), -v, "cogs"); err != nil {
			return err
		}
		if err := p.gl(orDefault(it.asset, st.accounts.asset), lineNo(l), v, "asset"); err != nil {
			return err
		}
		if err := p.insertLine(txLine{sublist: "item", line: lineNo(l), item: itemID, loc: loc, qty: qty,
			unitCost: unit, cost: -v}); err != nil {
			return err
		}
	}
	return nil
}

func (st *store) postTransfer(p *poster, b body, h *header) error {
	to := getRef(b, "transferLocation")
	for _, l := range getLines(b, "inventory") {
		itemID := getRef(l, "item")
		it, err := p.lk.item(itemID)
		if err != nil {
			return err
		}
		qty, _ := getNumber(l, "adjustQtyBy")
		out, unit, err := p.move(lineNo(l), itemID, h.location, -qty, -1, false)
		if err != nil {
			return err
		}
		in, _, err := p.move(lineNo(l), itemID, to, qty, unit, true)
		if err != nil {
			return err
		}
		asset := orDefault(it.asset, st.accounts.asset)
		if err := p.gl(asset, lineNo(l), out, "asset"); err != nil {
			return err
		}
		if err := p.gl(asset, lineNo(l), in, "asset"); err != nil {
			return err
		}
		if err := p.insertLine(txLine{sublist: "inventory", line: lineNo(l), item: itemID, loc: h.location, toLoc: to,
			qty: qty, unitCost: unit, cost: in}); err != nil {
			return err
		}
	}
	return nil
}

func (st *store) postAdjustment(p *poster, b body, h *header) error {
	adjAcct := getRef(b, "account")
	bodyLoc := getRef(b, "adjLocation")
	if bodyLoc == 0 {
		bodyLoc = h.location
	}
	for i, l := range getLines(b, "inventory") {
		itemID := getRef(l, "item")
		it, err := p.lk.item(itemID)
		if err != nil {
			return err
		}
		loc, err := lineLocation(l, "location", bodyLoc, linePath("inventory", i, "location"))
		if err != nil {
			return err
		}
		qty, _ := getNumber(l, "adjustQtyBy")
		unit := -1.0
		if c, ok := getNumber(l, "unitCost"); ok && qty > 0 {
			unit = c
		}
		v, u, err := p.move(lineNo(l), itemID, loc, qty, unit, qty > 0)
		if err != nil {
			return err
		}
		if err := p.gl(orDefault(it.asset, st.accounts.asset), lineNo(l), v, "asset"); err != nil {
			return err
		}
		if err := p.gl(adjAcct, lineNo(l), -v, "adjustment"); err != nil {
			return err
		}
		if err := p.insertLine(txLine{sublist: "inventory", line: lineNo(l), item: itemID, loc: loc, qty: qty,
			unitCost: u, cost: v}); err != nil {
			return err
		}
	}
	return nil
}

func (st *store) postJournal(p *poster, b body, h *header) error {
	for _, l := range getLines(b, "line") {
		d, _ := getNumber(l, "debit")
		c, _ := getNumber(l, "credit")
		acct := getRef(l, "account")
		if err := p.gl(acct, lineNo(l), cents(d)-cents(c), "journal"); err != nil {
			return err
		}
		h.total += cents(d)
		if err := p.insertLine(txLine{sublist: "line", line: lineNo(l), loc: getRef(l, "location"), account: acct,
			debit: cents(d), credit: cents(c)}); err != nil {
			return err
		}
	}
	return nil
}

// reverseTransaction undoes a transaction's impact: stock moves are undone newest
// first (a receipt's re-weighting of the average cost is backed out by value, or
// restored to the cost before the move when nothing else is on hand), and its
// lines, GL lines, tenders and header are deleted.
func reverseTransaction(ctx context.Context, tx *wtx, id int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT item, location, quantity, unitcost, reweighs, prevcost
		FROM inventory_moves WHERE transaction_id = ? ORDER BY seq DESC`, id)
	if err != nil {
		return fmt.Errorf("netsuite books: reversing %d: %w", id, err)
	}
	type mv struct {
		item, loc       int64
		qty, unit, prev float64
		reweighs        bool
	}
	var moves []mv
	for rows.Next() {
		var m mv
		if err := rows.Scan(&m.item, &m.loc, &m.qty, &m.unit, &m.reweighs, &m.prev); err != nil {
			rows.Close()
			return err
		}
		moves = append(moves, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range moves {
		var onhand, avg float64
		if err := tx.QueryRowContext(ctx, "SELECT onhand, averagecost FROM inventory WHERE item = ? AND location = ?",
			m.item, m.loc).Scan(&onhand, &avg); err != nil {
			return fmt.Errorf("netsuite books: reversing %d: inventory of %d at %d: %w", id, m.item, m.loc, err)
		}
		before := onhand - m.qty
		if m.reweighs {
			restored := m.prev
			if before > 1e-9 {
				if a := (avg*onhand - m.qty*m.unit) / before; a >= 0 && !math.IsNaN(a) && !math.IsInf(a, 0) {
					restored = a
				}
			}
			avg = restored
		}
		if _, err := tx.ExecContext(ctx, "UPDATE inventory SET onhand = ?, averagecost = ? WHERE item = ? AND location = ?",
			before, avg, m.item, m.loc); err != nil {
			return fmt.Errorf("netsuite books: reversing %d: %w", id, err)
		}
	}
	for _, t := range []string{"inventory_moves", "gl_lines", "tenders", "transaction_lines"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE transaction_id = ?", id); err != nil {
			return fmt.Errorf("netsuite books: reversing %d: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM transactions WHERE id = ?", id); err != nil {
		return fmt.Errorf("netsuite books: reversing %d: %w", id, err)
	}
	return nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
