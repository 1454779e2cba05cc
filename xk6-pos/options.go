package pos

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options are a flow's knobs: the basket model and what the flow does. They come from
// the `options:` of a scenario (ParseOptions); a key not given takes the default of the
// flow it is used with (see DefaultOptions). Rates and shares are fractions in [0, 1].
type Options struct {
	BasketSize BasketSize // lines per basket
	Tenders    Tenders    // tender mix

	KnownCustomerRate float64 // fraction of transactions by a customer of the world
	NewCustomerRate   float64 // fraction by a customer new to NetSuite (fresh identity)
	// SharedNewCustomers, when > 0, draws every new customer from a pool of that many
	// new identities shared by all stores, so the same new customer buys at several
	// stores at once (customer dedupe, catalog case C11).
	SharedNewCustomers int

	DiscountRate float64 // fraction of lines with a discount (10 to 30 % off)
	MisreadRate  float64 // fraction of scans read as an unknown barcode (404), then rescanned

	HotItems     HotItems // doorbuster items
	ZipfExponent float64  // popularity of the other items: weight of rank k is 1/k^s
	// SingleItemSKU makes every basket one unit of this SKU (catalog case C12).
	SingleItemSKU string

	DeclineRate           float64 // fraction of card payments presented with a declining card
	InsufficientFundsRate float64 // fraction presented with an insufficient-funds card
	AbandonOnDeclineRate  float64 // after a decline, fraction of customers who walk away
	// TerminalTimeoutRate is the fraction of card payments whose reader times out before
	// a card is presented: the register cancels the reader action and the intent, then
	// tries again.
	TerminalTimeoutRate float64

	ReturnPartialRate float64 // return/exchange: fraction returning only part of the sale
	RestockRate       float64 // return/exchange: fraction of returned lines put back on the shelf

	OfflineDuration  time.Duration // offline-resync: how long the registers lose the connector
	OfflineRegisters float64       // offline-resync: fraction of the stores' registers that go offline

	// ClockStart is the business clock's start: occurredAt = ClockStart + the real time
	// elapsed since the flow's first iteration. Zero: the real clock (offline-resync:
	// see DefaultOptions).
	ClockStart time.Time

	// Stores restricts the flow to these stores (location ids or names); StoreCount to
	// the first N stores in id order. Neither: every store.
	Stores     []string
	StoreCount int

	ScansPerIteration int     // peripheral-storm: lookups per iteration
	CompletionRate    float64 // peripheral-storm: fraction of iterations ending in a sale

	ThinkTime      time.Duration // pause between a cashier's steps
	SubmitRetryFor time.Duration // how long a register keeps resubmitting before queueing
	RequestTimeout time.Duration // per HTTP request
	BatchSize      int           // offline upload chunk, at most contract.MaxBatch

	set map[string]bool // keys given (ParseOptions or Set)
}

// BasketSize is the distribution of the number of lines in a basket.
type BasketSize struct {
	Mean         float64
	Max          int
	Distribution string // poisson (1 + Poisson(mean−1)), geometric, fixed
}

// Tenders is the tender mix: fractions of transactions adding up to 1.
type Tenders struct {
	Card, Cash, GiftCard float64
	Split                float64 // card and cash
}

// HotItems are the doorbuster items: Count items taking Share of all lines.
type HotItems struct {
	Count int
	Share float64
}

// Basket size distributions.
const (
	DistPoisson   = "poisson"
	DistGeometric = "geometric"
	DistFixed     = "fixed"
)

// optionKeys are the keys ParseOptions accepts, in documentation order.
var optionKeys = []string{
	"basketSize", "tenders", "knownCustomerRate", "newCustomerRate", "sharedNewCustomers",
	"discountRate", "misreadRate", "hotItems", "zipfExponent", "singleItemSKU",
	"declineRate", "insufficientFundsRate", "abandonOnDeclineRate", "terminalTimeoutRate",
	"returnPartialRate", "restockRate", "offlineDuration", "offlineRegisters", "clockStart",
	"stores", "scansPerIteration", "completionRate", "thinkTime", "submitRetryFor",
	"requestTimeout", "batchSize",
}

