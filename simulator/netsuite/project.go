package netsuite

import (
	"context"
	"fmt"
	"strings"

	"github.com/doorbuster/doorbuster/fixtures"
)

// project writes an entity record's typed row (the table SuiteQL and the checker read).
func (st *store) project(ctx context.Context, q queryer, s *recordSchema, id int64, b body) error {
	eid := nullString(getString(b, "externalId"))
	var (
		query string
		args  []any
	)
	switch s.name {
	case typeSubsidiary:
		query = `INSERT INTO subsidiaries (id, name, country, currency, externalid) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, country = excluded.country,
			currency = excluded.currency, externalid = excluded.externalid`
		args = []any{id, getString(b, "name"), nullString(getString(b, "country")), nullString(getString(b, "currency")), eid}
	case typeLocation:
		query = `INSERT INTO locations (id, name, subsidiary, kind, taxcode, city, state, timezone, externalid)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, subsidiary = excluded.subsidiary, kind = excluded.kind,
			taxcode = excluded.taxcode, city = excluded.city, state = excluded.state, timezone = excluded.timezone,
			externalid = excluded.externalid`
		args = []any{id, getString(b, "name"), nullInt(getRef(b, "subsidiary")), nullString(getString(b, "locationType")),
			nullInt(getRef(b, "taxCode")), nullString(getString(b, "city")), nullString(getString(b, "state")),
			nullString(getString(b, "timeZone")), eid}
	case typeAccount:
		query = `INSERT INTO accounts (id, number, name, type, externalid) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET number = excluded.number, name = excluded.name, type = excluded.type,
			externalid = excluded.externalid`
		args = []any{id, nullString(getString(b, "acctNumber")), getString(b, "acctName"), getString(b, "acctType"), eid}
	case typeCustomer:
		query = `INSERT INTO customers (id, entityid, externalid, firstname, lastname, companyname, email, phone,
			loyaltyid, subsidiary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET entityid = excluded.entityid, externalid = excluded.externalid,
			firstname = excluded.firstname, lastname = excluded.lastname, companyname = excluded.companyname,
			email = excluded.email, phone = excluded.phone, loyaltyid = excluded.loyaltyid,
			subsidiary = excluded.subsidiary`
		args = []any{id, getString(b, "entityId"), eid, nullString(getString(b, "firstName")),
			nullString(getString(b, "lastName")), nullString(getString(b, "companyName")),
			nullString(getString(b, "email")), nullString(getString(b, "phone")),
			nullString(getString(b, "custentity_loyalty_id")), nullInt(getRef(b, "subsidiary"))}
	case typeInventoryItem:
		price, _ := getNumber(b, "basePrice")
		cost, _ := getNumber(b, "cost")
		query = `INSERT INTO items (id, itemid, upccode, displayname, baseprice_cents, averagecost, taxable, taxcode,
			weighed, incomeaccount, cogsaccount, assetaccount, externalid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET itemid = excluded.itemid, upccode = excluded.upccode,
			displayname = excluded.displayname, baseprice_cents = excluded.baseprice_cents,
			averagecost = excluded.averagecost, taxable = excluded.taxable, taxcode = excluded.taxcode,
			weighed = excluded.weighed, incomeaccount = excluded.incomeaccount, cogsaccount = excluded.cogsaccount,
			assetaccount = excluded.assetaccount, externalid = excluded.externalid`
		args = []any{id, getString(b, "itemId"), nullString(getString(b, "upcCode")), nullString(getString(b, "displayName")),
			cents(price), cost, getBool(b, "isTaxable", true), nullInt(getRef(b, "salesTaxCode")),
			getBool(b, "custitem_weighed", false), nullInt(getRef(b, "incomeAccount")), nullInt(getRef(b, "cogsAccount")),
			nullInt(getRef(b, "assetAccount")), eid}
	default:
		return fmt.Errorf("netsuite books: no projection for %s", s.name)
	}
	if _, err := q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("netsuite books: %s %d: %w", s.name, id, err)
	}
	return nil
}

