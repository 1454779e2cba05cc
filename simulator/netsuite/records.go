package netsuite

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging limits of collections (record listing and SuiteQL).
const (
	maxPageSize   = 1000
	maxQueryTotal = 100_000
)

// schemaFor finds a record type, ignoring case as NetSuite does.
func (st *store) schemaFor(name string) (*recordSchema, bool) {
	if s, ok := st.schemas[name]; ok {
		return s, true
	}
	for n, s := range st.schemas {
		if strings.EqualFold(n, name) {
			return s, true
		}
	}
	return nil, false
}

func unknownType(name string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeInvalidRecType,
		Detail: fmt.Sprintf("Record type %q does not exist or is not supported (supported: customer, inventoryItem, location, subsidiary, account, cashSale, cashRefund, salesOrder, itemFulfillment, inventoryTransfer, inventoryAdjustment, journalEntry).", name)}
}

func methodNotAllowed(r *http.Request, what string) *apiError {
	return &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
		Detail: fmt.Sprintf("%s is not allowed on %s.", r.Method, what)}
}

// readBody reads a request body up to the size limit (413 beyond it).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeRequestTooLarge,
		Detail: fmt.Sprintf("The request body is larger than the limit of %d bytes.", s.cfg.MaxBodyBytes)}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return nil, tooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, invalidContent("", "The request body could not be read: %v.", err)
	}
	return data, nil
}

func decodeOptionsFor(r *http.Request) decodeOptions {
	switch strings.ToLower(r.Header.Get("X-NetSuite-PropertyNameValidation")) {
	case "warning", "ignore":
		return decodeOptions{ignoreUnknown: true}
	}
	return decodeOptions{}
}

// serveRecord is the record API: /services/rest/record/v1/{type}[/{id}[/…]].
func (s *Server) serveRecord(w http.ResponseWriter, r *http.Request) {
	if err := s.record(w, r); err != nil {
		s.logError(r, err)
		writeError(w, err)
	}
}

func (s *Server) logError(r *http.Request, err error) {
	e := asAPIError(err)
	if e.Status >= 500 {
		s.log.Error("netsuite: request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	} else {
		s.log.Debug("netsuite: request refused", "method", r.Method, "path", r.URL.Path, "status", e.Status, "error", e.Error())
	}
}

func (s *Server) record(w http.ResponseWriter, r *http.Request) error {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, s.apiBase+"/record/v1"), "/")
	if rest == "" {
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Detail: "Give a record type: /record/v1/{recordType}."}
	}
	parts := strings.Split(rest, "/")
	sch, ok := s.st.schemaFor(parts[0])
	if !ok {
		return unknownType(parts[0])
	}
	ctx := r.Context()
	switch len(parts) {
	case 1:
		switch r.Method {
		case http.MethodGet:
			return s.list(w, r, sch)
		case http.MethodPost:
			in, err := s.decodeRequest(w, r, sch)
			if err != nil {
				return err
			}
			id, err := s.st.create(ctx, sch, in)
			if err != nil {
				return err
			}
			s.noContent(w, r, sch, id)
			return nil
		}
		return methodNotAllowed(r, "a record collection (use GET or POST)")
	case 2:
		key, err := parseKey(parts[1])
		if err != nil {
			return err
		}
		switch r.Method {
		case http.MethodGet:
			rec, err := s.st.get(ctx, sch, key)
			if err != nil {
				return err
			}
			return s.writeRecord(w, r, sch, rec)
		case http.MethodPatch:
			in, err := s.decodeRequest(w, r, sch)
			if err != nil {
				return err
			}
			id, err := s.st.patch(ctx, sch, key, in, replaceSet(r))
			if err != nil {
				return err
			}
			s.noContent(w, r, sch, id)
			return nil
		case http.MethodPut:
			if key.externalID == "" {
				return methodNotAllowed(r, "a record by internal id (upsert with PUT …/eid:{externalId})")
			}
			in, err := s.decodeRequest(w, r, sch)
			if err != nil {
				return err
			}
			id, _, err := s.st.upsert(ctx, sch, key.externalID, in)
			if err != nil {
				return err
			}
			s.noContent(w, r, sch, id)
			return nil
		case http.MethodDelete:
			if err := s.st.remove(ctx, sch, key); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return methodNotAllowed(r, "a record")
	case 3, 4:
		if parts[2] == "!transform" {
			if len(parts) != 4 || r.Method != http.MethodPost {
				return methodNotAllowed(r, "a transform (use POST …/!transform/{recordType})")
			}
			return s.transform(w, r, sch, parts[1], parts[3])
		}
		if r.Method != http.MethodGet {
			return methodNotAllowed(r, "a sublist")
		}
		key, err := parseKey(parts[1])
		if err != nil {
			return err
		}
		return s.writeSublist(w, r, sch, key, parts[2:])
	}
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Detail: fmt.Sprintf("No resource at %s.", r.URL.Path)}
}

