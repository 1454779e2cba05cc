package connector

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/money"
)

// The catalog is the connector's view of NetSuite's reference data and stock, read
// through SuiteQL:
//
//	item                   id, itemid (SKU), upccode, displayname, baseprice, istaxable, salestaxcode
//	location               id, name, subsidiary, locationtype ('store' | 'warehouse'), taxcode
//	salestaxitem           id, itemid (the code's name), rate (percent)
//	paymentmethod          id, name, methodtype ('card' | 'cash' | 'gift_card')
//	inventoryitemlocations item, location, quantityonhand  (paged per location)
type catalog struct {
	mu       sync.RWMutex
	snap     *snapshot
	local    map[stockKey]float64 // local stock deltas of accepted, not yet refreshed transactions
	loadedAt time.Time
}

type snapshot struct {
	itemsByUPC map[string]*catItem
	itemsBySKU map[string]*catItem
	itemsByID  map[string]*catItem
	locations  map[string]*catLocation
	warehouse  string // the location posted at by the default-location bug
	taxByName  map[string]*catTax
	taxByID    map[string]*catTax
	payByKind  map[contract.TenderType]string // payment method id per tender type
	stock      map[stockKey]float64
}

type catItem struct {
	ID, SKU, UPC, Name string
	Price              money.Amount
	Taxable            bool
	TaxCodeID          string
}

type catLocation struct {
	ID, Name, Subsidiary, Kind, TaxCodeID string
}

type catTax struct {
	ID, Name string
	Rate     float64
}

type stockKey struct{ item, location string }

// stockDelta is a change of the local stock view made by accepting a transaction.
type stockDelta struct {
	key stockKey
	qty float64
}

// queryFunc fetches one SuiteQL page (with the caller's retry policy).
type queryFunc func(ctx context.Context, q string, limit, offset int) (*netsuite.Page, error)

