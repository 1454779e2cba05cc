package netsuite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCashSaleUpsert measures cash sale upserts per second through the HTTP API —
// 5 lines, TBA-signed (dghubble/oauth1, HMAC-SHA256), 8 concurrent clients — against the
// same server (same gin stack, TBA verification and governance) whose record route
// answers a bare 204. It reports both rates and their ratio:
//
//	go test -run '^$' -bench CashSaleUpsert -benchtime 2000x ./simulator/netsuite/
func BenchmarkCashSaleUpsert(b *testing.B) {
	w := tinyWorld()
	books := newEnv(b, w, Config{ConcurrencyLimit: 64})
	bareSrv := newEnv(b, tinyWorld(), Config{ConcurrencyLimit: 64})
	bareSrv.srv.recordHandler = func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", bareSrv.srv.baseURL(r)+"/record/v1/cashSale/1")
		w.WriteHeader(http.StatusNoContent)
	}
	bare := httptest.NewServer(bareSrv.srv.routes())
	b.Cleanup(bare.Close)

	body := func(i int64) []byte {
		lines := make([]any, 5)
		for k := range lines {
			item := []string{"1001", "1002", "1003"}[k%3]
			lines[k] = map[string]any{"item": ref1(item), "quantity": 1 + k, "rate": 1.99 + float64(k), "tax1Amt": 0.17}
		}
		data, _ := json.Marshal(map[string]any{"tranDate": "2024-11-29", "location": ref1(fmt.Sprint(1 + i%2)),
			"entity": map[string]any{"externalId": "LOY-70000000001"}, "paymentMethod": ref1("2"),
			"pnRefNum": fmt.Sprintf("pi_%d", i), "item": map[string]any{"items": lines}})
		return data
	}
	const clients, chunk = 8, 100
	client := signedClient(w.Credentials, &http.Transport{MaxIdleConnsPerHost: 2 * clients})
	// send does requests [from, from+n) against base with the clients in parallel.
	send := func(base string, from, n int) time.Duration {
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(from+n) {
						return
					}
					req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/record/v1/cashSale/eid:BENCH-%d", base, i), bytes.NewReader(body(i)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusNoContent {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// The two servers take turns, chunk by chunk, so that a busy machine slows both alike.
	var tBooks, tBare time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		k := min(chunk, b.N-done)
		tBooks += send(books.base, done, k)
		tBare += send(bare.URL+"/services/rest", done, k)
	}
	b.StopTimer()
	withBooks := float64(b.N) / tBooks.Seconds()
	withoutBooks := float64(b.N) / tBare.Seconds()
	if n := books.queryInt("SELECT COUNT(*) FROM transactions"); n != int64(b.N) {
		b.Fatalf("%d sales in the books, want %d", n, b.N)
	}
	books.checkBalanced()
	b.ReportMetric(withBooks, "upserts/s")
	b.ReportMetric(withoutBooks, "bare204/s")
	b.ReportMetric(withBooks/withoutBooks, "ratio")
}
