package netsuite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/simulator/netsuite/suiteql"
)

// SuiteQL: POST /services/rest/query/v1/suiteql?limit=&offset= with {"q": "SELECT …"}.
// The query is translated to SQLite by package suiteql and runs on the books' views
// (see books.go) through a read-only connection. Rows come back in the collection
// shape, each item {"links": [], column: value} with lower-case column names, values
// as strings as NetSuite sends them, and null columns left out.

const suiteQLTimeout = 30 * time.Second

func (s *Server) serveSuiteQL(w http.ResponseWriter, r *http.Request) {
	if err := s.suiteQL(w, r); err != nil {
		s.logError(r, err)
		writeError(w, err)
	}
}

func searchError(format string, args ...any) *apiError {
	return badRequest(codeInvalidParameter, "", "Invalid search query. Detailed unprocessed description follows. %s", fmt.Sprintf(format, args...))
}

func (s *Server) suiteQL(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := pageParams(r)
	if err != nil {
		return err
	}
	if offset+limit > maxQueryTotal {
		return badRequest(codeInvalidParameter, "offset", "SuiteQL returns at most %d results: offset %d with limit %d goes beyond.", maxQueryTotal, offset, limit)
	}
	data, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req struct {
		Q *string `json:"q"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return invalidContent("", "Invalid JSON in the request body: %v. Send {\"q\": \"SELECT …\"}.", err)
	}
	if req.Q == nil || strings.TrimSpace(*req.Q) == "" {
		return userError("q", "Please enter value(s) for: q (the SuiteQL query).")
	}
	query, err := suiteql.Translate(*req.Q)
	if err != nil {
		var qe *suiteql.Error
		if errors.As(err, &qe) {
			// The translator's message starts with the same "Invalid search query." NetSuite's
			// detail does; say it once.
			return searchError("%s", strings.TrimPrefix(qe.Msg, "Invalid search query. "))
		}
		return searchError("%v", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), suiteQLTimeout)
	defer cancel()
	var total int
	if err := s.st.b.r.QueryRowContext(ctx, suiteql.Count(query)).Scan(&total); err != nil {
		return sqlSearchError(err)
	}
	rows, err := s.st.b.r.QueryContext(ctx, suiteql.Page(query, limit, offset))
	if err != nil {
		return sqlSearchError(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return sqlSearchError(err)
	}
	for i, c := range cols {
		cols[i] = strings.ToLower(c)
	}
	items := []any{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return sqlSearchError(err)
		}
		item := make(map[string]any, len(cols)+1)
		item["links"] = []link{}
		for i, c := range cols {
			if v, ok := suiteQLValue(vals[i]); ok {
				item[c] = v
			}
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return sqlSearchError(err)
	}
	base := s.baseURL(r) + "/query/v1/suiteql"
	writeCollection(w, collection{Links: pageLinks(r.URL, base, limit, offset, total), Count: len(items),
		HasMore: offset+len(items) < total, Items: items, Offset: offset, TotalResults: total})
	return nil
}

// sqlSearchError reports an error SQLite found in a translated query (an unknown
// column, a type error) as NetSuite reports a bad query.
func sqlSearchError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return searchError("The query took longer than %s.", suiteQLTimeout)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	msg := err.Error()
	if i := strings.Index(msg, "SQL logic error: "); i >= 0 {
		msg = msg[i+len("SQL logic error: "):]
	}
	return searchError("Search error occurred: %s", msg)
}

// suiteQLValue renders a column value as NetSuite does: a string; false for null.
func suiteQLValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		if x {
			return "T", true
		}
		return "F", true
	case []byte:
		return string(x), true
	case string:
		return x, true
	case time.Time:
		return formatTime(x), true
	}
	return fmt.Sprint(v), true
}
