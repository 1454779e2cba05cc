package pos

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string // JSON, as a scenario file decodes
		want func(o Options) bool
		err  string
	}{
		{name: "empty takes the defaults", in: `{}`,
			want: func(o Options) bool { return o.BasketSize.Mean == 4 && o.Tenders.Card == 0.7 && o.DeclineRate == 0.02 }},
		{name: "basket and tenders", in: `{"basketSize": {"mean": 6, "max": 12, "distribution": "geometric"}, "tenders": {"card": 0.5, "cash": 0.5}}`,
			want: func(o Options) bool {
				return o.BasketSize == BasketSize{6, 12, DistGeometric} && o.Tenders == Tenders{Card: 0.5, Cash: 0.5}
			}},
		{name: "basket as a number", in: `{"basketSize": 2.5}`,
			want: func(o Options) bool { return o.BasketSize.Mean == 2.5 && o.BasketSize.Max == 40 }},
		{name: "explicit zero kept", in: `{"declineRate": 0, "knownCustomerRate": 0}`,
			want: func(o Options) bool {
				return o.DeclineRate == 0 && o.KnownCustomerRate == 0 && o.InsufficientFundsRate == 0.01
			}},
		{name: "a given rate wins over a default", in: `{"knownCustomerRate": 1}`,
			want: func(o Options) bool { return o.KnownCustomerRate == 1 && o.NewCustomerRate == 0 }},
		{name: "durations as strings or seconds", in: `{"offlineDuration": "90s", "thinkTime": 0.25}`,
			want: func(o Options) bool {
				return o.OfflineDuration == 90*time.Second && o.ThinkTime == 250*time.Millisecond
			}},
		{name: "clock start", in: `{"clockStart": "2025-11-27T23:59:30Z"}`,
			want: func(o Options) bool { return o.ClockStart.Equal(time.Date(2025, 11, 27, 23, 59, 30, 0, time.UTC)) }},
		{name: "stores by count", in: `{"stores": 2}`, want: func(o Options) bool { return o.StoreCount == 2 }},
		{name: "stores by list", in: `{"stores": ["1", "Store 002 San Francisco"]}`,
			want: func(o Options) bool { return len(o.Stores) == 2 && o.Stores[1] == "Store 002 San Francisco" }},
		{name: "hot items share defaults", in: `{"hotItems": {"count": 4}}`,
			want: func(o Options) bool { return o.HotItems == HotItems{4, 0.3} }},
		{name: "all the others", in: `{"sharedNewCustomers": 3, "misreadRate": 0.1, "zipfExponent": 1.3, "singleItemSKU": "X",
			"abandonOnDeclineRate": 0.5, "terminalTimeoutRate": 0.1, "returnPartialRate": 1, "restockRate": 0,
			"offlineRegisters": 1, "scansPerIteration": 30, "completionRate": 0.2, "submitRetryFor": "1m",
			"requestTimeout": "2s", "batchSize": 250, "newCustomerRate": 0.2, "insufficientFundsRate": 0.1, "discountRate": 0.4}`,
			want: func(o Options) bool {
				return o.SharedNewCustomers == 3 && o.BatchSize == 250 && o.RestockRate == 0 && o.SubmitRetryFor == time.Minute
			}},
		{name: "unknown key", in: `{"basketsize": {"mean": 3}}`, err: `options.basketsize: unknown key (did you mean "basketSize"?)`},
		{name: "unknown nested key", in: `{"tenders": {"card": 1, "cheque": 0}}`, err: `options.tenders.cheque: unknown key`},
		{name: "tenders not adding up", in: `{"tenders": {"card": 0.8, "cash": 0.3}}`, err: `options.tenders: tender fractions must add up to 1, got 1.1`},
		{name: "wrong type", in: `{"discountRate": "high"}`, err: `options.discountRate: expected a number, got string "high"`},
		{name: "fraction out of range", in: `{"misreadRate": 1.5}`, err: `options.misreadRate: expected a fraction from 0 to 1, got 1.5`},
		{name: "not an integer", in: `{"batchSize": 2.5}`, err: `options.batchSize: expected an integer, got number 2.5`},
		{name: "batch too large", in: `{"batchSize": 5000}`, err: `options.batchSize: expected an integer from 1 to 1000, got 5000`},
		{name: "bad duration", in: `{"offlineDuration": "soon"}`, err: `options.offlineDuration: expected a non-negative duration like "30s", got "soon"`},
		{name: "bad clock", in: `{"clockStart": "yesterday"}`, err: `options.clockStart: expected an RFC 3339 time`},
		{name: "bad distribution", in: `{"basketSize": {"distribution": "normal"}}`, err: `options.basketSize.distribution: expected poisson, geometric or fixed`},
		{name: "max below mean", in: `{"basketSize": {"mean": 10, "max": 5}}`, err: `options.basketSize.max: expected at least the mean (10), got 5`},
		{name: "customer rates over 1", in: `{"knownCustomerRate": 0.8, "newCustomerRate": 0.3}`, err: `options.newCustomerRate: knownCustomerRate + newCustomerRate must be at most 1`},
		{name: "share without count", in: `{"hotItems": {"share": 0.5}}`, err: `options.hotItems: a share of 0.5 needs a count of at least 1`},
		{name: "stores empty list", in: `{"stores": []}`, err: `options.stores: expected a positive number of stores or a non-empty list`},
		{name: "stores wrong element", in: `{"stores": [true]}`, err: `options.stores[0]: expected a string, got boolean true`},
		{name: "nested not an object", in: `{"hotItems": 3}`, err: `options.hotItems: expected an object, got number 3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.in), &m); err != nil {
				t.Fatal(err)
			}
			o, err := ParseOptions(m)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := o.resolve(FlowSale)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(r) {
				t.Errorf("resolved options %+v", r)
			}
		})
	}
}

// YAML decoders give integers as int64 or uint64: they are numbers too.
func TestParseOptionsYAMLNumbers(t *testing.T) {
	o, err := ParseOptions(map[string]any{"basketSize": map[string]any{"mean": uint64(3), "max": int64(9)}, "batchSize": 100})
	if err != nil {
		t.Fatal(err)
	}
	if o.BasketSize.Mean != 3 || o.BasketSize.Max != 9 || o.BatchSize != 100 {
		t.Errorf("%+v", o)
	}
}

func TestFlowDefaults(t *testing.T) {
	storm, err := Options{}.resolve(FlowPeripheralStorm)
	if err != nil {
		t.Fatal(err)
	}
	sale, _ := Options{}.resolve(FlowSale)
	if storm.MisreadRate != 0.02 || sale.MisreadRate != 0 {
		t.Errorf("misread rates: storm %g, sale %g", storm.MisreadRate, sale.MisreadRate)
	}
	o := Options{}
	o.Set("misreadRate")
	if r, _ := o.resolve(FlowPeripheralStorm); r.MisreadRate != 0 {
		t.Errorf("an explicit 0 misread rate became %g", r.MisreadRate)
	}
}

func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"basketSize": {"mean": 4, "max": 40}}`, `{"tenders": {"card": 0.5, "cash": 0.5}}`,
		`{"stores": [1, "2"]}`, `{"offlineDuration": "1m", "clockStart": "2025-11-27T23:59:30Z"}`,
		`{"hotItems": {"count": 1e9}}`, `{"basketSize": -1}`, `{"batchSize": 1e300}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		o, err := ParseOptions(m)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "options") {
				t.Fatalf("error without a path: %v", err)
			}
			return
		}
		if _, err := o.resolve(FlowSale); err != nil {
			t.Fatalf("ParseOptions accepted %s but it does not resolve: %v", s, err)
		}
	})
}
