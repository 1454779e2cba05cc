package netsuite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the record body decoder.
const (
	maxStringLen   = 4000   // NetSuite's long text fields hold 4,000 characters
	maxLines       = 10_000 // lines in one sublist
	maxTenders     = 100
	maxMagnitude   = 1e12 // largest quantity or amount accepted
	maxExternalID  = 255
	maxRefIDLength = 64
)

// ref is a reference to another record, by internal id or by external id.
type ref struct {
	ID         string
	ExternalID string
}

// MarshalJSON writes the reference as NetSuite accepts it in a request body.
func (r ref) MarshalJSON() ([]byte, error) {
	if r.ID != "" {
		return json.Marshal(map[string]string{"id": r.ID})
	}
	return json.Marshal(map[string]string{"externalId": r.ExternalID})
}

// lines are the lines of a sublist; each line maps field names to decoded values.
type lines []map[string]any

// tenders are the decoded elements of custbody_pos_tenders.
type tenders []map[string]any

// body is a decoded record body: field name → value, where a value is a string,
// bool, float64, ref, lines, tenders, or nil (JSON null: clear the field).
type body map[string]any

// decodeOptions tune the decoder.
type decodeOptions struct {
	// ignoreUnknown drops unknown fields instead of refusing them
	// (X-NetSuite-PropertyNameValidation: Warning or Ignore).
	ignoreUnknown bool
}

// decodeBody parses a JSON record body for schema s. Errors are *apiError with the
// JSON path of the offending field. Required fields are not checked here: a PATCH may
// omit them.
func decodeBody(s *recordSchema, data []byte, opts decodeOptions) (body, error) {
	if !utf8.Valid(data) {
		return nil, invalidContent("", "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidContent("", "Invalid JSON in the request body: %s.", jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidContent("", "Invalid JSON in the request body: unexpected data after the top-level value.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalidContent("", "The request body must be a JSON object, not %s.", jsonTypeName(v))
	}
	b, err := decodeObject(s, obj, "", opts)
	if err != nil {
		return nil, err
	}
	return body(b), nil
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if ok := asSyntaxError(err, &se); ok {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if err == io.EOF {
		return "the body is empty"
	}
	if err == io.ErrUnexpectedEOF {
		return "the body ends too early"
	}
	return err.Error()
}

func asSyntaxError(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// decodeObject decodes the fields of one JSON object against s.
func decodeObject(s *recordSchema, obj map[string]any, path string, opts decodeOptions) (map[string]any, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic: the first bad field in name order is reported
	out := make(map[string]any, len(obj))
	for _, k := range keys {
		f, ok := s.fields[k]
		if !ok {
			if readOnlyFields[k] {
				continue
			}
			if opts.ignoreUnknown {
				continue
			}
			return nil, invalidContent(joinPath(path, k), "Invalid field name %q: record %s has no such field.", k, s.name)
		}
		v, err := decodeValue(f, obj[k], joinPath(path, k), opts)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func wrongType(path string, f *field, v any) *apiError {
	return invalidContent(path, "Invalid value for field %s: expected %s, got %s.", f.name, f.kind, jsonTypeName(v))
}

// decodeValue decodes one field value; JSON null decodes to nil for every kind.
func decodeValue(f *field, v any, path string, opts decodeOptions) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			return nil, wrongType(path, f, v)
		}
		if utf8.RuneCountInString(s) > maxStringLen {
			return nil, invalidContent(path, "Field %s is longer than %d characters.", f.name, maxStringLen)
		}
		if f.name == "externalId" {
			if err := checkExternalID(s, path); err != nil {
				return nil, err
			}
		}
		return s, nil
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return nil, wrongType(path, f, v)
		}
		return b, nil
	case kNumber, kMoney:
		n, ok := v.(json.Number)
		if !ok {
			return nil, wrongType(path, f, v)
		}
		x, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > maxMagnitude {
			return nil, invalidContent(path, "Invalid number %s for field %s: it must be between -%g and %g.", n, f.name, maxMagnitude, maxMagnitude)
		}
		if f.kind == kMoney {
			x = math.Round(x*100) / 100
		}
		if x == 0 {
			x = 0 // no negative zero
		}
		return x, nil
	case kDate:
		s, ok := v.(string)
		if !ok {
			return nil, wrongType(path, f, v)
		}
		d, err := parseDate(s)
		if err != nil {
			return nil, invalidContent(path, "Invalid date %q for field %s: use YYYY-MM-DD.", s, f.name)
		}
		return d, nil
	case kRef:
		return decodeRef(f, v, path)
	case kCode:
		if s, ok := v.(string); ok {
			if s == "" || len(s) > maxRefIDLength {
				return nil, invalidContent(path, "Invalid value for field %s: a code of 1 to %d characters.", f.name, maxRefIDLength)
			}
			return s, nil
		}
		r, err := decodeRef(f, v, path)
		if err != nil {
			return nil, err
		}
		if r.ID != "" {
			return r.ID, nil
		}
		return r.ExternalID, nil
	case kSublist:
		return decodeSublist(f, v, path, opts)
	case kTenders:
		return decodeTenders(f, v, path)
	}
	return nil, invalidContent(path, "Field %s cannot be set.", f.name)
}

// checkExternalID enforces NetSuite's external id alphabet: letters, digits, '_' and '-'.
func checkExternalID(s, path string) error {
	if s == "" || len(s) > maxExternalID {
		return invalidContent(path, "Invalid externalId: it must have 1 to %d characters.", maxExternalID)
	}
	for i, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return invalidContent(path, "Invalid externalId %q: character %q at %d is not a letter, digit, '_' or '-'.", s, r, i)
		}
	}
	return nil
}

