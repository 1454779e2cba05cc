package invariants

import (
	"strings"
	"testing"
	"time"
)

// FuzzSingleSelect: custom SQL comes from scenario files; the guard must never panic,
// and whatever it accepts has no second statement outside quotes and comments.
func FuzzSingleSelect(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT 1;", "SELECT 1; DELETE FROM tx", "WITH a AS (SELECT 1) SELECT * FROM a",
		"SELECT ';' -- ;\n", "SELECT \"a;b\" /* ; */", "SELECT [x;y] FROM t", "SELECT `a``;b`", "VALUES (1)", "DELETE FROM tx",
		"/* unterminated", "'unterminated", "SELECT 'it''s'; x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		stripped := stripSQL(q)
		if err := singleSelect(q); err == nil {
			body := strings.TrimRight(strings.TrimSpace(stripped), "; \t\r\n")
			if strings.Contains(body, ";") {
				t.Fatalf("accepted %q with a second statement", q)
			}
			kw := strings.ToUpper(strings.Fields(body)[0])
			if !strings.HasPrefix(kw, "SELECT") && !strings.HasPrefix(kw, "WITH") && !strings.HasPrefix(kw, "VALUES") {
				t.Fatalf("accepted %q starting with %q", q, kw)
			}
		}
	})
}

// FuzzParseTime: journal and books times are read from files; the fast path must agree
// with time.Parse whenever both accept, and never panic.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2025-11-28T09:00:00Z", "2025-11-28T09:00:00.123Z", "2025-11-28T09:00:00.123456789Z",
		"2025-11-28T09:00:00+01:00", "2025-02-30T09:00:00Z", "2025-11-28T09:00:00.Z", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseTime(v)
		want, werr := time.Parse(time.RFC3339Nano, v)
		if err == nil && werr == nil && !got.Equal(want) {
			t.Fatalf("parseTime(%q) = %v, time.Parse = %v", v, got, want)
		}
	})
}
