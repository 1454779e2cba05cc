package certify

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed certificate.html.tmpl
var htmlTemplate string

// The markers of certificate.html that verification reads.
const (
	// jsonScriptOpen starts the embedded certificate JSON; the next "</script>" ends it.
	jsonScriptOpen = `<script type="application/json" id="doorbuster-certificate">`
	jsonScriptEnd  = `</script>`
	// pagePlaceholder stands for the page digest while the page is hashed.
	pagePlaceholder = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
)

// pageDigestRE finds the page digest: SHA-256 of the page with this value replaced by
// pagePlaceholder.
var pageDigestRE = regexp.MustCompile(`<meta name="doorbuster-page-digest" content="(sha256:[0-9a-f]{64})">`)

func newHTMLTemplate() (*template.Template, error) {
	return template.New("certificate").Funcs(template.FuncMap{
		"join": strings.Join,
		"ms":   fmtMs,
		"observed": func(v *float64) string {
			if v == nil {
				return "no data"
			}
			return strconv.FormatFloat(*v, 'f', -1, 64)
		},
		"failedInvariants": func(in []InvariantResult) []InvariantResult {
			var out []InvariantResult
			for _, r := range in {
				if r.Verdict == "fail" || r.Verdict == "error" {
					out = append(out, r)
				}
			}
			return out
		},
	}).Parse(htmlTemplate)
}

// fmtMs formats milliseconds as a short duration ("41s", "2m05s", "850ms").
func fmtMs(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// WriteHTML writes certificate.html: one self-contained page (inline CSS, no script
// that runs, nothing fetched) with the verdict, the connector's identity, one row per
// case and relative links to the cases' reports. The certificate's JSON is embedded in
// a <script type="application/json" id="doorbuster-certificate"> element, and the page
// carries its own digest (meta doorbuster-page-digest), so that `certify verify` can
// tell an edit of the visible page from an edit of the data. Seal the certificate
// first; the page is a function of the certificate alone.
func (c *Certificate) WriteHTML(w io.Writer) error {
	t, err := newHTMLTemplate()
	if err != nil {
		return fmt.Errorf("certify: template: %w", err)
	}
	data, err := json.Marshal(c) // escapes <, > and &: safe inside the script element
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]any{
		"C":             c,
		"Certified":     c.Verdict == Certified,
		"ConnectorName": c.Connector.Name(),
		"Date":          c.FinishedAt.UTC().Format("2 January 2006"),
		"PageDigest":    pagePlaceholder,
		"JSON":          template.JS(data),
	})
	if err != nil {
		return fmt.Errorf("certify: render the certificate: %w", err)
	}
	page := buf.Bytes()
	sum := sha256.Sum256(page)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	page = bytes.Replace(page, []byte(pagePlaceholder), []byte(digest), 1)
	_, err = w.Write(page)
	return err
}

// Name is a one-line name of the connector: its image, URL, or "Doorbuster's reference
// connector".
func (ci ConnectorInfo) Name() string {
	var s string
	switch {
	case ci.Image != "":
		s = ci.Image
	case ci.URL != "" && ci.Mode == "url":
		s = ci.URL
	case ci.Reference:
		s = "Doorbuster's reference connector"
	default:
		s = "the connector"
	}
	if ci.Version != "" && !ci.Reference {
		s += " " + ci.Version
	}
	if len(ci.Bugs) > 0 {
		s += " with bug switches " + strings.Join(ci.Bugs, ", ")
	}
	return s
}

// extractJSON returns the certificate JSON embedded in a certificate.html page.
func extractJSON(page []byte) ([]byte, error) {
	i := bytes.Index(page, []byte(jsonScriptOpen))
	if i < 0 {
		return nil, fmt.Errorf("no embedded certificate (%s…%s): not a Doorbuster certificate page", jsonScriptOpen, jsonScriptEnd)
	}
	rest := page[i+len(jsonScriptOpen):]
	j := bytes.Index(rest, []byte(jsonScriptEnd))
	if j < 0 {
		return nil, fmt.Errorf("the embedded certificate is not closed by %s", jsonScriptEnd)
	}
	if bytes.Contains(rest[j+len(jsonScriptEnd):], []byte(jsonScriptOpen)) {
		return nil, fmt.Errorf("the page embeds more than one certificate")
	}
	return rest[:j], nil
}

// checkPageDigest recomputes a page's own digest. It returns the recorded and the
// computed digests.
func checkPageDigest(page []byte) (recorded, computed string, err error) {
	all := pageDigestRE.FindAllSubmatchIndex(page, -1)
	switch len(all) {
	case 0:
		return "", "", fmt.Errorf("the page carries no digest (meta doorbuster-page-digest)")
	case 1:
	default:
		return "", "", fmt.Errorf("the page carries %d page digests", len(all))
	}
	m := all[0]
	recorded = string(page[m[2]:m[3]])
	blank := make([]byte, 0, len(page))
	blank = append(blank, page[:m[2]]...)
	blank = append(blank, pagePlaceholder...)
	blank = append(blank, page[m[3]:]...)
	sum := sha256.Sum256(blank)
	return recorded, "sha256:" + hex.EncodeToString(sum[:]), nil
}
