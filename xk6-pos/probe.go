package pos

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
)

// ProbeStock looks up n (item, store) pairs at the connector and journals the on-hand
// it answers in stock_probe, beside the registers' own shelf count (expected_on_hand).
// The pairs are the ones whose stock moved during the run first (in a seeded order),
// then others drawn from the seed. Call it after the connector has drained: the
// invariant checker compares connector_on_hand with NetSuite's.
func (m *Module) ProbeStock(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(m.cfg.Seed), 0x570c))
	moved := m.shelf.touched()
	slices.SortFunc(moved, func(a, b shelfKey) int { return cmp.Or(cmp.Compare(a.loc, b.loc), cmp.Compare(a.item, b.item)) })
	r.Shuffle(len(moved), func(i, j int) { moved[i], moved[j] = moved[j], moved[i] })
	type pair struct {
		it  *fixtures.Item
		reg *register
	}
	var pairs []pair
	seen := map[shelfKey]bool{}
	add := func(it *fixtures.Item, loc string) {
		k := shelfKey{loc, it.ID}
		if seen[k] || len(m.byLoc[loc]) == 0 {
			return
		}
		seen[k] = true
		pairs = append(pairs, pair{it, m.byLoc[loc][0]})
	}
	for _, k := range moved {
		if len(pairs) >= n {
			break
		}
		if it, ok := m.world.Item(k.item); ok {
			add(it, k.loc)
		}
	}
	stores := m.world.Stores()
	for tries := 0; len(pairs) < n && tries < 10*n && len(m.world.Items) > 0; tries++ {
		add(&m.world.Items[r.IntN(len(m.world.Items))], stores[r.IntN(len(stores))].ID)
	}
	var errs []error
	for _, p := range pairs {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := &session{mod: m, flow: "probe", client: m.client, reg: p.reg, rand: r,
			ctx: loadgen.WithTags(ctx, loadgen.Tag{Key: "flow", Value: "probe"})}
		o := DefaultOptions("")
		s.opts = &o
		got, status, err := s.lookup(p.it.UPC)
		e := &probeEntry{sku: p.it.SKU, itemID: p.it.ID, locationID: p.reg.loc.ID, status: status,
			expected: m.shelf.onHand(p.it, p.reg.loc.ID), at: m.now()}
		if err == nil && got != nil {
			v := got.OnHand
			e.onHand = &v
		}
		if err != nil {
			errs = append(errs, err)
		}
		m.j.add(e)
	}
	if len(errs) > 0 {
		return fmt.Errorf("pos: %d of %d stock probes failed, the first: %w", len(errs), len(pairs), errs[0])
	}
	return nil
}