// DefaultOptions returns the options of flow with every key at its default. The
// defaults differ by flow only where noted: peripheral-storm misreads 2 % of scans
// (other flows 0; a misread's 404 is an expected status and does not count in
// http_req_failed); offline-resync's
// business clock starts at ClockStart = today's midnight UTC − OfflineDuration/2 (by
// the module's clock when the flow is made), so the offline window straddles midnight
// and a connector that dates offline sales by their sync time posts the first half on
// the wrong day.
func DefaultOptions(flow string) Options {
	o := Options{
		BasketSize:            BasketSize{Mean: 4, Max: 40, Distribution: DistPoisson},
		Tenders:               Tenders{Card: 0.70, Cash: 0.22, GiftCard: 0.03, Split: 0.05},
		KnownCustomerRate:     0.30,
		NewCustomerRate:       0.05,
		DiscountRate:          0.10,
		ZipfExponent:          1.0,
		DeclineRate:           0.02,
		InsufficientFundsRate: 0.01,
		AbandonOnDeclineRate:  0.30,
		ReturnPartialRate:     0.50,
		RestockRate:           0.70,
		OfflineDuration:       60 * time.Second,
		OfflineRegisters:      0.25,
		ScansPerIteration:     12,
		CompletionRate:        0.10,
		SubmitRetryFor:        15 * time.Second,
		RequestTimeout:        10 * time.Second,
		BatchSize:             1000,
	}
	if flow == FlowPeripheralStorm {
		o.MisreadRate = 0.02
	}
	return o
}

// IsSet reports whether key was given (by ParseOptions or Set).
func (o Options) IsSet(key string) bool { return o.set[key] }

// Set marks key as given, so that a zero value set in Go is kept rather than replaced
// by the flow's default.
func (o *Options) Set(key string) {
	if o.set == nil {
		o.set = map[string]bool{}
	}
	o.set[key] = true
}

// resolve fills every key that was not given and is zero with flow's default, and
// checks the result.
func (o Options) resolve(flow string) (Options, error) {
	d := DefaultOptions(flow)
	keep := func(key string, zero bool) bool { return o.set[key] || !zero }
	if !keep("basketSize", o.BasketSize == (BasketSize{})) {
		o.BasketSize = d.BasketSize
	}
	if o.BasketSize.Mean == 0 {
		o.BasketSize.Mean = d.BasketSize.Mean
	}
	if o.BasketSize.Max == 0 {
		o.BasketSize.Max = max(d.BasketSize.Max, int(math.Ceil(o.BasketSize.Mean)))
	}
	if o.BasketSize.Distribution == "" {
		o.BasketSize.Distribution = d.BasketSize.Distribution
	}
	if !keep("tenders", o.Tenders == (Tenders{})) {
		o.Tenders = d.Tenders
	}
	fill := func(key string, v *float64, def float64) {
		if !keep(key, *v == 0) {
			*v = def
		}
	}
	fill("knownCustomerRate", &o.KnownCustomerRate, d.KnownCustomerRate)
	fill("newCustomerRate", &o.NewCustomerRate, d.NewCustomerRate)
	fill("discountRate", &o.DiscountRate, d.DiscountRate)
	fill("misreadRate", &o.MisreadRate, d.MisreadRate)
	fill("zipfExponent", &o.ZipfExponent, d.ZipfExponent)
	fill("declineRate", &o.DeclineRate, d.DeclineRate)
	fill("insufficientFundsRate", &o.InsufficientFundsRate, d.InsufficientFundsRate)
	fill("abandonOnDeclineRate", &o.AbandonOnDeclineRate, d.AbandonOnDeclineRate)
	fill("returnPartialRate", &o.ReturnPartialRate, d.ReturnPartialRate)
	fill("restockRate", &o.RestockRate, d.RestockRate)
	fill("offlineRegisters", &o.OfflineRegisters, d.OfflineRegisters)
	fill("completionRate", &o.CompletionRate, d.CompletionRate)
	// A default never makes a given rate invalid: it yields what the given one leaves.
	if !o.set["newCustomerRate"] {
		o.NewCustomerRate = min(o.NewCustomerRate, max(0, 1-o.KnownCustomerRate))
	}
	if !o.set["knownCustomerRate"] {
		o.KnownCustomerRate = min(o.KnownCustomerRate, max(0, 1-o.NewCustomerRate))
	}
	if !o.set["insufficientFundsRate"] {
		o.InsufficientFundsRate = min(o.InsufficientFundsRate, max(0, 1-o.DeclineRate))
	}
	if !o.set["declineRate"] {
		o.DeclineRate = min(o.DeclineRate, max(0, 1-o.InsufficientFundsRate))
	}
	if o.HotItems.Count > 0 && o.HotItems.Share == 0 && !o.set["hotItems.share"] {
		o.HotItems.Share = 0.3
	}
	fillDur := func(key string, v *time.Duration, def time.Duration) {
		if *v == 0 && !o.set[key] {
			*v = def
		}
	}
	fillDur("offlineDuration", &o.OfflineDuration, d.OfflineDuration)
	fillDur("submitRetryFor", &o.SubmitRetryFor, d.SubmitRetryFor)
	fillDur("requestTimeout", &o.RequestTimeout, d.RequestTimeout)
	if o.ScansPerIteration == 0 {
		o.ScansPerIteration = d.ScansPerIteration
	}
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	return o, o.check()
}

