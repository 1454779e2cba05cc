package connector_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
)

// child is the reference connector running as a separate process: this test binary
// run again with DOORBUSTER_CONNECTOR_TEST_CHILD=1 (see main_test.go), configured by
// the environment contract exactly as `doorbuster connector` is. Using the test binary
// keeps the test independent of the rest of the command building, and saves a build.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan struct{}
}

func startChild(t *testing.T, env map[string]string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DOORBUSTER_CONNECTOR_TEST_CHILD=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &child{cmd: cmd, url: "http://" + env[contract.EnvConnectorListen], stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &syncWriter{w: c.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill() })
	waitFor(t, 30*time.Second, "the connector process to be ready", func() bool {
		select {
		case <-c.done:
			t.Fatalf("connector exited: %s", c.stderr)
		default:
		}
		code, _ := call(t, http.MethodGet, c.url+"/readyz", nil)
		return code == http.StatusOK
	})
	return c
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A connector process killed with SIGKILL in the middle of a stream of transactions,
// then restarted on the same data directory, posts every transaction it accepted
// exactly once. With the memory-outbox bug it loses some: the test can tell.
func TestKill9MidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the connector as a child process: skipped with -short")
	}
	t.Parallel() // its own simulators and data directories
	for _, c := range []struct {
		name string
		bugs string // CONNECTOR_BUGS
		lose bool
	}{
		{"durable", "", false},
		{"memory-outbox", "memory-outbox", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newWorld(t, 5)
			// Slow NetSuite writes, so that the kill finds work accepted but not posted.
			rules(t, e.nsFaults, `
- name: slow-writes
  target: netsuite
  match: {method: PUT}
  effect: {latency: {delay: 40ms}}
`)
			env := e.env(t.TempDir(), freeAddr(t))
			env["CONNECTOR_BUGS"] = c.bugs
			proc := startChild(t, env)
			url := proc.url

			var accepted sync.Map // id → transaction, answered 202 or 200
			var unknown sync.Map  // id → transaction whose submission got no answer
			var nAccepted atomic.Int64
			killed := make(chan struct{})
			var killOnce sync.Once
			var wg sync.WaitGroup
			now := time.Now().UTC().Truncate(time.Second)
			// Registers ring up their sales first (item lookups need the connector up),
			// then stream them in.
			const registers, each = 6, 100
			queues := make([][]contract.Transaction, registers)
			for ri := range registers {
				reg := e.register(t, url, ri, ri)
				for i := range each {
					queues[ri] = append(queues[ri], reg.cashSale(now.Add(time.Duration(i)*time.Second), reg.line(ri*31+i, 1)))
				}
			}
			for _, q := range queues {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, tx := range q {
						code, _ := call(t, http.MethodPost, url+contract.PathTransactions, tx)
						switch code {
						case http.StatusAccepted, http.StatusOK:
							accepted.Store(tx.ID, tx)
							nAccepted.Add(1)
						default:
							unknown.Store(tx.ID, tx)
						}
						select { // a register's cadence: a sale every few milliseconds
						case <-killed:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
			}
			// Kill once postings are under way, while registers are still sending.
			go func() {
				for {
					select {
					case <-killed:
						return
					case <-time.After(2 * time.Millisecond):
					}
					var n int
					e.books.QueryRow(`SELECT COUNT(*) FROM transactions WHERE recordtype = 'cashSale'`).Scan(&n)
					if n >= 15 {
						killOnce.Do(func() { proc.kill(); close(killed) })
						return
					}
				}
			}()
			wg.Wait()
			killOnce.Do(func() { proc.kill(); close(killed) })
			if n := nAccepted.Load(); n >= registers*each {
				t.Fatalf("all %d transactions were accepted before the kill: not mid-stream", n)
			}
			posted := len(e.booked(t))
			t.Logf("killed with %d accepted, %d posted, %d unanswered", nAccepted.Load(), posted, count(&unknown))
			if posted >= int(nAccepted.Load()) {
				t.Fatalf("nothing was pending at the kill (%d posted of %d): the test proves nothing", posted, nAccepted.Load())
			}

			// Restart on the same data directory; registers resend what got no answer.
			proc = startChild(t, env)
			unknown.Range(func(k, v any) bool {
				tx := v.(contract.Transaction)
				code, b := call(t, http.MethodPost, url+contract.PathTransactions, tx)
				if code != http.StatusAccepted && code != http.StatusOK {
					t.Errorf("resend %s: %d %s", tx.ID, code, b)
				}
				accepted.Store(tx.ID, tx)
				return true
			})
			st := drain(t, url, 60*time.Second)
			books := e.booked(t)
			missing, doubled := 0, 0
			accepted.Range(func(k, v any) bool {
				switch n := len(books[k.(string)]); {
				case n == 0:
					missing++
				case n > 1:
					doubled++
					t.Errorf("%s posted %d times", k, n)
				}
				return true
			})
			t.Logf("after restart: %d accepted, %d missing, sync status %+v", count(&accepted), missing, st)
			if doubled > 0 {
				t.Errorf("%d transactions posted more than once", doubled)
			}
			if c.lose {
				if missing == 0 {
					t.Errorf("the memory outbox lost nothing: the kill test cannot tell a volatile outbox")
				}
				return
			}
			if missing > 0 {
				t.Errorf("%d accepted transactions were never posted\n%s", missing, proc.stderr)
			}
			if st.DeadLettered != 0 {
				t.Errorf("dead letters: %+v", st)
			}
			// Every accepted transaction is known to the restarted connector as posted.
			accepted.Range(func(k, _ any) bool {
				code, b := call(t, http.MethodGet, url+"/pos/v1/transactions/"+k.(string), nil)
				var ts contract.TransactionStatus
				if code != http.StatusOK || json.Unmarshal(b, &ts) != nil || ts.State != contract.StatePosted {
					t.Errorf("%s: %d %s", k, code, b)
					return false
				}
				return true
			})
		})
	}
}

func count(m *sync.Map) int {
	n := 0
	m.Range(func(_, _ any) bool { n++; return true })
	return n
}
