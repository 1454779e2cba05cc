package money

import (
	"encoding/json"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		out  string
	}{
		{"12", 1200, "12.00"},
		{"12.5", 1250, "12.50"},
		{"-0.05", -5, "-0.05"},
		{"0.1", 10, "0.10"},
		{`"19.99"`, 1999, "19.99"},
		{"1e2", 10000, "100.00"},
	}
	for _, tt := range tests {
		var a Amount
		if err := json.Unmarshal([]byte(tt.in), &a); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if a != tt.want {
			t.Errorf("%s: got %d cents, want %d", tt.in, a, tt.want)
		}
		b, _ := json.Marshal(a)
		if string(b) != tt.out {
			t.Errorf("%s: marshal %s, want %s", tt.in, b, tt.out)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, in := range []string{"1.234", "abc", "null", `""`, "1e300"} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err == nil {
			t.Errorf("%s: accepted as %v", in, a)
		}
	}
}

func TestArithmetic(t *testing.T) {
	if got := Amount(1999).Mul(3); got != 5997 {
		t.Errorf("Mul = %v", got)
	}
	if got := Amount(1000).Percent(8.625); got != 86 {
		t.Errorf("Percent = %v", got)
	}
	if got := Amount(-1000).Percent(8.625); got != -86 {
		t.Errorf("negative Percent = %v", got)
	}
}