// check validates resolved options.
func (o Options) check() error {
	bad := func(key, format string, args ...any) error {
		return &OptionError{Path: "options." + key, Msg: fmt.Sprintf(format, args...)}
	}
	b := o.BasketSize
	switch {
	case b.Mean < 1 || b.Mean > 1000:
		return bad("basketSize.mean", "expected a number from 1 to 1000, got %g", b.Mean)
	case b.Max < 1 || b.Max > 10000:
		return bad("basketSize.max", "expected an integer from 1 to 10000, got %d", b.Max)
	case float64(b.Max) < b.Mean:
		return bad("basketSize.max", "expected at least the mean (%g), got %d", b.Mean, b.Max)
	case !slices.Contains([]string{DistPoisson, DistGeometric, DistFixed}, b.Distribution):
		return bad("basketSize.distribution", "expected poisson, geometric or fixed, got %q", b.Distribution)
	}
	t := o.Tenders
	for _, f := range []struct {
		k string
		v float64
	}{{"card", t.Card}, {"cash", t.Cash}, {"gift_card", t.GiftCard}, {"split", t.Split}} {
		if f.v < 0 || f.v > 1 || math.IsNaN(f.v) {
			return bad("tenders."+f.k, "expected a fraction from 0 to 1, got %g", f.v)
		}
	}
	if sum := t.Card + t.Cash + t.GiftCard + t.Split; math.Abs(sum-1) > 1e-6 {
		return bad("tenders", "tender fractions must add up to 1, got %g", sum)
	}
	if s := o.KnownCustomerRate + o.NewCustomerRate; s > 1+1e-9 {
		return bad("newCustomerRate", "knownCustomerRate + newCustomerRate must be at most 1, got %g", s)
	}
	if s := o.DeclineRate + o.InsufficientFundsRate; s > 1+1e-9 {
		return bad("insufficientFundsRate", "declineRate + insufficientFundsRate must be at most 1, got %g", s)
	}
	if o.ZipfExponent < 0 || o.ZipfExponent > 10 {
		return bad("zipfExponent", "expected a number from 0 to 10, got %g", o.ZipfExponent)
	}
	if o.HotItems.Count < 0 || o.HotItems.Count > 10000 {
		return bad("hotItems.count", "expected an integer from 0 to 10000, got %d", o.HotItems.Count)
	}
	if o.HotItems.Share > 0 && o.HotItems.Count == 0 {
		return bad("hotItems", "a share of %g needs a count of at least 1", o.HotItems.Share)
	}
	if o.BatchSize < 1 || o.BatchSize > 1000 {
		return bad("batchSize", "expected an integer from 1 to 1000, got %d", o.BatchSize)
	}
	if o.OfflineDuration <= 0 {
		return bad("offlineDuration", "expected a positive duration, got %s", o.OfflineDuration)
	}
	if o.RequestTimeout <= 0 {
		return bad("requestTimeout", "expected a positive duration, got %s", o.RequestTimeout)
	}
	if o.ScansPerIteration < 1 || o.ScansPerIteration > 10000 {
		return bad("scansPerIteration", "expected an integer from 1 to 10000, got %d", o.ScansPerIteration)
	}
	return nil
}

// OptionError is a bad flow option: Path names it ("options.basketSize.mean").
type OptionError struct {
	Path string
	Msg  string
}

func (e *OptionError) Error() string { return e.Path + ": " + e.Msg }