// replaceSet reads ?replace=item,giftCertRedemption.
func replaceSet(r *http.Request) map[string]bool {
	m := map[string]bool{}
	for _, v := range r.URL.Query()["replace"] {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				m[n] = true
			}
		}
	}
	return m
}

func (s *Server) decodeRequest(w http.ResponseWriter, r *http.Request, sch *recordSchema) (body, error) {
	data, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeBody(sch, data, decodeOptionsFor(r))
}

func (s *Server) recordURL(r *http.Request, typ string, id int64) string {
	return s.baseURL(r) + "/record/v1/" + typ + "/" + idString(id)
}

// noContent answers a write: 204 with the record's URL in Location.
func (s *Server) noContent(w http.ResponseWriter, r *http.Request, sch *recordSchema, id int64) {
	w.Header().Set("Location", s.recordURL(r, sch.name, id))
	w.WriteHeader(http.StatusNoContent)
}

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

func selfLink(href string) []link { return []link{{Rel: "self", Href: href}} }

// pageParams reads limit and offset (default 1000 and 0). NetSuite wants an offset
// that is a multiple of the limit; so does the simulator.
func pageParams(r *http.Request) (limit, offset int, err error) {
	limit, offset = maxPageSize, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > maxPageSize {
			return 0, 0, badRequest(codeInvalidParameter, "limit", "Invalid limit %q: an integer from 1 to %d.", v, maxPageSize)
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 0 {
			return 0, 0, badRequest(codeInvalidParameter, "offset", "Invalid offset %q: a non-negative integer.", v)
		}
		offset = n
	}
	if offset%limit != 0 {
		return 0, 0, badRequest(codeInvalidParameter, "offset", "Invalid offset %d: it must be a multiple of the limit (%d).", offset, limit)
	}
	return limit, offset, nil
}

// collection is NetSuite's collection shape.
type collection struct {
	Links        []link `json:"links"`
	Count        int    `json:"count"`
	HasMore      bool   `json:"hasMore"`
	Items        []any  `json:"items"`
	Offset       int    `json:"offset"`
	TotalResults int    `json:"totalResults"`
}

// pageLinks are a collection's self, first, previous, next and last links.
func pageLinks(u *url.URL, base string, limit, offset, total int) []link {
	at := func(off int) string {
		q := u.Query()
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(off))
		return base + "?" + q.Encode()
	}
	links := []link{{Rel: "self", Href: at(offset)}, {Rel: "first", Href: at(0)}}
	if offset > 0 {
		links = append(links, link{Rel: "prev", Href: at(max(0, offset-limit))})
	}
	if offset+limit < total {
		links = append(links, link{Rel: "next", Href: at(offset + limit)})
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	return append(links, link{Rel: "last", Href: at(last)})
}

// list answers GET /record/v1/{type}?q=&limit=&offset= with ids and links.
func (s *Server) list(w http.ResponseWriter, r *http.Request, sch *recordSchema) error {
	limit, offset, err := pageParams(r)
	if err != nil {
		return err
	}
	where, args := "r.type = ?", []any{sch.name}
	if q := r.URL.Query().Get("q"); strings.TrimSpace(q) != "" {
		cond, qargs, err := compileQuery(sch, q)
		if err != nil {
			return err
		}
		where += " AND " + cond
		args = append(args, qargs...)
	}
	ctx := r.Context()
	var total int
	if err := s.st.b.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM records r WHERE "+where, args...).Scan(&total); err != nil {
		return fmt.Errorf("listing %s: %w", sch.name, err)
	}
	rows, err := s.st.b.r.QueryContext(ctx, "SELECT r.id FROM records r WHERE "+where+" ORDER BY r.id LIMIT ? OFFSET ?",
		append(args, limit, offset)...)
	if err != nil {
		return fmt.Errorf("listing %s: %w", sch.name, err)
	}
	defer rows.Close()
	items := []any{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		items = append(items, map[string]any{"links": selfLink(s.recordURL(r, sch.name, id)), "id": idString(id)})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	base := s.baseURL(r) + "/record/v1/" + sch.name
	writeCollection(w, collection{Links: pageLinks(r.URL, base, limit, offset, total), Count: len(items),
		HasMore: offset+len(items) < total, Items: items, Offset: offset, TotalResults: total})
	return nil
}

