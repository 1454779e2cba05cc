// Package money provides Amount, an exact amount of a currency's major unit held in
// cents, which marshals to and from JSON as a decimal number with two decimals
// (12.5 dollars is written 12.50). Every price, tax and tender in Doorbuster is an
// Amount so that books, journal and contract agree to the cent.
package money

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Amount is a signed number of cents.
type Amount int64

// FromCents returns the Amount of c cents.
func FromCents(c int64) Amount { return Amount(c) }

// FromFloat rounds f major units half away from zero to the nearest cent.
func FromFloat(f float64) Amount { return Amount(math.Round(f * 100)) }

// Cents returns a as a number of cents.
func (a Amount) Cents() int64 { return int64(a) }

// Float returns a in major units; use it only for display or for APIs that speak floats.
func (a Amount) Float() float64 { return float64(a) / 100 }

// Mul returns a × q rounded half away from zero to the cent (a line's price × quantity).
func (a Amount) Mul(q float64) Amount { return Amount(math.Round(float64(a) * q)) }

// Percent returns rate percent of a, rounded half away from zero to the cent
// (tax of 8.625 % on an amount).
func (a Amount) Percent(rate float64) Amount { return Amount(math.Round(float64(a) * rate / 100)) }

// String formats a as a decimal with two decimals, e.g. "-12.05".
func (a Amount) String() string {
	sign := ""
	c := int64(a)
	if c < 0 {
		sign = "-"
		c = -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// MarshalJSON writes a as a JSON number with two decimals.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalJSON reads a JSON number (or a string holding one) with at most two
// decimals; more decimals are an error rather than a silent rounding.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return fmt.Errorf("money: %q is not an amount", string(b))
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Parse reads a decimal such as "12", "12.5", "-0.05" or "1e2" with at most two
// decimals of precision.
func Parse(s string) (Amount, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("money: %q is not a number", s)
	}
	if math.Abs(f) > 9e15/100 {
		return 0, fmt.Errorf("money: %q is out of range", s)
	}
	c := math.Round(f * 100)
	if math.Abs(c-f*100) > 1e-6*math.Max(1, math.Abs(c)) {
		return 0, fmt.Errorf("money: %q has more than two decimals", s)
	}
	return Amount(c), nil
}
