package certify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/doorbuster/doorbuster/scenarios"
)

// Suites.
const (
	// SuitePilot is the short suite of the pilot-store gate: under 10 minutes.
	SuitePilot = "pilot"
	// SuiteFull is every case: under an hour.
	SuiteFull = "full"
)

// Suites returns the suite names in order of length.
func Suites() []string { return []string{SuitePilot, SuiteFull} }

// DefaultCatalogDir is where the catalog's case files live, relative to the repository.
const DefaultCatalogDir = "scenarios/certification"

// Case is one certification case: a scenario file with certification metadata.
type Case struct {
	ID     string
	Title  string
	Proves string
	// Duration is the case's expected wall-clock time (traffic, drain and checks).
	Duration time.Duration
	// Suites the case belongs to (the full suite always holds every case).
	Suites []string
	// Path is the case's scenario file; File is it, loaded.
	Path string
	File *scenarios.File
	// Hash is "sha256:<hex>" of the file's bytes.
	Hash string
	// Contract: the case runs the contract conformance test before its traffic.
	Contract bool
	// Actions are the file's timeline of actions on the system under test (kill,
	// restart, partition, …), relative to the start of the traffic.
	Actions []Action
}

// In reports whether the case belongs to suite.
func (c *Case) In(suite string) bool {
	return suite == SuiteFull || slices.Contains(c.Suites, suite)
}

// Invariants returns the ids of the invariants the case asserts: the checker's built-in
// ones less the file's invariants.skip, then its custom ones.
func (c *Case) Invariants() []string {
	var out []string
	for _, id := range scenarios.BuiltinInvariants() {
		if !slices.Contains(c.File.Invariants.Skip, id) {
			out = append(out, id)
		}
	}
	for _, ci := range c.File.Invariants.Custom {
		out = append(out, ci.ID)
	}
	return out
}

// Thresholds returns the case's thresholds as "metric expression", sorted by metric
// (as the engine reports them).
func (c *Case) Thresholds() []string {
	keys := make([]string, 0, len(c.File.Thresholds))
	for k := range c.File.Thresholds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		for _, t := range c.File.Thresholds[k] {
			out = append(out, k+" "+t.Expr)
		}
	}
	return out
}

// Catalog is the certification catalog: every case file of a directory.
type Catalog struct {
	Dir string
	// Cases in id order.
	Cases []*Case
	// Version is "sha256:<hex>" over the case files' names and contents: it changes
	// whenever any case changes.
	Version string
}

