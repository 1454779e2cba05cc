package connector

import (
	"strings"
	"testing"
)

// ParseEnv reads a file the user hands over: it must never panic, and what it returns
// must be keys without blanks or quotes.
func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{
		"NETSUITE_BASE_URL=http://127.0.0.1:8701\nNETSUITE_ACCOUNT_ID=1234567\n",
		"# comment\n\nexport GATEWAY_API_KEY='sk_test_x'\n",
		"A=\"quoted \\\"value\\\"\"\nB=\n",
		"=nokey\n",
		"K=\"unterminated\n",
		"K V=1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		env, err := ParseEnv(strings.NewReader(s))
		if err != nil {
			if !strings.Contains(err.Error(), "line ") && !strings.Contains(err.Error(), "token too long") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for k := range env {
			if k == "" || strings.ContainsAny(k, " \t\"'\n") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}