func writeCollection(w http.ResponseWriter, c collection) {
	writeJSONType(w, http.StatusOK, c, "collection")
}

func expandRequested(r *http.Request) bool {
	v := strings.ToLower(r.URL.Query().Get("expandSubResources"))
	return v == "true" || v == "t" || v == "1"
}

// renderer turns stored bodies into NetSuite's GET shape.
type renderer struct {
	s     *Server
	r     *http.Request
	q     queryer
	names map[string]string
}

// Name columns for refName, by reference target.
var refNameQueries = map[string]string{
	typeCustomer: "SELECT entityid FROM customers WHERE id = ?", typeInventoryItem: "SELECT itemid FROM items WHERE id = ?",
	typeLocation: "SELECT name FROM locations WHERE id = ?", typeSubsidiary: "SELECT name FROM subsidiaries WHERE id = ?",
	typeAccount: "SELECT name FROM accounts WHERE id = ?", typePaymentMethod: "SELECT name FROM payment_methods WHERE id = ?",
	typeSalesTaxItem: "SELECT name FROM tax_codes WHERE id = ?",
}

func (rd *renderer) refName(target, id string) string {
	key := target + "/" + id
	if n, ok := rd.names[key]; ok {
		return n
	}
	query, ok := refNameQueries[target]
	if !ok {
		query = "SELECT tranid FROM transactions WHERE id = ?"
	}
	var n sql.NullString
	_ = rd.q.QueryRowContext(rd.r.Context(), query, id).Scan(&n)
	rd.names[key] = n.String
	return n.String
}

func (rd *renderer) fields(sch *recordSchema, m map[string]any, selfHref string, expand bool) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		f := sch.fields[k]
		switch x := v.(type) {
		case ref:
			o := map[string]any{"id": x.ID, "links": selfLink(rd.s.baseURL(rd.r) + "/record/v1/" + f.target + "/" + x.ID)}
			if n := rd.refName(f.target, x.ID); n != "" {
				o["refName"] = n
			}
			out[k] = o
		case lines:
			href := selfHref + "/" + k
			if !expand {
				out[k] = map[string]any{"links": selfLink(href)}
				continue
			}
			items := make([]any, len(x))
			for i, l := range x {
				items[i] = rd.fields(f.sub, l, href+"/"+strconv.Itoa(lineNo(l)), false)
				items[i].(map[string]any)["links"] = selfLink(href + "/" + strconv.Itoa(lineNo(l)))
			}
			out[k] = map[string]any{"links": selfLink(href), "items": items, "totalResults": len(items),
				"count": len(items), "hasMore": false, "offset": 0}
		default:
			out[k] = encodeValue(v)
		}
	}
	return out
}

// writeRecord answers GET of one record.
func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, sch *recordSchema, rec *stored) error {
	rd := &renderer{s: s, r: r, q: s.st.b.r, names: map[string]string{}}
	self := s.recordURL(r, sch.name, rec.id)
	out := rd.fields(sch, rec.body, self, expandRequested(r))
	out["links"] = selfLink(self)
	out["id"] = idString(rec.id)
	out["createdDate"] = rec.created
	out["lastModifiedDate"] = rec.modified
	if err := s.addComputed(r, sch, rec.id, out); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addComputed adds the read-only fields the books compute.
func (s *Server) addComputed(r *http.Request, sch *recordSchema, id int64, out map[string]any) error {
	ctx := r.Context()
	switch {
	case sch.isTransaction():
		var total, sub, tax int64
		err := s.st.b.r.QueryRowContext(ctx, "SELECT total_cents, subtotal_cents, tax_cents FROM transactions WHERE id = ?", id).Scan(&total, &sub, &tax)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading totals of %d: %w", id, err)
		}
		out["total"], out["subtotal"], out["taxTotal"] = centsToFloat(total), centsToFloat(sub), centsToFloat(tax)
	case sch.name == typeInventoryItem:
		var avg sql.NullFloat64
		err := s.st.b.r.QueryRowContext(ctx, "SELECT averagecost FROM item WHERE id = ?", id).Scan(&avg)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading average cost of %d: %w", id, err)
		}
		out["averageCost"] = avg.Float64
	}
	return nil
}