// LoadCatalog reads every *.yaml file of dir as a case. Each must be a valid scenario
// file with certification metadata whose id is the file's base name; ids are unique
// and the pilot suite is not empty.
func LoadCatalog(dir string) (*Catalog, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("certify: catalog %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("certify: catalog %s: no case files (*.yaml)", dir)
	}
	sort.Strings(paths)
	cat := &Catalog{Dir: dir}
	h := sha256.New()
	var errs []error
	seen := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("certify: %w", err))
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(p), len(data))
		h.Write(data)
		c, err := loadCase(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := seen[c.ID]; ok {
			errs = append(errs, fmt.Errorf("certify: %s: case id %s is also the id of %s", p, c.ID, prev))
			continue
		}
		seen[c.ID] = p
		cat.Cases = append(cat.Cases, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(cat.Cases, func(i, j int) bool { return cat.Cases[i].ID < cat.Cases[j].ID })
	if !slices.ContainsFunc(cat.Cases, func(c *Case) bool { return c.In(SuitePilot) }) {
		return nil, fmt.Errorf("certify: catalog %s: no case belongs to the %s suite", dir, SuitePilot)
	}
	cat.Version = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return cat, nil
}

// loadCase checks one case file.
func loadCase(path string, data []byte) (*Case, error) {
	f, err := scenarios.Parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	m := f.Certification
	if m == nil {
		return nil, fmt.Errorf("certify: %s: not a certification case: it has no certification: {id, title, proves} metadata", path)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if m.ID != base {
		return nil, fmt.Errorf("certify: %s: certification.id is %q but the file is named %s.yaml: name the file after the case", path, m.ID, base)
	}
	sum := sha256.Sum256(data)
	c := &Case{
		ID: m.ID, Title: m.Title, Proves: m.Proves, Duration: m.Duration.Std(),
		Suites: m.Suites, Path: path, File: f, Hash: "sha256:" + hex.EncodeToString(sum[:]),
	}
	if len(c.Suites) == 0 {
		c.Suites = []string{SuiteFull}
	}
	c.Contract, c.Actions = isContract(c.ID), timeline(f)
	return c, nil
}

// Select returns the cases to run: those of suite, or, when ids are given, those
// (an id may be given by its prefix, "C06" for "C06-lost-response"), in catalog order.
func (cat *Catalog) Select(suite string, ids []string) ([]*Case, error) {
	if !slices.Contains(Suites(), suite) {
		return nil, fmt.Errorf("unknown suite %q: want %s", suite, strings.Join(Suites(), " or "))
	}
	if len(ids) == 0 {
		var out []*Case
		for _, c := range cat.Cases {
			if c.In(suite) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	want := map[*Case]bool{}
	for _, id := range ids {
		c, err := cat.find(id)
		if err != nil {
			return nil, err
		}
		want[c] = true
	}
	var out []*Case
	for _, c := range cat.Cases {
		if want[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// find returns the case with id, or the only case whose id starts with id followed
// by "-".
func (cat *Catalog) find(id string) (*Case, error) {
	var match []*Case
	for _, c := range cat.Cases {
		if strings.EqualFold(c.ID, id) {
			return c, nil
		}
		if strings.HasPrefix(strings.ToUpper(c.ID), strings.ToUpper(id)+"-") {
			match = append(match, c)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	ids := make([]string, len(cat.Cases))
	for i, c := range cat.Cases {
		ids[i] = c.ID
	}
	return nil, fmt.Errorf("--case %s: no such case (the catalog has %s)", id, strings.Join(ids, ", "))
}

// WriteList prints the catalog for `doorbuster certify --list`: one block per case with
// its id, suites, expected duration, title and what it proves, then each suite's total.
func (cat *Catalog) WriteList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tSUITES\tDURATION\tTITLE\n")
	for _, c := range cat.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, strings.Join(suitesOf(c), ","), fmtDuration(c.Duration), c.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, c := range cat.Cases {
		fmt.Fprintf(w, "%s — %s\n", c.ID, c.Title)
		fmt.Fprintf(w, "  proves: %s\n", c.Proves)
		if c.Contract {
			fmt.Fprintf(w, "  runs:   the contract conformance test, then %s\n", filepath.ToSlash(c.Path))
		} else {
			fmt.Fprintf(w, "  runs:   %s\n", filepath.ToSlash(c.Path))
		}
		for _, a := range c.Actions {
			fmt.Fprintf(w, "          at %s: %s\n", fmtDuration(a.At), a.Do)
		}
		fmt.Fprintf(w, "  checks: %s\n", strings.Join(c.Invariants(), ", "))
		if th := c.Thresholds(); len(th) > 0 {
			fmt.Fprintf(w, "          %s\n", strings.Join(th, "; "))
		}
	}
	fmt.Fprintln(w)
	for _, s := range Suites() {
		var n int
		var d time.Duration
		for _, c := range cat.Cases {
			if c.In(s) {
				n++
				d += c.Duration
			}
		}
		fmt.Fprintf(w, "suite %-5s %2d cases, about %s\n", s, n, fmtDuration(d))
	}
	_, err := fmt.Fprintf(w, "catalog %s (%s)\n", cat.Version, filepath.ToSlash(cat.Dir))
	return err
}

// suitesOf lists the suites a case is in.
func suitesOf(c *Case) []string {
	var out []string
	for _, s := range Suites() {
		if c.In(s) {
			out = append(out, s)
		}
	}
	return out
}

// fmtDuration formats d like "1m30s", "45s", "9m".
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "?"
	}
	return scenarios.Duration(d.Round(time.Second)).String()
}