// load reads everything through SuiteQL into a new snapshot.
func loadSnapshot(ctx context.Context, ns *netsuite.Client, page queryFunc) (*snapshot, error) {
	s := &snapshot{
		itemsByUPC: map[string]*catItem{}, itemsBySKU: map[string]*catItem{}, itemsByID: map[string]*catItem{},
		locations: map[string]*catLocation{}, taxByName: map[string]*catTax{}, taxByID: map[string]*catTax{},
		payByKind: map[contract.TenderType]string{}, stock: map[stockKey]float64{},
	}
	q := func(query string, fn func(netsuite.Row) error) error {
		if err := ns.QueryAll(ctx, query, page, fn); err != nil {
			return fmt.Errorf("catalog: %s: %w", query, err)
		}
		return nil
	}
	if err := q(`SELECT id, itemid, rate FROM salestaxitem ORDER BY id`, func(r netsuite.Row) error {
		t := &catTax{ID: r.String("id"), Name: r.String("itemid"), Rate: r.Float("rate")}
		s.taxByID[t.ID] = t
		s.taxByName[strings.ToUpper(t.Name)] = t
		return nil
	}); err != nil {
		return nil, err
	}
	if err := q(`SELECT id, name, methodtype FROM paymentmethod ORDER BY id`, func(r netsuite.Row) error {
		kind := contract.TenderType(strings.ToLower(r.String("methodtype")))
		if _, ok := s.payByKind[kind]; !ok && kind != "" {
			s.payByKind[kind] = r.String("id")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := q(`SELECT id, name, subsidiary, locationtype, taxcode FROM location ORDER BY id`, func(r netsuite.Row) error {
		l := &catLocation{ID: r.String("id"), Name: r.String("name"), Subsidiary: r.String("subsidiary"),
			Kind: strings.ToLower(r.String("locationtype")), TaxCodeID: r.String("taxcode")}
		s.locations[l.ID] = l
		return nil
	}); err != nil {
		return nil, err
	}
	// The warehouse: the first location of kind warehouse, else the first that is not a store.
	for _, pass := range []func(*catLocation) bool{
		func(l *catLocation) bool { return l.Kind == "warehouse" },
		func(l *catLocation) bool { return l.Kind != "store" },
	} {
		for _, l := range s.locations {
			if pass(l) && (s.warehouse == "" || idLess(l.ID, s.warehouse)) {
				s.warehouse = l.ID
			}
		}
		if s.warehouse != "" {
			break
		}
	}
	if err := q(`SELECT id, itemid, upccode, displayname, baseprice, istaxable, salestaxcode FROM item ORDER BY id`, func(r netsuite.Row) error {
		it := &catItem{ID: r.String("id"), SKU: r.String("itemid"), UPC: r.String("upccode"), Name: r.String("displayname"),
			Price: money.FromFloat(r.Float("baseprice")), Taxable: r.Bool("istaxable"), TaxCodeID: r.String("salestaxcode")}
		if it.Name == "" {
			it.Name = it.SKU
		}
		s.itemsBySKU[it.SKU] = it
		s.itemsByID[it.ID] = it
		if it.UPC != "" {
			s.itemsByUPC[it.UPC] = it
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for id := range s.locations {
		query := `SELECT item, location, quantityonhand FROM inventoryitemlocations WHERE location = ` + sqlNumber(id) + ` ORDER BY item`
		if err := q(query, func(r netsuite.Row) error {
			s.stock[stockKey{r.String("item"), r.String("location")}] = r.Float("quantityonhand")
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// sqlNumber quotes an id for SuiteQL: a plain number as is, anything else as a string
// literal with quotes doubled.
func sqlNumber(id string) string {
	for _, r := range id {
		if r < '0' || r > '9' {
			return "'" + strings.ReplaceAll(id, "'", "''") + "'"
		}
	}
	if id == "" {
		return "''"
	}
	return id
}

// idLess orders NetSuite ids numerically when they are numbers.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// install swaps in a freshly loaded snapshot; the open transactions' local deltas are
// applied on top of NetSuite's on-hand (they are not posted yet, so NetSuite does not
// count them).
func (c *catalog) install(s *snapshot, open []stockDelta, at time.Time) {
	local := map[stockKey]float64{}
	for _, d := range open {
		local[d.key] += d.qty
	}
	c.mu.Lock()
	c.snap, c.local, c.loadedAt = s, local, at
	c.mu.Unlock()
}

func (c *catalog) loaded() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.snap != nil
}

func (c *catalog) get() *snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.snap
}

// apply changes the local stock view (an accepted sale decrements it).
func (c *catalog) apply(ds []stockDelta) {
	if len(ds) == 0 {
		return
	}
	c.mu.Lock()
	for _, d := range ds {
		c.local[d.key] += d.qty
	}
	c.mu.Unlock()
}

// lookup answers an item lookup by barcode (a UPC; a SKU, or a 13-digit EAN with a
// leading zero, is accepted too) at a location.
func (c *catalog) lookup(barcode, location string) (contract.Item, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.snap
	if s == nil {
		return contract.Item{}, false
	}
	it := s.itemsByUPC[barcode]
	if it == nil && len(barcode) == 13 && barcode[0] == '0' {
		it = s.itemsByUPC[barcode[1:]]
	}
	if it == nil {
		it = s.itemsBySKU[barcode]
	}
	if it == nil {
		return contract.Item{}, false
	}
	out := contract.Item{SKU: it.SKU, ItemID: it.ID, Barcode: it.UPC, Name: it.Name, Price: it.Price}
	if tax := s.taxFor(it, location); tax != nil {
		out.TaxCode, out.TaxRate = tax.Name, tax.Rate
	}
	k := stockKey{it.ID, location}
	out.OnHand = s.stock[k] + c.local[k]
	return out, true
}

// taxFor is the tax code a register should charge for the item at the location: the
// location's jurisdiction code for a taxable item, else the item's own code.
func (s *snapshot) taxFor(it *catItem, location string) *catTax {
	if l := s.locations[location]; l != nil && it.Taxable && l.TaxCodeID != "" {
		if t := s.taxByID[l.TaxCodeID]; t != nil {
			return t
		}
	}
	return s.taxByID[it.TaxCodeID]
}

// stockDeltas is what a transaction does to on-hand at its location: a sale takes
// items off the shelf, a return puts back the lines marked restock.
func (s *snapshot) stockDeltas(tx *contract.Transaction) []stockDelta {
	var out []stockDelta
	for _, l := range tx.Lines {
		it := s.itemsBySKU[l.SKU]
		if it == nil {
			continue
		}
		q := 0.0
		switch {
		case tx.Type == contract.Return && l.Restock:
			q = l.Quantity
		case tx.Type == contract.Sale:
			q = -l.Quantity
		case tx.Type == contract.Exchange && l.Quantity > 0:
			q = -l.Quantity
		case tx.Type == contract.Exchange && l.Restock:
			q = -l.Quantity // a returned line has a negative quantity
		}
		if q != 0 {
			out = append(out, stockDelta{stockKey{it.ID, tx.LocationID}, q})
		}
	}
	return out
}
