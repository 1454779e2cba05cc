package certify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// SchemaVersion is the version of certificate.json's schema (certify/SCHEMA.md). It
// changes when a field is renamed or removed or changes meaning; added fields keep it.
const SchemaVersion = 1

// Schema names the certificate format in certificate.json's "schema" field.
const Schema = "https://github.com/doorbuster/doorbuster/certify/SCHEMA.md"

// The certificate's verdicts.
const (
	Certified    = "CERTIFIED"
	NotCertified = "NOT CERTIFIED"
)

// Case verdicts.
const (
	CasePass   = "pass"
	CaseFail   = "fail"    // an invariant, threshold, contract check or the drain failed
	CaseError  = "error"   // the case could not be run to its end (setup, an action, an interrupt)
	CaseNotRun = "not-run" // the suite stopped before the case
)

// Files written into the certificate directory.
const (
	JSONFile     = "certificate.json"
	HTMLFile     = "certificate.html"
	JUnitFile    = "junit.xml"
	MarkdownFile = "summary.md"
	CasesDir     = "cases"
)

// Certificate is certificate.json: the verdict of a certification suite run against
// one connector, with every case's evidence. The digest covers everything else.
type Certificate struct {
	Schema        string `json:"schema"`
	SchemaVersion int    `json:"schemaVersion"`
	// Verdict is CERTIFIED when every case passed, else NOT CERTIFIED.
	Verdict string `json:"verdict"`
	Summary Tally  `json:"summary"`

	Connector  ConnectorInfo `json:"connector"`
	Doorbuster Generator     `json:"doorbuster"`
	Suite      string        `json:"suite"`
	// Selected are the case ids given with --case (empty: the whole suite).
	Selected []string    `json:"selected,omitempty"`
	Catalog  CatalogInfo `json:"catalog"`
	// Seed is the seed of every case (world, baskets, faults): the cases' files' own,
	// or --seed.
	Seed  int64     `json:"seed"`
	World WorldInfo `json:"world"`

	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	DurationMs float64   `json:"durationMs"`

	Cases []CaseResult `json:"cases"`

	// Digest is "sha256:<hex>" of the certificate's canonical JSON without this field
	// (see Canonical).
	Digest string `json:"digest,omitempty"`
}

// Tally counts the cases by verdict.
type Tally struct {
	Cases  int `json:"cases"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	Errors int `json:"errors"`
	NotRun int `json:"notRun"`
}

// ConnectorInfo identifies the connector under test.
type ConnectorInfo struct {
	// Mode is embedded (the reference connector in Doorbuster), url or image.
	Mode string `json:"mode"`
	// URL is the connector's base URL (url mode).
	URL string `json:"url,omitempty"`
	// Version is what the connector reports (GET /healthz or /openapi.yaml info.version),
	// or Doorbuster's for the embedded reference connector.
	Version string `json:"version,omitempty"`
	// Image and ImageDigest identify a connector image (image mode): the name as given
	// and its content digest (repo digest when pushed, else the local image id).
	Image       string `json:"image,omitempty"`
	ImageDigest string `json:"imageDigest,omitempty"`
	// Reference: the connector is Doorbuster's reference connector; Bugs its bug
	// switches that were on.
	Reference bool     `json:"reference"`
	Bugs      []string `json:"bugs,omitempty"`
}

// Generator identifies the Doorbuster that issued the certificate.
type Generator struct {
	Version string `json:"version"`
}

// CatalogInfo identifies the catalog the suite came from.
type CatalogInfo struct {
	// Version is "sha256:<hex>" over every case file: the same catalog, the same version.
	Version string `json:"version"`
	Dir     string `json:"dir"`
	Cases   int    `json:"cases"`
}

// WorldInfo is the fixture world the cases ran in.
type WorldInfo struct {
	Size string `json:"size"`
	Seed int64  `json:"seed"`
}

// CaseResult is one case's verdict and the evidence behind it.
type CaseResult struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Proves string `json:"proves"`
	// Verdict is pass, fail, error or not-run.
	Verdict string `json:"verdict"`
	// Reasons say why a case did not pass, each naming the invariant, threshold,
	// contract check or step that failed.
	Reasons []string `json:"reasons,omitempty"`

	// File is the case file (relative to the working directory) and FileHash its
	// "sha256:<hex>".
	File     string `json:"file"`
	FileHash string `json:"fileHash"`
	Seed     int64  `json:"seed"`
	// Mode is how the case ran: embedded, url, image, or embedded-process (the reference
	// connector as a child process, so that it can be killed).
	Mode string `json:"mode,omitempty"`

	StartedAt  time.Time `json:"startedAt"`
	DurationMs float64   `json:"durationMs"`

	// RunDir is the case's run directory and Report its report, relative to the
	// certificate's directory ("" when the case wrote none).
	RunDir string `json:"runDir"`
	Report string `json:"report,omitempty"`

	Invariants []InvariantResult `json:"invariants"`
	Thresholds []ThresholdResult `json:"thresholds"`
	// Checks are the contract conformance checks (C00).
	Checks  []CheckResult  `json:"checks,omitempty"`
	Actions []ActionResult `json:"actions,omitempty"`
	KPIs    *CaseKPIs      `json:"kpis,omitempty"`
}

// InvariantResult is one invariant the case asserted.
type InvariantResult struct {
	ID        string `json:"id"`
	Statement string `json:"statement"`
	// Verdict is pass, fail, not-applicable or error.
	Verdict    string `json:"verdict"`
	Reason     string `json:"reason,omitempty"`
	Violations int64  `json:"violations"`
	// Evidence are the first violations (at most 3; the run's report has more).
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one violation.
type Evidence struct {
	TxID     string `json:"txId,omitempty"`
	What     string `json:"what"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// ThresholdResult is one threshold the case asserted.
type ThresholdResult struct {
	Metric     string   `json:"metric"`
	Expression string   `json:"expression"`
	OK         bool     `json:"ok"`
	Observed   *float64 `json:"observed"`
	Message    string   `json:"message,omitempty"`
	// Source says who evaluated it: "engine", or "certify" for a sync-latency threshold
	// evaluated from the books after the drain.
	Source string `json:"source"`
}

// CheckResult is one contract conformance check.
type CheckResult struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"`
}

