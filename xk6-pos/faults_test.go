package pos

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/doorbuster/doorbuster/simulator/gateway"
)

// TestGatewayFaultsLeaveNoAuthorisation runs card sales against a gateway that fails
// after authorising, and checks that no hold is left behind and the journal says what
// happened to each intent.
func TestGatewayFaultsLeaveNoAuthorisation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules string
		want  string // the payment outcome every capture ends in
		cash  bool   // the sales end up paid cash
	}{
		// Every capture answers 500: the terminal asks where the intent is, cancels the
		// hold, and the customer pays cash.
		{"capture fails", `[{name: cap-500, target: gateway, match: {method: POST, path: "/v1/payment_intents/*/capture"},
			effect: {error: {status: 500, type: api_error, message: boom}}}]`, PayCanceled, true},
		// Every capture commits but its answer is lost (replays too): the terminal asks the
		// gateway and learns the capture went through.
		{"capture answer lost", `[{name: cap-lost, target: gateway, match: {method: POST, path: "/v1/payment_intents/*/capture"},
			effect: {lostResponse: {}}}]`, PayCaptured, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := faults.ParseRules([]byte(tc.rules))
			if err != nil {
				t.Fatal(err)
			}
			fe := faults.New(faults.Gateway, 1, faults.WithLogger(slog.New(slog.DiscardHandler)))
			if err := fe.Replace(rules); err != nil {
				t.Fatal(err)
			}
			e := newEnv(t)
			g, err := gateway.New(e.w, gateway.Config{Seed: 2, Faults: fe, BooksPath: filepath.Join(t.TempDir(), "gw.db")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { g.Close() })
			srv := httptest.NewServer(g.Handler())
			t.Cleanup(srv.Close)
			e.gw = srv
			e.mod.cfg.GatewayURL = srv.URL
			exec, init := e.exec(FlowSale, map[string]any{"tenders": map[string]any{"card": 1}, "declineRate": 0,
				"insufficientFundsRate": 0, "basketSize": map[string]any{"mean": 3}})
			res := e.runExec("faults", exec, init, 4, 2)
			if n := counter(res, MetricPayments, loadgen.Tag{Key: "outcome", Value: tc.want}); n == 0 {
				t.Errorf("no payment ended %s", tc.want)
			}
			for id, tx := range e.conn.transactions() {
				for _, td := range tx.Tenders {
					if (td.Type == contract.Cash) != tc.cash && tx.Total() >= minCard {
						t.Errorf("%s: %s tender", id, td.Type)
					}
				}
			}
			db := e.closeJournal()
			checkJournal(t, db, e.conn.acceptedBodies())
			rows, err := db.Query(`SELECT intent_id, outcome FROM payment`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id, outcome string
				if err := rows.Scan(&id, &outcome); err != nil {
					t.Fatal(err)
				}
				pi := e.intent(id)
				if outcome != tc.want || (outcome == PayCaptured) != (pi.Status == "succeeded") || (outcome == PayCanceled) != (pi.Status == "canceled") {
					t.Errorf("intent %s: journal %s, gateway %s", id, outcome, pi.Status)
				}
			}
		})
	}
}