var projectionTables = map[string]string{
	typeSubsidiary: "subsidiaries", typeLocation: "locations", typeAccount: "accounts",
	typeCustomer: "customers", typeInventoryItem: "items",
}

func deleteProjection(ctx context.Context, q queryer, s *recordSchema, id int64) error {
	table, ok := projectionTables[s.name]
	if !ok {
		return nil // transactions: reverseTransaction deleted the header
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = ?", id); err != nil {
		return fmt.Errorf("netsuite books: deleting %s %d: %w", s.name, id, err)
	}
	if s.name == typeInventoryItem {
		if _, err := q.ExecContext(ctx, "DELETE FROM inventory WHERE item = ?", id); err != nil {
			return fmt.Errorf("netsuite books: deleting %s %d: %w", s.name, id, err)
		}
	}
	return nil
}

func refOrNil(id string) any {
	if id == "" {
		return nil
	}
	return ref{ID: id}
}

func putOpt(b body, k string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x == "" {
			return
		}
	}
	b[k] = v
}

// loadWorld fills empty books with the world: records and projections for the
// entities, tax codes, payment methods, stock per location, and id sequences.
func (st *store) loadWorld(ctx context.Context, tx *wtx, w *fixtures.World, now string) error {
	ins := newInserter(ctx, tx)
	roles := worldRoles(w.Accounts)
	for _, t := range w.TaxCodes {
		if err := ins.exec("INSERT INTO tax_codes (id, name, rate, jurisdiction) VALUES (?, ?, ?, ?)",
			t.ID, t.Name, t.Rate, nullString(t.Jurisdiction)); err != nil {
			return fmt.Errorf("tax code %s: %w", t.ID, err)
		}
	}
	for _, p := range w.PaymentMethods {
		if err := ins.exec("INSERT INTO payment_methods (id, name, kind, account) VALUES (?, ?, ?, ?)",
			p.ID, p.Name, nullString(string(p.Kind)), nullString(p.AccountID)); err != nil {
			return fmt.Errorf("payment method %s: %w", p.ID, err)
		}
	}
	put := func(typ, id string, b body) error {
		n, ok := parseID(id)
		if !ok {
			return fmt.Errorf("%s id %q is not a positive integer", typ, id)
		}
		s := st.schemas[typ]
		if err := st.projectWith(ins, s, n, b); err != nil {
			return err
		}
		var eid any
		if e := getString(b, "externalId"); e != "" {
			eid = e
		}
		return ins.exec("INSERT INTO records (type, id, externalid, body, createddate, lastmodifieddate) VALUES (?, ?, ?, ?, ?, ?)",
			typ, n, eid, string(encodeBody(b)), now, now)
	}
	for _, s := range w.Subsidiaries {
		b := body{"name": s.Name}
		putOpt(b, "country", s.Country)
		putOpt(b, "currency", s.Currency)
		if err := put(typeSubsidiary, s.ID, b); err != nil {
			return err
		}
	}
	for _, a := range w.AccountList {
		b := body{"acctName": a.Name, "acctType": string(a.Type)}
		putOpt(b, "acctNumber", a.Number)
		if err := put(typeAccount, a.ID, b); err != nil {
			return err
		}
		if r, ok := roles[a.ID]; ok {
			if err := ins.exec("UPDATE accounts SET role = ? WHERE id = ?", r, a.ID); err != nil {
				return err
			}
		}
	}
	for _, l := range w.Locations {
		b := body{"name": l.Name, "subsidiary": ref{ID: l.SubsidiaryID}, "locationType": string(l.Kind)}
		putOpt(b, "taxCode", refOrNil(l.TaxCodeID))
		putOpt(b, "city", l.City)
		putOpt(b, "state", l.State)
		putOpt(b, "timeZone", l.Timezone)
		if err := put(typeLocation, l.ID, b); err != nil {
			return err
		}
	}
	stock := &batch{ins: ins, prefix: "INSERT INTO inventory (item, location, onhand, averagecost) VALUES ", cols: 4}
	defaultSub := ""
	if len(w.Subsidiaries) > 0 {
		defaultSub = w.Subsidiaries[0].ID
	}
	for _, it := range w.Items {
		b := body{"itemId": it.SKU, "basePrice": it.Price.Float(), "cost": it.AverageCost.Float(),
			"isTaxable": it.Taxable, "custitem_weighed": it.Weighed}
		putOpt(b, "displayName", it.Name)
		putOpt(b, "upcCode", it.UPC)
		putOpt(b, "salesTaxCode", refOrNil(it.TaxCodeID))
		putOpt(b, "incomeAccount", refOrNil(orString(it.IncomeAccountID, w.Accounts.Income)))
		putOpt(b, "cogsAccount", refOrNil(orString(it.COGSAccountID, w.Accounts.COGS)))
		putOpt(b, "assetAccount", refOrNil(orString(it.AssetAccountID, w.Accounts.InventoryAsset)))
		if err := put(typeInventoryItem, it.ID, b); err != nil {
			return err
		}
		for _, sk := range it.OnHand {
			if err := stock.add(it.ID, sk.LocationID, sk.Quantity, it.AverageCost.Float()); err != nil {
				return fmt.Errorf("stock of item %s at %s: %w", it.ID, sk.LocationID, err)
			}
		}
	}
	if err := stock.flush(); err != nil {
		return fmt.Errorf("stock: %w", err)
	}
	for _, c := range w.Customers {
		b := body{"isPerson": true}
		putOpt(b, "entityId", c.EntityID)
		putOpt(b, "externalId", c.ExternalID)
		putOpt(b, "firstName", c.FirstName)
		putOpt(b, "lastName", c.LastName)
		putOpt(b, "email", c.Email)
		putOpt(b, "phone", c.Phone)
		putOpt(b, "custentity_loyalty_id", c.LoyaltyID)
		putOpt(b, "subsidiary", refOrNil(defaultSub))
		if err := put(typeCustomer, c.ID, b); err != nil {
			return err
		}
	}
	// Id sequences continue after the world's largest ids.
	for family, table := range map[string]string{typeSubsidiary: "subsidiaries", typeLocation: "locations",
		typeAccount: "accounts", typeCustomer: "customers", typeInventoryItem: "items"} {
		if err := ins.exec("INSERT INTO id_sequences (family, next_id) SELECT ?, COALESCE(MAX(id), 0) + 1 FROM "+table, family); err != nil {
			return err
		}
	}
	return ins.exec("INSERT INTO id_sequences (family, next_id) VALUES (?, 1)", familyTransaction)
}