// ActionResult is one action played on the connector during the traffic.
type ActionResult struct {
	Do string `json:"do"`
	// AtMs is when it was due and DoneMs when it was done, from the start of the traffic.
	AtMs   float64 `json:"atMs"`
	DoneMs float64 `json:"doneMs"`
	Error  string  `json:"error,omitempty"`
}

// CaseKPIs are a case's headline numbers (nil fields: nothing measured).
type CaseKPIs struct {
	Transactions       *float64 `json:"transactions"`
	CheckoutP95Ms      *float64 `json:"checkoutP95Ms"`
	SyncLatencyP95Ms   *float64 `json:"syncLatencyP95Ms"`
	SyncLatencyMaxMs   *float64 `json:"syncLatencyMaxMs"`
	DrainTimeMs        *float64 `json:"drainTimeMs"`
	PostingAccuracyPct *float64 `json:"postingAccuracyPct"`
	FaultsInjected     *int64   `json:"faultsInjected"`
}

// Passed reports whether the case passed.
func (c *CaseResult) Passed() bool { return c.Verdict == CasePass }

// finish sets the tally and the verdict from the cases.
func (c *Certificate) finish() {
	t := Tally{Cases: len(c.Cases)}
	for _, r := range c.Cases {
		switch r.Verdict {
		case CasePass:
			t.Passed++
		case CaseFail:
			t.Failed++
		case CaseError:
			t.Errors++
		default:
			t.NotRun++
		}
	}
	c.Summary = t
	c.Verdict = NotCertified
	if t.Cases > 0 && t.Passed == t.Cases {
		c.Verdict = Certified
	}
}

// Seal sets the certificate's digest.
func (c *Certificate) Seal() error {
	c.Digest = ""
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("certify: encode the certificate: %w", err)
	}
	d, _, err := Canonical(b)
	if err != nil {
		return err
	}
	c.Digest = digestOf(d)
	return nil
}

func digestOf(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Canonical returns the canonical form of a certificate document and the digest it
// records. The canonical form is the document's JSON value without its top-level
// "digest" member, written with object members sorted by key (byte order), no
// insignificant whitespace, numbers exactly as written in the document, and strings
// escaped as Go's encoding/json does with HTML escaping off. The digest is SHA-256 of
// it: any change of a value — a verdict, a count, a name — changes the digest, while
// re-indenting the file does not.
func Canonical(doc []byte) (canonical []byte, recorded string, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "", fmt.Errorf("certify: the certificate is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", errors.New("certify: the certificate has data after its JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", errors.New("certify: the certificate is not a JSON object")
	}
	if d, ok := m["digest"]; ok {
		recorded, _ = d.(string)
		delete(m, "digest")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, "", fmt.Errorf("certify: canonical form: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), recorded, nil
}

// WriteJSON writes the certificate as indented JSON.
func (c *Certificate) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(c)
}

// ReadJSON reads certificate.json.
func ReadJSON(path string) (*Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	var c Certificate
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("certify: %s: %w", path, err)
	}
	return &c, nil
}

// WriteFiles seals the certificate and writes certificate.json, certificate.html,
// junit.xml and summary.md into dir.
func (c *Certificate) WriteFiles(dir string) error {
	if err := c.Seal(); err != nil {
		return err
	}
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{JSONFile, c.WriteJSON},
		{HTMLFile, c.WriteHTML},
		{JUnitFile, c.WriteJUnit},
		{MarkdownFile, c.WriteMarkdown},
	}
	for _, w := range writers {
		var buf bytes.Buffer
		if err := w.write(&buf); err != nil {
			return fmt.Errorf("certify: %s: %w", w.name, err)
		}
		if err := writeFileAtomic(filepath.Join(dir, w.name), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("certify: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("certify: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("certify: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("certify: %w", err)
	}
	return nil
}
