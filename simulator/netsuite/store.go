package netsuite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// store keeps records in the books and applies the posting rules. Every write runs
// in one SQLite transaction: a record, its projection and its GL impact commit
// together or not at all.
type store struct {
	b        *books
	schemas  map[string]*recordSchema
	accounts roleAccounts
	clock    func() time.Time
}

// roleAccounts are the well-known accounts the posting rules use, by role.
type roleAccounts struct {
	undeposited, income, salesTax, cogs, asset, giftCert, adjusting int64
	defaultSubsidiary                                               int64
}

// stored is a record as the books hold it.
type stored struct {
	id         int64
	externalID string
	raw        string // canonical JSON body
	body       body
	created    string
	modified   string
}

// queryer is what reads need: a *sql.DB, *sql.Conn or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// recordKey is how a URL names a record: an internal id or "eid:" + external id.
type recordKey struct {
	id         int64
	externalID string
}

func parseKey(s string) (recordKey, error) {
	if eid, ok := strings.CutPrefix(s, "eid:"); ok {
		if err := checkExternalID(eid, ""); err != nil {
			return recordKey{}, err
		}
		return recordKey{externalID: eid}, nil
	}
	id, ok := parseID(s)
	if !ok {
		return recordKey{}, badRequest(codeInvalidParameter, "", "Invalid record id %q: use an internal id or eid:<externalId>.", s)
	}
	return recordKey{id: id}, nil
}

func (k recordKey) String() string {
	if k.externalID != "" {
		return "eid:" + k.externalID
	}
	return idString(k.id)
}

// load reads one record; nil, nil when it does not exist.
func (st *store) load(ctx context.Context, q queryer, s *recordSchema, k recordKey) (*stored, error) {
	var row *sql.Row
	const cols = "SELECT id, COALESCE(externalid, ''), body, createddate, lastmodifieddate FROM records WHERE type = ? AND "
	if k.externalID != "" {
		row = q.QueryRowContext(ctx, cols+"externalid = ?", s.name, k.externalID)
	} else {
		row = q.QueryRowContext(ctx, cols+"id = ?", s.name, k.id)
	}
	var r stored
	if err := row.Scan(&r.id, &r.externalID, &r.raw, &r.created, &r.modified); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("netsuite books: reading %s %s: %w", s.name, k, err)
	}
	b, err := decodeBody(s, []byte(r.raw), decodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("netsuite books: %s %d holds a body that no longer decodes: %w", s.name, r.id, err)
	}
	r.body = b
	return &r, nil
}

func (st *store) mustLoad(ctx context.Context, q queryer, s *recordSchema, k recordKey) (*stored, error) {
	r, err := st.load(ctx, q, s, k)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("Record %s %s was not found.", s.name, k)
	}
	return r, nil
}

// get reads one record through the reader pool.
func (st *store) get(ctx context.Context, s *recordSchema, k recordKey) (*stored, error) {
	return st.mustLoad(ctx, st.b.r, s, k)
}

// create stores a new record and returns its id.
func (st *store) create(ctx context.Context, s *recordSchema, in body) (int64, error) {
	var id int64
	err := st.b.write(ctx, func(tx *wtx) error {
		var err error
		id, err = st.save(ctx, tx, s, nil, in)
		return err
	})
	return id, err
}

// upsert creates the record with external id eid, or updates it: body fields given
// replace the stored ones, sublists given replace the stored sublists. A body that
// leaves the record as it is changes nothing (no re-posting, same lastModifiedDate).
func (st *store) upsert(ctx context.Context, s *recordSchema, eid string, in body) (id int64, created bool, err error) {
	if v, ok := in["externalId"].(string); ok && v != eid {
		return 0, false, invalidContent("externalId", "The body's externalId %q differs from the URL's eid:%s.", v, eid)
	}
	in["externalId"] = eid
	err = st.b.write(ctx, func(tx *wtx) error {
		old, err := st.load(ctx, tx, s, recordKey{externalID: eid})
		if err != nil {
			return err
		}
		if old == nil {
			created = true
			id, err = st.save(ctx, tx, s, nil, in)
			return err
		}
		id, err = st.save(ctx, tx, s, old, merge(s, old.body, in, allSublists(s)))
		return err
	})
	return id, created, err
}

// patch updates a record: omitted fields are unchanged; sublists named in replace are
// replaced, other sublists given are merged line by line (a line with a "line" number
// updates that line, one without is appended).
func (st *store) patch(ctx context.Context, s *recordSchema, k recordKey, in body, replace map[string]bool) (int64, error) {
	var id int64
	err := st.b.write(ctx, func(tx *wtx) error {
		old, err := st.mustLoad(ctx, tx, s, k)
		if err != nil {
			return err
		}
		id, err = st.save(ctx, tx, s, old, merge(s, old.body, in, replace))
		return err
	})
	return id, err
}