func orString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// batch collects rows for multi-row INSERTs (a bulk load's stock runs to millions
// of rows; one statement per 200 rows is several times faster than one per row).
type batch struct {
	ins    *inserter
	prefix string // "INSERT INTO t (a, b) VALUES "
	cols   int
	rows   int
	args   []any
}

const batchRows = 200

func (b *batch) add(args ...any) error {
	b.args = append(b.args, args...)
	b.rows++
	if b.rows == batchRows {
		return b.flush()
	}
	return nil
}

func (b *batch) flush() error {
	if b.rows == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	q := b.prefix + strings.TrimSuffix(strings.Repeat(row+", ", b.rows), ", ")
	err := b.ins.exec(q, b.args...)
	b.rows, b.args = 0, b.args[:0]
	return err
}

// projectWith is project within a bulk load.
func (st *store) projectWith(ins *inserter, s *recordSchema, id int64, b body) error {
	return st.project(ins.ctx, ins.tx, s, id, b)
}

// inserter runs a bulk load's statements (prepared once by the write transaction).
type inserter struct {
	ctx context.Context
	tx  *wtx
}

func newInserter(ctx context.Context, tx *wtx) *inserter { return &inserter{ctx: ctx, tx: tx} }

func (i *inserter) exec(query string, args ...any) error {
	_, err := i.tx.ExecContext(i.ctx, query, args...)
	return err
}