func parseDate(s string) (string, error) {
	if len(s) > 10 && s[10] == 'T' {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "", err
		}
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", err
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		return "", fmt.Errorf("year %d out of range", t.Year())
	}
	return t.Format(time.DateOnly), nil
}

func decodeRef(f *field, v any, path string) (ref, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return ref{}, wrongType(path, f, v)
	}
	var r ref
	for _, k := range sortedKeys(obj) {
		x := obj[k]
		switch k {
		case "id":
			switch id := x.(type) {
			case string:
				r.ID = id
			case json.Number:
				r.ID = string(id)
			default:
				return ref{}, invalidContent(path+".id", "Invalid reference id for field %s: expected a string, got %s.", f.name, jsonTypeName(x))
			}
			if r.ID == "" || len(r.ID) > maxRefIDLength || strings.ContainsAny(r.ID, "/?#") {
				return ref{}, invalidContent(path+".id", "Invalid reference id %q for field %s.", r.ID, f.name)
			}
		case "externalId":
			s, ok := x.(string)
			if !ok {
				return ref{}, invalidContent(path+".externalId", "Invalid externalId for field %s: expected a string, got %s.", f.name, jsonTypeName(x))
			}
			if err := checkExternalID(s, path+".externalId"); err != nil {
				return ref{}, err
			}
			r.ExternalID = s
		case "refName", "links", "type":
			// returned by GET; ignored on input
		default:
			return ref{}, invalidContent(path+"."+k, "Invalid reference for field %s: unknown key %q (use \"id\" or \"externalId\").", f.name, k)
		}
	}
	if r.ID == "" && r.ExternalID == "" {
		return ref{}, invalidContent(path, "Invalid reference for field %s: give \"id\" or \"externalId\".", f.name)
	}
	if r.ID != "" {
		r.ExternalID = "" // the internal id wins
	}
	return r, nil
}

// Keys a sublist object may carry besides "items" (they come back from GET).
var sublistMetaKeys = map[string]bool{"links": true, "totalResults": true, "count": true, "hasMore": true, "offset": true}

func decodeSublist(f *field, v any, path string, opts decodeOptions) (lines, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, wrongType(path, f, v)
	}
	var items []any
	for _, k := range sortedKeys(obj) {
		x := obj[k]
		if k == "items" {
			arr, ok := x.([]any)
			if !ok {
				return nil, invalidContent(path+".items", "Invalid sublist %s: \"items\" must be an array, got %s.", f.name, jsonTypeName(x))
			}
			items = arr
			continue
		}
		if !sublistMetaKeys[k] && !opts.ignoreUnknown {
			return nil, invalidContent(path+"."+k, "Invalid sublist %s: unknown key %q (lines go in \"items\").", f.name, k)
		}
	}
	if len(items) > maxLines {
		return nil, invalidContent(path+".items", "Sublist %s has %d lines; at most %d are accepted.", f.name, len(items), maxLines)
	}
	out := make(lines, 0, len(items))
	for i, it := range items {
		lp := fmt.Sprintf("%s.items[%d]", path, i)
		o, ok := it.(map[string]any)
		if !ok {
			return nil, invalidContent(lp, "Invalid line in sublist %s: expected an object, got %s.", f.name, jsonTypeName(it))
		}
		l, err := decodeObject(f.sub, o, lp, opts)
		if err != nil {
			return nil, err
		}
		if n, ok := l["line"].(float64); ok && (n != math.Trunc(n) || n < 1) {
			return nil, invalidContent(lp+".line", "Invalid line number %g: a positive integer.", n)
		}
		out = append(out, l)
	}
	return out, nil
}

func decodeTenders(f *field, v any, path string) (any, error) {
	if s, ok := v.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, nil // an empty text field: no tenders
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var inner any
		if err := dec.Decode(&inner); err != nil {
			return nil, invalidContent(path, "Invalid JSON in %s: %s.", f.name, jsonErrorText(err))
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, invalidContent(path, "Invalid JSON in %s: unexpected data after the array.", f.name)
		}
		v = inner
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, wrongType(path, f, v)
	}
	if len(arr) > maxTenders {
		return nil, invalidContent(path, "%s has %d tenders; at most %d are accepted.", f.name, len(arr), maxTenders)
	}
	out := make(tenders, 0, len(arr))
	for i, it := range arr {
		tp := fmt.Sprintf("%s[%d]", path, i)
		o, ok := it.(map[string]any)
		if !ok {
			return nil, invalidContent(tp, "Invalid tender: expected an object, got %s.", jsonTypeName(it))
		}
		t, err := decodeObject(tenderSchema, o, tp, decodeOptions{})
		if err != nil {
			return nil, err
		}
		for _, name := range []string{"paymentMethod", "amount"} {
			if t[name] == nil {
				return nil, userError(tp+"."+name, "Please enter value(s) for: %s.", tenderSchema.fields[name].label)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// encodeBody renders b as the JSON body NetSuite would accept for it. The books keep
// every record in this form; decodeBody(encodeBody(b)) == b.
func encodeBody(b body) []byte {
	out, err := json.Marshal(encodeMap(b))
	if err != nil {
		panic(fmt.Sprintf("netsuite: encoding a decoded body: %v", err)) // values are all JSON-safe
	}
	return out
}

func encodeMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = encodeValue(v)
	}
	return out
}

func encodeValue(v any) any {
	switch x := v.(type) {
	case lines:
		items := make([]any, len(x))
		for i, l := range x {
			items[i] = encodeMap(l)
		}
		return map[string]any{"items": items}
	case tenders:
		items := make([]any, len(x))
		for i, t := range x {
			items[i] = encodeMap(t)
		}
		s, _ := json.Marshal(items)
		return string(s)
	}
	return v
}
