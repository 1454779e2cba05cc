package gateway

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestDecodeForm(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// canonical is the expected canonical encoding (unescaped for readability).
		canonical string
		// errParam, when set, is the parameter the error must name ("-" for an error
		// without a parameter).
		errParam string
	}{
		{"empty", "", "", ""},
		{"scalars", "b=2&a=1", "a=1&b=2", ""},
		{"empty pairs skipped", "a=1&&b=2&", "a=1&b=2", ""},
		{"no equals", "a", "a=", ""},
		{"plus and percent", "a=x+y%26z", "a=x y&z", ""},
		{"hash", "metadata[pos_tx]=T1&metadata[store]=9", "metadata[pos_tx]=T1&metadata[store]=9", ""},
		{"escaped brackets", "metadata%5Bpos_tx%5D=T1", "metadata[pos_tx]=T1", ""},
		{"append list", "t[]=card&t[]=card_present", "t[0]=card&t[1]=card_present", ""},
		{"indexed list", "t[1]=card_present&t[0]=card", "t[0]=card&t[1]=card_present", ""},
		{"ten indexes sort numerically", "t[10]=k&t[2]=c&t[0]=a&t[1]=b&t[3]=d&t[4]=e&t[5]=f&t[6]=g&t[7]=h&t[8]=i&t[9]=j",
			"t[0]=a&t[1]=b&t[2]=c&t[3]=d&t[4]=e&t[5]=f&t[6]=g&t[7]=h&t[8]=i&t[9]=j&t[10]=k", ""},
		{"nested", "pmd[card][number]=4242&pmd[type]=card", "pmd[card][number]=4242&pmd[type]=card", ""},
		{"list of hashes", "a[0][x]=1&a[1][x]=2", "a[0][x]=1&a[1][x]=2", ""},
		{"empty value for hash", "metadata=", "metadata=", ""},
		{"duplicate scalar", "a=1&a=2", "", "a"},
		{"value then hash", "a=1&a[b]=2", "", "a[b]"},
		{"hash then value", "a[b]=2&a=1", "", "a"},
		{"list then hash", "a[]=1&a[b]=2", "", "a[b]"},
		{"hash then list", "a[b]=1&a[]=2", "", "a[]"},
		{"append in the middle", "a[][b]=1", "", "a[][b]"},
		{"unbalanced open", "a[b=1", "", "a[b"},
		{"unbalanced close", "a]=1", "", "a]"},
		{"text after bracket", "a[b]c=1", "", "a[b]c"},
		{"nested open", "a[b[c]]=1", "", "a[b[c]]"},
		{"leading bracket", "[a]=1", "", "[a]"},
		{"empty name", "=1", "", "-"},
		{"too deep", "a[1][2][3][4][5][6][7]=x", "", "a[1][2][3][4][5][6][7]"},
		{"bad escape in key", "a%zz=1", "", "-"},
		{"bad escape in value", "a=%zz", "", "a"},
		{"too many pairs", strings.Repeat("a=1&", maxFormPairs+1), "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := decodeForm(tt.in)
			if tt.errParam != "" {
				var fe *formError
				if !errors.As(err, &fe) {
					t.Fatalf("decodeForm(%q) = %v, want an error", tt.in, err)
				}
				want := tt.errParam
				if want == "-" {
					want = ""
				}
				if fe.param != want {
					t.Errorf("error names %q, want %q (%v)", fe.param, want, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeForm(%q): %v", tt.in, err)
			}
			got, err := url.QueryUnescape(v.encode())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.canonical {
				t.Errorf("canonical %q, want %q", got, tt.canonical)
			}
		})
	}
}

func TestParams(t *testing.T) {
	v, err := decodeForm("amount=100&confirm=true&t[]=card&m[a]=1&pmd[card][number]=4242&pmd[card][pin]=1&x=y")
	if err != nil {
		t.Fatal(err)
	}
	p := newParams(v)
	if n, ok, err := p.integer("amount"); n != 100 || !ok || err != nil {
		t.Errorf("amount: %d %v %v", n, ok, err)
	}
	if b, ok, err := p.boolean("confirm"); !b || !ok || err != nil {
		t.Errorf("confirm: %v %v %v", b, ok, err)
	}
	if l, ok, err := p.strings("t"); !slices.Equal(l, []string{"card"}) || !ok || err != nil {
		t.Errorf("t: %v %v %v", l, ok, err)
	}
	if m, ok, err := p.stringMap("m"); m["a"] != "1" || !ok || err != nil {
		t.Errorf("m: %v %v %v", m, ok, err)
	}
	if _, ok, _ := p.str("absent"); ok {
		t.Errorf("absent parameter found")
	}
	if _, _, err := p.str("m"); err == nil {
		t.Errorf("a hash read as a string")
	}
	pmd, _, _ := p.hash("pmd")
	card, _, _ := pmd.hash("card")
	if n, _, _ := card.str("number"); n != "4242" {
		t.Errorf("nested number %q", n)
	}
	// Unread parameters are refused, nested ones by their full name, first in order.
	var ae *apiError
	if err := p.done(); !errors.As(err, &ae) || ae.Param != "pmd[card][pin]" || ae.Code != "parameter_unknown" {
		t.Fatalf("done: %v", err)
	}
	card.str("pin")
	if err := p.done(); !errors.As(err, &ae) || ae.Param != "x" {
		t.Fatalf("done: %v", err)
	}
	p.str("x")
	if err := p.done(); err != nil {
		t.Fatalf("done after reading everything: %v", err)
	}
}

// FuzzDecodeForm: the decoder never panics, and whatever it accepts re-encodes to a
// canonical form it accepts again, unchanged. Any accepted, non-empty body has an unread
// parameter to report.
func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{
		"amount=1000&currency=usd&metadata[pos_tx]=T1&payment_method_types[]=card",
		"payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242",
		"expand[0]=latest_charge&expand[1]=payment_method",
		"a[]=1&a[]=2", "a[0][b]=1&a[1][b]=2", "metadata=", "a=1&a[b]=2", "a[b=1", "%5B%5D=1", "a=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := decodeForm(raw)
		if err != nil {
			var fe *formError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		enc := v.encode()
		v2, err := decodeForm(enc)
		if err != nil {
			t.Fatalf("canonical form %q of %q refused: %v", enc, raw, err)
		}
		if enc2 := v2.encode(); enc2 != enc {
			t.Fatalf("canonical form not stable: %q → %q", enc, enc2)
		}
		if err := newParams(v).done(); (err == nil) != (len(v.hash) == 0) {
			t.Fatalf("done() = %v for %d parameters", err, len(v.hash))
		}
	})
}
