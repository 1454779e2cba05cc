package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// probeScript is appended to a copy of report.html (the report itself has no script):
// after the browser has parsed and laid out the page it writes what it sees into
// <pre id="probe">, which --dump-dom then prints.
const probeScript = `<script>
(function () {
  var v = document.getElementById('verdict');
  var out = {
    verdict: v ? v.querySelector('h1').innerText.trim() : null,
    status: v ? v.getAttribute('data-status') : null,
    bannerHeight: v ? Math.round(v.getBoundingClientRect().height) : 0,
    charts: Array.prototype.map.call(document.querySelectorAll('figure.chart'), function (f) {
      var s = f.querySelector('svg');
      var r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
      return {id: f.getAttribute('data-chart'), ns: s ? s.namespaceURI : '', w: Math.round(r.width),
        h: Math.round(r.height), paths: s ? s.querySelectorAll('path').length : 0,
        text: s ? s.textContent.replace(/\s+/g, ' ').trim() : ''};
    }),
    invariants: document.querySelectorAll('details.inv').length,
    openFailed: document.querySelectorAll('details.inv.failed[open]').length
  };
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

type browserProbe struct {
	Verdict      string `json:"verdict"`
	Status       string `json:"status"`
	BannerHeight int    `json:"bannerHeight"`
	Charts       []struct {
		ID    string `json:"id"`
		NS    string `json:"ns"`
		W     int    `json:"w"`
		H     int    `json:"h"`
		Paths int    `json:"paths"`
		Text  string `json:"text"`
	} `json:"charts"`
	Invariants int `json:"invariants"`
	OpenFailed int `json:"openFailed"`
}

// findChromium returns Debian's chromium (apt-get install -y chromium), or skips the test
// unless DOORBUSTER_REQUIRE_BROWSER=1.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DOORBUSTER_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium is not installed and DOORBUSTER_REQUIRE_BROWSER=1 (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); set DOORBUSTER_REQUIRE_BROWSER=1 to fail instead")
	return ""
}

// dumpDOM loads path in headless chromium with the network cut off and returns the DOM
// after the page has run.
func dumpDOM(t *testing.T, chromium, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,900",
		"--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, lastLines(stderr.String(), 20))
	}
	return stdout.String()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// TestReportInBrowser renders report.html in a real headless browser and checks that the
// verdict banner and the five charts are there, laid out, as SVG.
func TestReportInBrowser(t *testing.T) {
	chromium := findChromium(t)
	dir, _ := renderFixture(t)
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}

	// The report as it is: the DOM after load holds the banner and the charts.
	dom := dumpDOM(t, chromium, filepath.Join(dir, HTMLFile))
	if !regexp.MustCompile(`<header id="verdict" class="banner invariants-failed"[^>]*>`).MatchString(dom) ||
		!strings.Contains(dom, `<span id="verdict-status">invariants failed</span>`) {
		t.Errorf("the DOM lacks the verdict banner:\n%.2000s", dom)
	}
	if n := strings.Count(dom, "<svg"); n != 5 {
		t.Errorf("the DOM has %d <svg> elements, want 5", n)
	}

	// A probed copy: what the browser laid out.
	probed := strings.Replace(string(page), "</body>", probeScript+"\n</body>", 1)
	probePath := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(probePath, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	dom = dumpDOM(t, chromium, probePath)
	m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run:\n%.2000s", dom)
	}
	var p browserProbe
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &p); err != nil {
		t.Fatalf("probe output %q: %v", m[1], err)
	}
	if p.Verdict != "Doorbuster: invariants failed — doorbuster-smoke" || p.Status != "invariants-failed" || p.BannerHeight < 40 {
		t.Errorf("banner: %q status %q height %d", p.Verdict, p.Status, p.BannerHeight)
	}
	wantCharts := []string{"throughput", "latency", "vus", "backlog", "sync-latency"}
	if len(p.Charts) != len(wantCharts) {
		t.Fatalf("charts = %+v, want %v", p.Charts, wantCharts)
	}
	for i, c := range p.Charts {
		if c.ID != wantCharts[i] || c.NS != "http://www.w3.org/2000/svg" || c.W < 300 || c.H < 80 || c.Paths < 10 {
			t.Errorf("chart %d = %+v: want %s, an SVG element laid out at least 300×80 with its paths", i, c, wantCharts[i])
		}
		if !strings.Contains(c.Text, "fault netsuite/ns-429-burst") {
			t.Errorf("chart %s has no fault window legend: %q", c.ID, c.Text)
		}
	}
	if p.Invariants != 12 || p.OpenFailed != 3 {
		t.Errorf("invariants %d (want 12), open failed %d (want 3)", p.Invariants, p.OpenFailed)
	}
}