// ParseOptions reads a scenario's `options:` (decoded JSON or YAML: maps, numbers,
// strings, lists). Unknown keys and values of the wrong type or range are errors naming
// the key. Keys (defaults in DefaultOptions):
//
//	basketSize: {mean: 4, max: 40, distribution: poisson|geometric|fixed}   (or just a number: the mean)
//	tenders: {card: 0.7, cash: 0.22, gift_card: 0.03, split: 0.05}         fractions adding up to 1
//	knownCustomerRate, newCustomerRate, sharedNewCustomers (pool size)
//	discountRate, misreadRate
//	hotItems: {count, share}, zipfExponent, singleItemSKU
//	declineRate, insufficientFundsRate, abandonOnDeclineRate, terminalTimeoutRate
//	returnPartialRate, restockRate
//	offlineDuration ("60s" or seconds), offlineRegisters, clockStart (RFC 3339)
//	stores (a count, or a list of location ids or names)
//	scansPerIteration, completionRate (peripheral-storm)
//	thinkTime, submitRetryFor, requestTimeout (durations), batchSize
func ParseOptions(m map[string]any) (Options, error) {
	var o Options
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p := optParser{}
	for _, k := range keys {
		if err := p.key(&o, k, m[k]); err != nil {
			return Options{}, err
		}
		o.Set(k)
		for _, sub := range p.sub {
			o.Set(k + "." + sub)
		}
		p.sub = nil
	}
	if _, err := o.resolve(""); err != nil {
		return Options{}, err // a bad combination: say so before the run
	}
	return o, nil
}

type optParser struct {
	sub []string // sub-keys given in the current object
}

func (p *optParser) key(o *Options, k string, v any) error {
	path := "options." + k
	var err error
	switch k {
	case "basketSize":
		if n, ok := number(v); ok {
			o.BasketSize.Mean = n
			p.sub = append(p.sub, "mean")
			return nil
		}
		err = p.object(path, v, map[string]func(string, any) error{
			"mean":         func(q string, v any) (e error) { o.BasketSize.Mean, e = num(q, v); return },
			"max":          func(q string, v any) (e error) { o.BasketSize.Max, e = integer(q, v); return },
			"distribution": func(q string, v any) (e error) { o.BasketSize.Distribution, e = str(q, v); return },
		})
	case "tenders":
		err = p.object(path, v, map[string]func(string, any) error{
			"card":      func(q string, v any) (e error) { o.Tenders.Card, e = fraction(q, v); return },
			"cash":      func(q string, v any) (e error) { o.Tenders.Cash, e = fraction(q, v); return },
			"gift_card": func(q string, v any) (e error) { o.Tenders.GiftCard, e = fraction(q, v); return },
			"split":     func(q string, v any) (e error) { o.Tenders.Split, e = fraction(q, v); return },
		})
		if err == nil {
			t := o.Tenders
			if sum := t.Card + t.Cash + t.GiftCard + t.Split; math.Abs(sum-1) > 1e-6 {
				return &OptionError{Path: path, Msg: fmt.Sprintf("tender fractions must add up to 1, got %g", sum)}
			}
		}
	case "hotItems":
		err = p.object(path, v, map[string]func(string, any) error{
			"count": func(q string, v any) (e error) { o.HotItems.Count, e = integer(q, v); return },
			"share": func(q string, v any) (e error) { o.HotItems.Share, e = fraction(q, v); return },
		})
	case "knownCustomerRate":
		o.KnownCustomerRate, err = fraction(path, v)
	case "newCustomerRate":
		o.NewCustomerRate, err = fraction(path, v)
	case "sharedNewCustomers":
		o.SharedNewCustomers, err = integer(path, v)
		if err == nil && (o.SharedNewCustomers < 0 || o.SharedNewCustomers > 1_000_000) {
			err = &OptionError{Path: path, Msg: fmt.Sprintf("expected a pool size from 0 to 1000000, got %d", o.SharedNewCustomers)}
		}
	case "discountRate":
		o.DiscountRate, err = fraction(path, v)
	case "misreadRate":
		o.MisreadRate, err = fraction(path, v)
	case "zipfExponent":
		o.ZipfExponent, err = num(path, v)
	case "singleItemSKU":
		o.SingleItemSKU, err = str(path, v)
	case "declineRate":
		o.DeclineRate, err = fraction(path, v)
	case "insufficientFundsRate":
		o.InsufficientFundsRate, err = fraction(path, v)
	case "abandonOnDeclineRate":
		o.AbandonOnDeclineRate, err = fraction(path, v)
	case "terminalTimeoutRate":
		o.TerminalTimeoutRate, err = fraction(path, v)
	case "returnPartialRate":
		o.ReturnPartialRate, err = fraction(path, v)
	case "restockRate":
		o.RestockRate, err = fraction(path, v)
	case "offlineDuration":
		o.OfflineDuration, err = duration(path, v)
	case "offlineRegisters":
		o.OfflineRegisters, err = fraction(path, v)
	case "clockStart":
		var s string
		if s, err = str(path, v); err == nil {
			if o.ClockStart, err = time.Parse(time.RFC3339Nano, s); err != nil {
				err = &OptionError{Path: path, Msg: fmt.Sprintf("expected an RFC 3339 time like \"2025-11-27T23:59:30Z\", got %q", s)}
			}
		}
	case "stores":
		err = storesOption(o, path, v)
	case "scansPerIteration":
		o.ScansPerIteration, err = integer(path, v)
	case "completionRate":
		o.CompletionRate, err = fraction(path, v)
	case "thinkTime":
		o.ThinkTime, err = duration(path, v)
	case "submitRetryFor":
		o.SubmitRetryFor, err = duration(path, v)
	case "requestTimeout":
		o.RequestTimeout, err = duration(path, v)
	case "batchSize":
		o.BatchSize, err = integer(path, v)
	default:
		msg := "unknown key"
		if s := suggest(k, optionKeys); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += " (known: " + strings.Join(optionKeys, ", ") + ")"
		}
		return &OptionError{Path: path, Msg: msg}
	}
	return err
}