// remove deletes a record, reversing its GL and inventory impact.
func (st *store) remove(ctx context.Context, s *recordSchema, k recordKey) error {
	return st.b.write(ctx, func(tx *wtx) error {
		old, err := st.mustLoad(ctx, tx, s, k)
		if err != nil {
			return err
		}
		if err := st.checkNoDependents(ctx, tx, s, old.id); err != nil {
			return err
		}
		if s.isTransaction() {
			if err := reverseTransaction(ctx, tx, old.id); err != nil {
				return err
			}
		}
		if err := deleteProjection(ctx, tx, s, old.id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM records WHERE type = ? AND id = ?", s.name, old.id); err != nil {
			return fmt.Errorf("netsuite books: deleting %s %d: %w", s.name, old.id, err)
		}
		return nil
	})
}

func allSublists(s *recordSchema) map[string]bool {
	m := map[string]bool{}
	for _, n := range s.sublistNames() {
		m[n] = true
	}
	return m
}

// merge returns old with in applied: a nil value clears a field.
func merge(s *recordSchema, old, in body, replace map[string]bool) body {
	out := make(body, len(old)+len(in))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range in {
		if v == nil {
			delete(out, k)
			continue
		}
		nl, isLines := v.(lines)
		ol, hadLines := out[k].(lines)
		if !isLines || !hadLines || replace[k] {
			out[k] = v
			continue
		}
		out[k] = mergeLines(ol, nl)
	}
	return out
}

// mergeLines updates lines of old by line number and appends lines without one. A
// line whose quantity, rate or amount changes gets its derived amount and tax
// recomputed unless the patch gives them.
func mergeLines(old, in lines) lines {
	out := make(lines, len(old))
	byNum := map[int]int{}
	next := 1
	for i, l := range old {
		c := make(map[string]any, len(l))
		for k, v := range l {
			c[k] = v
		}
		out[i] = c
		if n, ok := l["line"].(float64); ok {
			byNum[int(n)] = i
			next = max(next, int(n)+1)
		}
	}
	for _, l := range in {
		n, hasNum := l["line"].(float64)
		i, exists := byNum[int(n)]
		if !hasNum || !exists {
			c := make(map[string]any, len(l))
			for k, v := range l {
				if v != nil {
					c[k] = v
				}
			}
			c["line"] = float64(next)
			next++
			out = append(out, c)
			continue
		}
		target := out[i]
		for k, v := range l {
			if v == nil {
				delete(target, k)
			} else {
				target[k] = v
			}
		}
		_, newAmount := l["amount"]
		if !newAmount && (l["quantity"] != nil || l["rate"] != nil) {
			delete(target, "amount")
		}
		if _, newTax := l["tax1Amt"]; !newTax && (l["quantity"] != nil || l["rate"] != nil || l["amount"] != nil || l["taxCode"] != nil) {
			delete(target, "tax1Amt")
		}
	}
	return out
}

// save validates b (resolving references, filling defaults) and writes it as the new
// state of old (nil: a new record). It returns the record's id.
func (st *store) save(ctx context.Context, tx *wtx, s *recordSchema, old *stored, b body) (int64, error) {
	if err := st.resolveRefs(ctx, tx, s, b, ""); err != nil {
		return 0, err
	}
	eid, _ := b["externalId"].(string)
	if eid != "" && (old == nil || old.externalID != eid) {
		var other int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM records WHERE type = ? AND externalid = ?", s.name, eid).Scan(&other)
		if err == nil {
			return 0, userError("externalId", "A %s record with externalId %q already exists (id %d).", s.name, eid, other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("netsuite books: %w", err)
		}
	}
	var id int64
	if old != nil {
		id = old.id
	} else {
		var err error
		if id, err = nextID(ctx, tx, s.family); err != nil {
			return 0, err
		}
	}
	if err := st.defaults(ctx, tx, s, id, b); err != nil {
		return 0, err
	}
	if err := checkRequired(s, b, ""); err != nil {
		return 0, err
	}
	if err := st.validate(ctx, tx, s, b); err != nil {
		return 0, err
	}
	raw := string(encodeBody(b))
	if old != nil && raw == old.raw {
		return id, nil // nothing changed: no re-posting, no new lastModifiedDate
	}
	now := formatTime(st.clock())
	created := now
	if old != nil {
		created = old.created
	}
	if s.isTransaction() {
		if old != nil {
			if err := reverseTransaction(ctx, tx, id); err != nil {
				return 0, err
			}
		}
		if err := st.post(ctx, tx, s, id, b, created, now); err != nil {
			return 0, err
		}
	} else if err := st.project(ctx, tx, s, id, b); err != nil {
		return 0, err
	}
	var eidArg any
	if eid != "" {
		eidArg = eid
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO records (type, id, externalid, body, createddate, lastmodifieddate)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (type, id) DO UPDATE SET externalid = excluded.externalid, body = excluded.body,
		lastmodifieddate = excluded.lastmodifieddate`, s.name, id, eidArg, raw, created, now); err != nil {
		return 0, fmt.Errorf("netsuite books: writing %s %d: %w", s.name, id, err)
	}
	return id, nil
}

// nextID allocates the next internal id of an id family.
func nextID(ctx context.Context, tx *wtx, family string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO id_sequences (family, next_id) VALUES (?, 2)
		ON CONFLICT (family) DO UPDATE SET next_id = next_id + 1 RETURNING next_id - 1`, family).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("netsuite books: allocating a %s id: %w", family, err)
	}
	return id, nil
}

