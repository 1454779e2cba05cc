package compose_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	_ "modernc.org/sqlite"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
)

// The tests below need a Docker engine. Without one they skip, unless
// DOORBUSTER_REQUIRE_DOCKER=1 (CI), where they fail. DOORBUSTER_PARTITION sets how
// long the NetSuite partition lasts (a Go duration; default 10s, the 30s with
// DOORBUSTER_PARTITION=30s).

func TestMain(m *testing.M) {
	// The ryuk reaper image cannot be pulled here, and these tests remove what they
	// create themselves (and assert it).
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

func requireDocker(t *testing.T) {
	t.Helper()
	if err := compose.Available(t.Context()); err != nil {
		if os.Getenv("DOORBUSTER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is required (DOORBUSTER_REQUIRE_DOCKER=1) but not reachable: %v", err)
		}
		t.Skipf("no Docker engine reachable (%v); set DOORBUSTER_REQUIRE_DOCKER=1 to fail instead", err)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestWorldInContainers builds the image once, then brings up worlds of simulators
// and the reference connector in containers and shows that postings arrive, that a
// partition from NetSuite delays without losing or doubling, that kill -9 and a
// restart on the same volume lose nothing, and that nothing is left behind.
func TestWorldInContainers(t *testing.T) {
	requireDocker(t)
	ctx := t.Context()
	start := time.Now()
	run := fmt.Sprintf("test-%d", time.Now().UnixNano())
	image, cleanup, err := compose.BuildImage(ctx, compose.BuildOptions{
		Tag:    "doorbuster-test:" + run,
		Labels: map[string]string{compose.LabelRun: run},
		Logger: testLogger(t),
	})
	t.Cleanup(func() {
		if err := cleanup(context.Background()); err != nil {
			t.Errorf("remove the test image: %v", err)
		}
		left, err := compose.Leftovers(context.Background(), run)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Errorf("the test image is left behind: %v", left)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s built in %v", image, time.Since(start).Round(time.Millisecond))

	t.Run("postings arrive", func(t *testing.T) {
		w, world := up(t, compose.Config{Image: image, Seed: 11})
		sales := newSales(t, w, world, "post")
		ids := sales.submit(t, 8)
		waitPosted(t, w.ConnectorURL, ids, 60*time.Second)
		assertBooks(t, w, sales.total(ids), len(ids))

		// Cut off from the gateway only, the connector still posts cash sales to
		// NetSuite: the partition isolates one simulator.
		if err := w.PartitionConnector(ctx, compose.Gateway); err != nil {
			t.Fatal(err)
		}
		if !w.Partitioned(compose.Gateway) || w.Partitioned(compose.NetSuite) {
			t.Fatal("Partitioned does not reflect the gateway partition")
		}
		if got := connectorNetworks(t, w); got["gateway"] != nil || got["netsuite"] == nil {
			t.Fatalf("partitioned from the gateway, the connector is on %v", got)
		}
		more := sales.submit(t, 4)
		waitPosted(t, w.ConnectorURL, more, 60*time.Second)
		if err := w.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		// Healed: back on the gateway network, with its alias.
		if got := connectorNetworks(t, w); !slices.Contains(got["gateway"], compose.ConnectorAlias) {
			t.Fatalf("healed, the connector is on %v", got)
		}
		all := append(ids, more...)
		assertBooks(t, w, sales.total(all), len(all))

		// Paused, the connector answers nothing; unpaused, it answers again.
		if err := w.PauseConnector(ctx); err != nil {
			t.Fatal(err)
		}
		quick := &http.Client{Timeout: time.Second}
		if resp, err := quick.Get(w.ConnectorURL + contract.PathHealth); err == nil {
			resp.Body.Close()
			t.Fatalf("a paused connector answered %s", resp.Status)
		}
		if err := w.UnpauseConnector(ctx); err != nil {
			t.Fatal(err)
		}
		var health map[string]any
		if code := getJSON(t, w.ConnectorURL+contract.PathHealth, &health); code != http.StatusOK {
			t.Fatalf("unpaused connector /healthz: %d", code)
		}
	})

	t.Run("partition from NetSuite delays, loses nothing, doubles nothing", func(t *testing.T) {
		hold := 10 * time.Second
		if v := os.Getenv("DOORBUSTER_PARTITION"); v != "" {
			if hold, err = time.ParseDuration(v); err != nil {
				t.Fatalf("DOORBUSTER_PARTITION=%q: %v", v, err)
			}
		}
		w, world := up(t, compose.Config{Image: image, Seed: 12})
		sales := newSales(t, w, world, "part")
		before := sales.submit(t, 4)
		waitPosted(t, w.ConnectorURL, before, 60*time.Second)

		if err := w.PartitionConnector(ctx, compose.NetSuite); err != nil {
			t.Fatal(err)
		}
		during := sales.submit(t, 6) // accepted: the outbox is local
		// For the whole partition, nothing of it reaches NetSuite.
		deadline := time.Now().Add(hold)
		for time.Now().Before(deadline) {
			if n := countPosted(t, w.ConnectorURL, during); n > 0 {
				t.Fatalf("%d transactions posted while the connector was cut off from NetSuite", n)
			}
			time.Sleep(500 * time.Millisecond)
		}
		assertBooks(t, w, sales.total(before), len(before))
		if err := w.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		healed := time.Now()
		all := append(before, during...)
		waitPosted(t, w.ConnectorURL, all, 90*time.Second)
		t.Logf("partition of %v healed; backlog drained %v later", hold, time.Since(healed).Round(time.Millisecond))
		assertBooks(t, w, sales.total(all), len(all))
		// Resubmitting after the heal is harmless.
		sales.resubmit(t, during[0])
		assertBooks(t, w, sales.total(all), len(all))
	})

	t.Run("kill -9 and restart on the same volume loses nothing", func(t *testing.T) {
		// Two NetSuite slots (one posting worker) and 300 ms per cash sale keep a
		// backlog for the kill to hit.
		w, world := up(t, compose.Config{Image: image, Seed: 13, ConcurrencyLimit: 2, Faults: []byte(`
rules:
  - name: slow-cash-sales
    target: netsuite
    match: {recordType: cashSale}
    effect: {latency: {median: 300ms}}
`)})
		var faults struct {
			Rules []struct{ Name string } `json:"rules"`
		}
		if code := getJSON(t, w.NetSuiteURL+"/_sim/faults", &faults); code != http.StatusOK || len(faults.Rules) != 1 || faults.Rules[0].Name != "slow-cash-sales" {
			t.Fatalf("NetSuite's faults: %d %+v", code, faults)
		}
		sales := newSales(t, w, world, "kill")
		// Accepted but surely not posted when killed: NetSuite is cut off.
		if err := w.PartitionConnector(ctx, compose.NetSuite); err != nil {
			t.Fatal(err)
		}
		queued := sales.submit(t, 6)
		if err := w.KillConnector(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		restart := time.Now()
		if err := w.RestartConnector(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("connector ready %v after restart", time.Since(restart).Round(time.Millisecond))
		// Killed while posting: some in flight or pending at the time of the kill.
		inFlight := sales.submit(t, 12)
		var st contract.SyncStatus
		getJSON(t, w.ConnectorURL+contract.PathSyncStatus, &st)
		t.Logf("at the kill: %d pending, %d in flight, %d posted", st.Pending, st.InFlight, st.Posted)
		if st.Pending+st.InFlight == 0 {
			t.Fatal("nothing left to post at the kill: the test would prove nothing")
		}
		if err := w.KillConnector(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.RestartConnector(ctx); err != nil {
			t.Fatal(err)
		}
		all := append(queued, inFlight...)
		waitPosted(t, w.ConnectorURL, all, 90*time.Second)
		assertBooks(t, w, sales.total(all), len(all))
		logs, err := w.ConnectorLogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(logs, "connector listening") != 3 {
			t.Errorf("want 3 starts of the connector in its logs:\n%s", logs)
		}
	})

	t.Run("any connector image: image, command, port and env are parameters", func(t *testing.T) {
		// The Doorbuster image stands in for a user's image: given as ConnectorImage it
		// gets nothing Doorbuster-specific, only the contract on the port asked for.
		w, world := up(t, compose.Config{
			Image: image, Seed: 17,
			ConnectorImage: image, ConnectorCmd: []string{"connector", "--log-level", "warn"},
			ConnectorPort: 9099, ConnectorReadyPath: contract.PathReady,
			ExtraEnv: map[string]string{"CONNECTOR_REFRESH_INTERVAL": "1m"},
		})
		if got := w.Env[contract.EnvConnectorListen]; got != "0.0.0.0:9099" {
			t.Errorf("CONNECTOR_LISTEN = %q", got)
		}
		sales := newSales(t, w, world, "any")
		ids := sales.submit(t, 2)
		waitPosted(t, w.ConnectorURL, ids, 60*time.Second)
		assertBooks(t, w, sales.total(ids), len(ids))
	})

	t.Run("a connector that does not come up is named, with its logs", func(t *testing.T) {
		w, err := compose.Up(ctx, compose.Config{
			Image: image, Seed: 14, StartupTimeout: 20 * time.Second,
			// ExtraEnv overrides the contract: without an account id the connector exits.
			ExtraEnv: map[string]string{contract.EnvNetSuiteAccountID: ""},
			Logger:   testLogger(t),
		})
		defer closeAndCheck(t, w)
		if err == nil {
			t.Fatal("Up succeeded with a connector lacking NETSUITE_ACCOUNT_ID")
		}
		t.Logf("as reported: %v", err)
		for _, want := range []string{"the connector", "did not come up", "last log lines", contract.EnvNetSuiteAccountID} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})

	t.Run("a canceled Up is cleaned up by Close", func(t *testing.T) {
		// Canceled before anything, and (Ctrl-C) at points along the way: whatever Up
		// had made, Close removes.
		for _, after := range []time.Duration{0, 300 * time.Millisecond, 900 * time.Millisecond} {
			cctx, cancel := context.WithTimeout(ctx, after)
			w, err := compose.Up(cctx, compose.Config{Image: image, Seed: 15, Logger: testLogger(t)})
			cancel()
			t.Logf("canceled after %v: %v", after, err)
			if err == nil && after == 0 {
				t.Fatal("Up succeeded with a canceled context")
			}
			// Wherever the cancel struck (it depends on the machine's load), Up says
			// so; what must hold in any case is that Close leaves nothing.
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a canceled Up's error is not a context error: %v", err)
			}
			closeAndCheck(t, w)
		}
	})
}

// TestUpBuildsAndRemovesItsImage checks the Image == "" path: Up builds an image and
// Close removes it.
func TestUpBuildsAndRemovesItsImage(t *testing.T) {
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds an image: not in -short")
	}
	w, err := compose.Up(t.Context(), compose.Config{Seed: 16, Logger: testLogger(t)})
	defer closeAndCheck(t, w)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Image, "doorbuster-run:") {
		t.Errorf("built image %q", w.Image)
	}
	resp, err := http.Get(w.ConnectorURL + contract.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("connector /healthz: %s", resp.Status)
	}
}

// up brings a world up and registers its teardown, which also asserts that nothing
// of the run is left.
func up(t *testing.T, cfg compose.Config) (*compose.World, *fixtures.World) {
	t.Helper()
	world, err := fixtures.Generate(cfg.Seed, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	cfg.World, cfg.Size = world, fixtures.Small
	cfg.Logger = testLogger(t)
	start := time.Now()
	w, err := compose.Up(t.Context(), cfg)
	t.Cleanup(func() { closeAndCheck(t, w) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("world %s up in %v: netsuite %s gateway %s connector %s", w.RunID, time.Since(start).Round(time.Millisecond), w.NetSuiteURL, w.GatewayURL, w.ConnectorURL)
	return w, world
}

// closeAndCheck closes the world and asserts no container, network, volume or image of
// its run is left.
func closeAndCheck(t *testing.T, w *compose.World) {
	t.Helper()
	if w == nil {
		t.Error("Up returned a nil World")
		return
	}
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	if w.RunID == "" {
		return
	}
	left, err := compose.Leftovers(context.Background(), w.RunID)
	if err != nil {
		t.Fatalf("list leftovers: %v", err)
	}
	if len(left) > 0 {
		t.Errorf("left behind by run %s: %v", w.RunID, left)
	}
}

// connectorNetworks returns the networks the connector's container is on, by role
// ("world", "netsuite", "gateway"), with its aliases there.
func connectorNetworks(t *testing.T, w *compose.World) map[string][]string {
	t.Helper()
	dc, err := testcontainers.NewDockerClientWithOpts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	prefix := "doorbuster-" + w.RunID + "-"
	res, err := dc.ContainerInspect(t.Context(), prefix+"connector", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for name, ep := range res.Container.NetworkSettings.Networks {
		out[strings.TrimPrefix(name, prefix)] = append([]string{}, ep.Aliases...)
	}
	return out
}

// sales builds valid cash sales at one store from item lookups through the connector.
type sales struct {
	url    string
	prefix string
	store  string
	reg    string
	items  []contract.Item
	byID   map[string]contract.Transaction
	n      int
}

func newSales(t *testing.T, w *compose.World, world *fixtures.World, prefix string) *sales {
	t.Helper()
	store := world.Stores()[0]
	s := &sales{url: w.ConnectorURL, prefix: fmt.Sprintf("%s-%s", prefix, w.RunID), store: store.ID, reg: "R-TEST", byID: map[string]contract.Transaction{}}
	if regs := world.RegistersAt(store.ID); len(regs) > 0 {
		s.reg = regs[0].ID
	}
	for i := range world.Items {
		it := &world.Items[i]
		if it.Weighed {
			continue
		}
		path := strings.Replace(contract.PathItem, "{barcode}", url.PathEscape(it.UPC), 1) + "?location=" + url.QueryEscape(store.ID)
		var got contract.Item
		if code := getJSON(t, s.url+path, &got); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		s.items = append(s.items, got)
		if len(s.items) == 3 {
			break
		}
	}
	return s
}

// sale is the i-th sale: two lines with tax as the lookup gave it, paid in cash.
func (s *sales) sale(i int) contract.Transaction {
	tx := contract.Transaction{
		ID: fmt.Sprintf("%s-%03d", s.prefix, i), Type: contract.Sale,
		LocationID: s.store, RegisterID: s.reg, CashierID: "C-TEST",
		OccurredAt: time.Now().UTC().Truncate(time.Second),
	}
	for j := 0; j < 2; j++ {
		it := s.items[(i+j)%len(s.items)]
		qty := float64(1 + (i+j)%3)
		tx.Lines = append(tx.Lines, contract.Line{
			SKU: it.SKU, Quantity: qty, UnitPrice: it.Price, TaxCode: it.TaxCode,
			TaxAmount: it.Price.Mul(qty).Percent(it.TaxRate),
		})
	}
	tx.Tenders = []contract.Tender{{Type: contract.Cash, Amount: tx.Total()}}
	return tx
}

// submit posts n new sales and returns their ids; each must be accepted (202).
func (s *sales) submit(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		tx := s.sale(s.n)
		s.n++
		if e := tx.Validate(); e != nil {
			t.Fatalf("test sale %s is invalid: %+v", tx.ID, e)
		}
		if code := postJSON(t, s.url+contract.PathTransactions, tx); code != http.StatusAccepted {
			t.Fatalf("POST %s: %d, want 202", tx.ID, code)
		}
		s.byID[tx.ID] = tx
		ids = append(ids, tx.ID)
	}
	return ids
}

// resubmit posts a sale again: the connector must answer 200 (a duplicate).
func (s *sales) resubmit(t *testing.T, id string) {
	t.Helper()
	if code := postJSON(t, s.url+contract.PathTransactions, s.byID[id]); code != http.StatusOK {
		t.Fatalf("resubmit %s: %d, want 200", id, code)
	}
}

func (s *sales) total(ids []string) money.Amount {
	var sum money.Amount
	for _, id := range ids {
		tx := s.byID[id]
		sum += tx.Total()
	}
	return sum
}

// waitPosted polls each transaction's state until all are posted; a dead letter fails.
func waitPosted(t *testing.T, base string, ids []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	left := append([]string(nil), ids...)
	for len(left) > 0 {
		var still []string
		for _, id := range left {
			st := txState(t, base, id)
			switch st.State {
			case contract.StatePosted:
			case contract.StateDeadLettered:
				t.Fatalf("%s dead-lettered: %s", id, st.Error)
			default:
				still = append(still, id)
			}
		}
		left = still
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d transactions not posted within %v (first %s)", len(left), len(ids), within, left[0])
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func countPosted(t *testing.T, base string, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		if txState(t, base, id).State == contract.StatePosted {
			n++
		}
	}
	return n
}

func txState(t *testing.T, base, id string) contract.TransactionStatus {
	t.Helper()
	var st contract.TransactionStatus
	path := strings.Replace(contract.PathTransaction, "{id}", url.PathEscape(id), 1)
	if code := getJSON(t, base+path, &st); code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	return st
}

// assertBooks downloads NetSuite's books from the simulator and checks that they hold
// exactly n cash sales adding up to total: nothing lost, nothing doubled.
func assertBooks(t *testing.T, w *compose.World, total money.Amount, n int) {
	t.Helper()
	resp, err := http.Get(w.NetSuiteURL + "/_sim/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_sim/export: %s", resp.Status)
	}
	path := filepath.Join(t.TempDir(), "netsuite.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var count, cents, dupes int64
	if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(total_cents), 0) FROM transactions WHERE recordtype = 'cashSale'`).Scan(&count, &cents); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT externalid FROM transactions WHERE recordtype = 'cashSale' GROUP BY externalid HAVING COUNT(*) > 1)`).Scan(&dupes); err != nil {
		t.Fatal(err)
	}
	if count != int64(n) || cents != total.Cents() || dupes != 0 {
		t.Errorf("books: %d cash sales totalling %s (%d external ids twice), want %d totalling %s",
			count, money.FromCents(cents), dupes, n, total)
	}
}

func httpClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := httpClient().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", u, err, b)
		}
	}
	return resp.StatusCode
}

func postJSON(t *testing.T, u string, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient().Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Logf("POST %s: %d %s", u, resp.StatusCode, body)
	}
	return resp.StatusCode
}
