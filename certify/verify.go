package certify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Verification is what `certify verify` found.
type Verification struct {
	File string
	// Kind is "json" or "html".
	Kind string
	// Intact: every digest recomputes; the file was not edited since it was issued.
	Intact bool
	// Recorded and Computed are the certificate digest as written and as recomputed.
	Recorded string
	Computed string
	// PageRecorded and PageComputed are the page digest of certificate.html.
	PageRecorded string
	PageComputed string
	// Problems say what does not match, one per line.
	Problems []string
	// Certificate is the certificate as read (nil when it could not be decoded).
	Certificate *Certificate
}

// Verify recomputes the digests of a certificate file — certificate.json, or
// certificate.html (its embedded certificate and the page itself) — and says whether
// it was edited. An error means the file could not be read or is not a certificate at
// all; an edited certificate is a Verification with Intact false.
//
// A digest detects edits; it is not a signature: whoever has Doorbuster can issue a
// new certificate. Keep the CI run's artifact (or sign the files) where that matters.
func Verify(path string) (*Verification, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certify verify: %w", err)
	}
	v := &Verification{File: path, Kind: "json"}
	doc := b
	if looksHTML(b) {
		v.Kind = "html"
		doc, err = extractJSON(b)
		if err != nil {
			return nil, fmt.Errorf("certify verify: %s: %w", path, err)
		}
		v.PageRecorded, v.PageComputed, err = checkPageDigest(b)
		if err != nil {
			v.Problems = append(v.Problems, err.Error())
		} else if v.PageRecorded != v.PageComputed {
			v.Problems = append(v.Problems, fmt.Sprintf("the page was edited: its digest is %s, the page hashes to %s", v.PageRecorded, v.PageComputed))
		}
	}
	canon, recorded, err := Canonical(doc)
	if err != nil {
		return nil, fmt.Errorf("certify verify: %s: %w", path, err)
	}
	v.Recorded, v.Computed = recorded, digestOf(canon)
	switch {
	case recorded == "":
		v.Problems = append(v.Problems, "the certificate carries no digest")
	case recorded != v.Computed:
		v.Problems = append(v.Problems, fmt.Sprintf("the certificate was edited: its digest is %s, its content hashes to %s", recorded, v.Computed))
	}
	var c Certificate
	if err := json.Unmarshal(doc, &c); err == nil {
		v.Certificate = &c
		if c.Schema != Schema {
			v.Problems = append(v.Problems, fmt.Sprintf("not a Doorbuster certificate: schema %q", c.Schema))
		}
		if c.SchemaVersion > SchemaVersion {
			v.Problems = append(v.Problems, fmt.Sprintf("schema version %d is newer than this Doorbuster reads (%d)", c.SchemaVersion, SchemaVersion))
		}
		if v.Kind == "html" && v.PageRecorded != "" && !bytes.Contains(b, []byte(c.Digest)) {
			v.Problems = append(v.Problems, "the page does not show the digest of the certificate it embeds")
		}
	} else {
		v.Problems = append(v.Problems, fmt.Sprintf("the certificate does not decode: %v", err))
	}
	v.Intact = len(v.Problems) == 0
	return v, nil
}

// looksHTML reports whether a file is an HTML page rather than JSON.
func looksHTML(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '<'
}

// String is the verification's report for people.
func (v *Verification) String() string {
	var sb strings.Builder
	if v.Intact {
		fmt.Fprintf(&sb, "%s: intact — the digest %s matches its content", v.File, v.Computed)
		if v.Kind == "html" {
			sb.WriteString(", and the page matches its own digest")
		}
		sb.WriteString("\n")
	} else {
		fmt.Fprintf(&sb, "%s: EDITED — it is not the certificate Doorbuster issued:\n", v.File)
		for _, p := range v.Problems {
			fmt.Fprintf(&sb, "  - %s\n", p)
		}
	}
	if c := v.Certificate; c != nil {
		fmt.Fprintf(&sb, "  says: %s — %s, %s suite, %d of %d cases passed, finished %s\n",
			c.Verdict, c.Connector.Name(), c.Suite, c.Summary.Passed, c.Summary.Cases, c.FinishedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	return sb.String()
}