// writeSublist answers GET …/{id}/{sublist}[/{line}].
func (s *Server) writeSublist(w http.ResponseWriter, r *http.Request, sch *recordSchema, key recordKey, parts []string) error {
	f, ok := sch.fields[parts[0]]
	if !ok || f.kind != kSublist {
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Detail: fmt.Sprintf("Record type %s has no sublist %q.", sch.name, parts[0])}
	}
	rec, err := s.st.get(r.Context(), sch, key)
	if err != nil {
		return err
	}
	rd := &renderer{s: s, r: r, q: s.st.b.r, names: map[string]string{}}
	href := s.recordURL(r, sch.name, rec.id) + "/" + parts[0]
	ls := getLines(rec.body, parts[0])
	if len(parts) == 2 {
		n, err := strconv.Atoi(parts[1])
		if err != nil {
			return badRequest(codeInvalidParameter, "", "Invalid line %q: a line number.", parts[1])
		}
		for _, l := range ls {
			if lineNo(l) == n {
				out := rd.fields(f.sub, l, href+"/"+parts[1], false)
				out["links"] = selfLink(href + "/" + parts[1])
				writeJSON(w, http.StatusOK, out)
				return nil
			}
		}
		return notFound("Line %d of sublist %s of %s %d was not found.", n, parts[0], sch.name, rec.id)
	}
	items := make([]any, len(ls))
	for i, l := range ls {
		items[i] = map[string]any{"links": selfLink(href + "/" + strconv.Itoa(lineNo(l))), "line": lineNo(l)}
	}
	writeCollection(w, collection{Links: selfLink(href), Count: len(items), Items: items, TotalResults: len(items)})
	return nil
}

// Transforms the simulator supports: source type → target types.
var transforms = map[string][]string{
	typeCashSale:   {typeCashRefund},
	typeSalesOrder: {typeCashSale, typeItemFulfillment},
}

// transform answers POST /record/v1/{type}/{id}/!transform/{target}: a new target
// record created from the source, its fields and lines copied where the target has
// them, createdFrom set to the source, then the request body applied on top (its
// sublists replace the copied ones).
func (s *Server) transform(w http.ResponseWriter, r *http.Request, from *recordSchema, keyText, toName string) error {
	to, ok := s.st.schemaFor(toName)
	if !ok {
		return unknownType(toName)
	}
	allowed := false
	for _, t := range transforms[from.name] {
		allowed = allowed || t == to.name
	}
	if !allowed {
		return badRequest(codeInvalidParameter, "", "A %s cannot be transformed into a %s.", from.name, to.name)
	}
	key, err := parseKey(keyText)
	if err != nil {
		return err
	}
	in, err := s.decodeRequest(w, r, to)
	if err != nil {
		return err
	}
	src, err := s.st.get(r.Context(), from, key)
	if err != nil {
		return err
	}
	b := copyInto(to, src.body)
	b["createdFrom"] = ref{ID: idString(src.id)}
	id, err := s.st.create(r.Context(), to, merge(to, b, in, allSublists(to)))
	if err != nil {
		return err
	}
	s.noContent(w, r, to, id)
	return nil
}

// Fields a transform never copies.
var notCopied = map[string]bool{"externalId": true, "tranId": true, "tranDate": true, "createdFrom": true, "memo": true}

func copyInto(to *recordSchema, src body) body {
	out := body{}
	for k, v := range src {
		f, ok := to.fields[k]
		if !ok || notCopied[k] {
			continue
		}
		if ls, isLines := v.(lines); isLines && f.kind == kSublist {
			nl := make(lines, 0, len(ls))
			for _, l := range ls {
				c := map[string]any{}
				for lk, lv := range l {
					if _, ok := f.sub.fields[lk]; ok {
						c[lk] = lv
					}
				}
				nl = append(nl, c)
			}
			out[k] = nl
			continue
		}
		out[k] = v
	}
	return out
}
