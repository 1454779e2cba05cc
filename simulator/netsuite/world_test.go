package netsuite

import (
	"net/http"
	"testing"

	"github.com/doorbuster/doorbuster/fixtures"
)

// A generated world loads whole, and its items sell with the world's own tax codes.
func TestGeneratedWorld(t *testing.T) {
	w, err := fixtures.Generate(7, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, w, Config{})
	for table, want := range map[string]int{"items": len(w.Items), "customers": len(w.Customers),
		"locations": len(w.Locations), "accounts": len(w.AccountList), "tax_codes": len(w.TaxCodes)} {
		if n := e.queryInt("SELECT COUNT(*) FROM " + table); n != int64(want) {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	store := w.Stores()[1]
	var it *fixtures.Item
	for i := range w.Items {
		if w.Items[i].Taxable {
			it = &w.Items[i]
			break
		}
	}
	id := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:GEN-1", map[string]any{"location": ref1(store.ID),
		"entity": map[string]any{"externalId": w.Customers[3].ExternalID},
		"item":   items(saleLineBody(it.ID, 2))})
	code, _ := w.ItemTaxCode(it, &store)
	if got := e.queryIntStr("SELECT taxcode FROM transaction_lines WHERE transaction_id = ?", id); got != code.ID {
		t.Errorf("line tax code %s, want the store's %s", got, code.ID)
	}
	wantTax := it.Price.Mul(2).Percent(code.Rate)
	if got := e.queryInt("SELECT tax_cents FROM transactions WHERE id = ?", id); got != wantTax.Cents() {
		t.Errorf("tax %d, want %d", got, wantTax.Cents())
	}
	onHand, _ := it.OnHandAt(store.ID)
	if got := e.onHand(it.ID, store.ID); got != onHand-2 {
		t.Errorf("on hand %v, want %v", got, onHand-2)
	}
	r := e.suiteQL("SELECT id, itemid FROM item WHERE upccode = '"+it.UPC+"'", "")
	if rows := r.json(t)["items"].([]any); len(rows) != 1 || rows[0].(map[string]any)["id"] != it.ID {
		t.Errorf("item by UPC: %s", r.body)
	}
	e.checkBalanced()
}
