package invariants

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"testing"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	"github.com/doorbuster/doorbuster/simulator/netsuite"
	pos "github.com/doorbuster/doorbuster/xk6-pos"
)

// columns lists "table.column" of every table and view of an SQLite file, and
// "trigger name.text" of every trigger.
func columns(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "mode=ro"}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Triggers count by their whole text: transaction_sums is only as good as they are.
	rows, err := db.Query(`SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%'
		UNION ALL SELECT 'trigger ' || name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tab, col string
		if err := rows.Scan(&tab, &col); err != nil {
			t.Fatal(err)
		}
		out = append(out, tab+"."+col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func diff(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if !slices.Contains(b, x) {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

// TestSchemasMatchTheRealOnes fails when the copies in schema.go drift from the
// simulators' books and xk6-pos's journal.
func TestSchemasMatchTheRealOnes(t *testing.T) {
	ctx := context.Background()
	mine := t.TempDir()
	if err := CreateEmptyRun(ctx, mine); err != nil {
		t.Fatal(err)
	}
	w, err := fixtures.Generate(1, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	real := t.TempDir()
	ns, err := netsuite.New(w, netsuite.Config{BooksPath: filepath.Join(real, "ns.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	gw, err := gateway.New(w, gateway.Config{BooksPath: filepath.Join(real, "gw.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	if err := gw.Export(ctx, filepath.Join(real, "gw-export.db")); err != nil {
		t.Fatal(err)
	}
	if err := createDB(ctx, filepath.Join(real, "journal.db"), pos.JournalSchema); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, mine, real string }{
		{"netsuite books (simulator/netsuite booksSchema)", filepath.Join(mine, netsuiteFile), filepath.Join(real, "ns.db")},
		{"gateway books (simulator/gateway schema)", filepath.Join(mine, gatewayFile), filepath.Join(real, "gw-export.db")},
		{"journal (xk6-pos JournalSchema)", filepath.Join(mine, journalFile), filepath.Join(real, "journal.db")},
	} {
		onlyMine, onlyReal := diff(columns(t, c.mine), columns(t, c.real))
		if len(onlyMine)+len(onlyReal) > 0 {
			t.Errorf("%s drifted: only in invariants/schema.go: %v; only in the real one: %v", c.name, onlyMine, onlyReal)
		}
	}
}