// refTables maps a reference target to the table holding its ids and external ids.
var refTables = map[string]string{
	typeCustomer: "customers", typeInventoryItem: "items", typeLocation: "locations",
	typeSubsidiary: "subsidiaries", typeAccount: "accounts", typePaymentMethod: "payment_methods",
	typeSalesTaxItem: "tax_codes",
}

// lookupRef returns the internal id r points to, or an error naming the field.
func lookupRef(ctx context.Context, q queryer, target string, r ref, path string) (int64, error) {
	var (
		row  *sql.Row
		what string
	)
	table, ok := refTables[target]
	if r.ID != "" {
		id, valid := parseID(r.ID)
		if !valid {
			return 0, invalidContent(path, "Invalid Field Value %q for the following field: %s. Internal ids are positive integers.", r.ID, lastSegment(path))
		}
		what = "id " + r.ID
		if ok {
			row = q.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE id = ?", id)
		} else {
			row = q.QueryRowContext(ctx, "SELECT id FROM transactions WHERE id = ? AND recordtype = ?", id, target)
		}
	} else {
		what = "externalId " + r.ExternalID
		if ok {
			row = q.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE externalid = ?", r.ExternalID)
		} else {
			row = q.QueryRowContext(ctx, "SELECT id FROM transactions WHERE externalid = ? AND recordtype = ?", r.ExternalID, target)
		}
	}
	var id int64
	if err := row.Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, invalidContent(path, "Invalid Field Value for the following field: %s. No %s record with %s exists.", lastSegment(path), target, what)
		}
		return 0, fmt.Errorf("netsuite books: resolving %s: %w", path, err)
	}
	return id, nil
}

func lastSegment(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// resolveRefs replaces every reference in m by a reference by internal id.
func (st *store) resolveRefs(ctx context.Context, q queryer, s *recordSchema, m map[string]any, path string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := s.fields[k]
		p := joinPath(path, k)
		switch v := m[k].(type) {
		case ref:
			id, err := lookupRef(ctx, q, f.target, v, p)
			if err != nil {
				return err
			}
			m[k] = ref{ID: idString(id)}
		case lines:
			for i, l := range v {
				if err := st.resolveRefs(ctx, q, f.sub, l, fmt.Sprintf("%s.items[%d]", p, i)); err != nil {
					return err
				}
			}
		case tenders:
			for i, t := range v {
				if err := st.resolveRefs(ctx, q, tenderSchema, t, fmt.Sprintf("%s[%d]", p, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkRequired refuses a body that misses a required field, NetSuite's way.
func checkRequired(s *recordSchema, m map[string]any, path string) error {
	names := make([]string, 0, len(s.fields))
	for n := range s.fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := s.fields[n]
		v, present := m[n]
		if f.required && (!present || v == nil || v == "") {
			return userError(joinPath(path, n), "Please enter value(s) for: %s.", f.label)
		}
		if ls, ok := v.(lines); ok {
			for i, l := range ls {
				if err := checkRequired(f.sub, l, fmt.Sprintf("%s.items[%d]", joinPath(path, n), i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkNoDependents refuses to delete a record other records still point to.
func (st *store) checkNoDependents(ctx context.Context, q queryer, s *recordSchema, id int64) error {
	var probe string
	switch s.name {
	case typeCustomer:
		probe = "SELECT id FROM transactions WHERE entity = ? LIMIT 1"
	case typeInventoryItem:
		probe = "SELECT transaction_id FROM transaction_lines WHERE item = ? LIMIT 1"
	case typeLocation:
		probe = "SELECT id FROM transactions WHERE location = ? UNION ALL SELECT transaction_id FROM transaction_lines WHERE location = ? LIMIT 1"
	case typeAccount:
		probe = "SELECT transaction_id FROM gl_lines WHERE account = ? LIMIT 1"
	case typeCashSale, typeSalesOrder:
		probe = "SELECT id FROM transactions WHERE createdfrom = ? LIMIT 1"
	default:
		return nil
	}
	args := []any{id}
	if strings.Count(probe, "?") == 2 {
		args = append(args, id)
	}
	var dep int64
	err := q.QueryRowContext(ctx, probe, args...).Scan(&dep)
	if err == nil {
		return &apiError{Status: http.StatusBadRequest, Code: codeUserError,
			Detail: fmt.Sprintf("This record cannot be deleted because it has dependent records (transaction %d).", dep)}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("netsuite books: %w", err)
	}
	return nil
}