func storesOption(o *Options, path string, v any) error {
	if n, ok := number(v); ok {
		if n != math.Trunc(n) || n < 1 || n > 1e6 {
			return &OptionError{Path: path, Msg: fmt.Sprintf("expected a positive number of stores or a list of location ids or names, got %v", v)}
		}
		o.StoreCount = int(n)
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		if ss, ok2 := v.([]string); ok2 {
			for _, s := range ss {
				list = append(list, s)
			}
			ok = true
		}
	}
	if !ok || len(list) == 0 {
		return &OptionError{Path: path, Msg: fmt.Sprintf("expected a positive number of stores or a non-empty list of location ids or names, got %s", describe(v))}
	}
	for i, e := range list {
		s, err := str(fmt.Sprintf("%s[%d]", path, i), e)
		if err != nil {
			return err
		}
		if n, ok := number(e); ok {
			s = fmt.Sprint(n)
		}
		o.Stores = append(o.Stores, s)
	}
	return nil
}

// object reads a nested options object, each key with its setter.
func (p *optParser) object(path string, v any, fields map[string]func(string, any) error) error {
	m, ok := v.(map[string]any)
	if !ok {
		return &OptionError{Path: path, Msg: "expected an object, got " + describe(v)}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set, ok := fields[k]
		if !ok {
			known := make([]string, 0, len(fields))
			for f := range fields {
				known = append(known, f)
			}
			sort.Strings(known)
			msg := "unknown key"
			if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known: " + strings.Join(known, ", ") + ")"
			}
			return &OptionError{Path: path + "." + k, Msg: msg}
		}
		if err := set(path+"."+k, m[k]); err != nil {
			return err
		}
		p.sub = append(p.sub, k)
	}
	return nil
}

// number reads any Go numeric type (JSON float64, YAML int/uint64, json.Number).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func num(path string, v any) (float64, error) {
	n, ok := number(v)
	if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, &OptionError{Path: path, Msg: "expected a number, got " + describe(v)}
	}
	return n, nil
}

func fraction(path string, v any) (float64, error) {
	n, err := num(path, v)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 1 {
		return 0, &OptionError{Path: path, Msg: fmt.Sprintf("expected a fraction from 0 to 1, got %g", n)}
	}
	return n, nil
}

func integer(path string, v any) (int, error) {
	n, ok := number(v)
	if !ok || n != math.Trunc(n) || math.Abs(n) > 1e9 {
		return 0, &OptionError{Path: path, Msg: "expected an integer, got " + describe(v)}
	}
	return int(n), nil
}

func str(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &OptionError{Path: path, Msg: "expected a string, got " + describe(v)}
	}
	return s, nil
}

// duration reads a Go duration string ("30s", "1m30s") or a number of seconds.
func duration(path string, v any) (time.Duration, error) {
	if n, ok := number(v); ok {
		if n < 0 || n > 1e7 || math.IsNaN(n) {
			return 0, &OptionError{Path: path, Msg: fmt.Sprintf("expected a non-negative duration, got %g seconds", n)}
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, &OptionError{Path: path, Msg: "expected a duration like \"30s\", got " + describe(v)}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, &OptionError{Path: path, Msg: fmt.Sprintf("expected a non-negative duration like \"30s\", got %q", s)}
	}
	return d, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	if n, ok := number(v); ok {
		return fmt.Sprintf("number %g", n)
	}
	return fmt.Sprintf("%T", v)
}

// suggest returns the known key closest to k (case-insensitive, edit distance ≤ 3).
func suggest(k string, known []string) string {
	best, bestD := "", 4
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := editDistance(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
