package gateway

import (
	"context"
	"database/sql"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	h := newHarness(t)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name string
		auth string
		ok   bool
	}{
		{"bearer", "Bearer " + testKey, true},
		{"bearer lower-case scheme", "bearer " + testKey, true},
		{"basic with key as user", basic(testKey, ""), true},
		{"none", "", false},
		{"wrong bearer", "Bearer sk_test_wrongwrongwrong1234", false},
		{"empty bearer", "Bearer ", false},
		{"wrong basic", basic("sk_test_nope", ""), false},
		{"key as password only", basic("", testKey), false},
		{"bad base64", "Basic !!!", false},
		{"other scheme", "Token " + testKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			r := h.doAuth("GET", "/v1/payment_intents", "", tt.auth)
			if tt.ok {
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.raw)
				}
				return
			}
			wantError(t, r, http.StatusUnauthorized, errInvalidRequest, "")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("no WWW-Authenticate header")
			}
			if strings.Contains(r.raw, testKey) {
				t.Errorf("error shows the key: %s", r.raw)
			}
		})
	}
	// A wrong key is shown masked.
	r := h.doAuth("GET", "/v1/payment_intents", "", "Bearer sk_test_wrongwrongwrong1234")
	if msg := r.str("error", "message"); !strings.Contains(msg, "sk_test_***************1234") {
		t.Errorf("masked key: %s", msg)
	}
	// Admin routes need no key.
	for _, p := range []string{"/healthz", "/metrics"} {
		if r := h.doAuth("GET", p, "", ""); r.status != http.StatusOK {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

func TestConfigAPIKeyOverridesWorld(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.APIKey = "sk_test_other_key_0000" })
	if r := h.do("GET", "/v1/payment_intents", ""); r.status != http.StatusUnauthorized {
		t.Errorf("world key accepted: %d", r.status)
	}
	if r := h.doAuth("GET", "/v1/payment_intents", "", "Bearer sk_test_other_key_0000"); r.status != http.StatusOK {
		t.Errorf("configured key refused: %d", r.status)
	}
	w := tinyWorld()
	w.Gateway.SecretKey = ""
	if _, err := New(w, Config{}); err == nil {
		t.Errorf("New without any key succeeded")
	}
	w = tinyWorld()
	w.Registers[1].ReaderID = w.Registers[0].ReaderID
	if _, err := New(w, Config{}); err == nil {
		t.Errorf("New with a reader on two registers succeeded")
	}
}

func TestExportResetMetrics(t *testing.T) {
	h := newHarness(t)
	id := h.intentIn(statusSucceeded)
	h.must("POST", "/v1/refunds", "payment_intent="+id+"&amount=100")
	h.intentIn(statusRequiresCapture)
	h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true")

	// The export is a SQLite file with the books.
	req, _ := http.NewRequest("GET", h.http.URL+"/_sim/export", nil)
	resp, err := h.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.sqlite3" {
		b, _ := os.ReadFile(path)
		t.Fatalf("export: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for q, want := range map[string]int64{
		`SELECT COUNT(*) FROM payment_intents`:                               3,
		`SELECT SUM(amount_received) FROM payment_intents`:                   1000,
		`SELECT SUM(amount_capturable) FROM payment_intents`:                 1000,
		`SELECT SUM(amount) FROM refunds`:                                    100,
		`SELECT COUNT(*) FROM charges WHERE status = 'failed'`:               1,
		`SELECT COUNT(*) FROM terminal_readers`:                              4,
		`SELECT COUNT(*) FROM payment_events WHERE type = 'declined'`:        1,
		`SELECT COUNT(*) FROM payment_intents WHERE status = 'succeeded'`:    1,
		`SELECT COUNT(*) FROM meta WHERE key = 'currency' AND value = 'usd'`: 1,
	} {
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil || n != want {
			t.Errorf("%s = %d (%v), want %d", q, n, err, want)
		}
	}

	m := h.must("GET", "/metrics", "").raw
	for _, line := range []string{
		`gateway_payment_intents{status="succeeded"} 1`,
		`gateway_payment_intents{status="requires_capture"} 1`,
		`gateway_payment_intents{status="requires_payment_method"} 1`,
		`gateway_refunds_total 1`,
		`gateway_refunded_amount_total 100`,
		`gateway_captured_amount_total 1000`,
		`gateway_card_declines_total{code="generic_decline"} 1`,
		`gateway_http_requests_total{method="POST",route="/v1/payment_intents",status="402"} 1`,
	} {
		if !strings.Contains(m, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}

	h.must("POST", "/_sim/reset", "")
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents`); n != 0 {
		t.Errorf("%d intents after reset", n)
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM terminal_readers`); n != 4 {
		t.Errorf("%d readers after reset", n)
	}
	if m := h.must("GET", "/metrics", "").raw; !strings.Contains(m, `gateway_payment_intents{status="succeeded"} 0`+"\n") {
		t.Errorf("intent gauge not reset")
	}
	// The id sequence restarts from the seed: same seed, same requests, same ids.
	if again := h.intentIn(statusSucceeded); again != id {
		t.Errorf("after reset the first id is %s, want %s", again, id)
	}
	if err := h.srv.Export(context.Background(), path); err == nil {
		t.Errorf("Export over an existing file succeeded")
	}
}

func TestBooksPathReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "books.db")
	if err := os.WriteFile(path, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := New(tinyWorld(), Config{BooksPath: path})
	if err != nil {
		t.Fatalf("New over an old file: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// A temporary books file disappears with Close.
	srv, err = New(tinyWorld(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := srv.books.path
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary books %s left behind (%v)", tmp, err)
	}
}

// BenchmarkSale is one card sale over HTTP: create with confirm (automatic capture),
// under an Idempotency-Key, as a connector does it.
func BenchmarkSale(b *testing.B) {
	h := newHarness(b)
	b.ResetTimer()
	for i := range b.N {
		r := h.do("POST", "/v1/payment_intents", "amount=1999&currency=usd&payment_method=pm_card_visa&confirm=true&metadata[pos_tx]=T"+strconv.Itoa(i),
			"Idempotency-Key", "sale-"+strconv.Itoa(i))
		if r.status != http.StatusOK {
			b.Fatalf("%d %s", r.status, r.raw)
		}
	}
}
