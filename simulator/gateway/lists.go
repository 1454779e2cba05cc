package gateway

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Stripe's list pagination: newest first, limit 1–100 (default 10), starting_after (the
// page after an object) or ending_before (the page before it), has_more.
const (
	defaultListLimit = 10
	maxListLimit     = 100
)

type page struct {
	limit         int
	startingAfter string
	endingBefore  string
}

func readPage(p *params) (page, error) {
	pg := page{limit: defaultListLimit}
	limit, ok, err := p.integer("limit")
	if err != nil {
		return pg, err
	}
	if ok {
		if limit < 1 || limit > maxListLimit {
			return pg, invalidParam("limit", fmt.Sprintf("Invalid limit: must be between 1 and %d.", maxListLimit))
		}
		pg.limit = int(limit)
	}
	if pg.startingAfter, _, err = p.str("starting_after"); err != nil {
		return pg, err
	}
	if pg.endingBefore, _, err = p.str("ending_before"); err != nil {
		return pg, err
	}
	if pg.startingAfter != "" && pg.endingBefore != "" {
		e := invalidParam("ending_before", "You may only specify one of these parameters: ending_before, starting_after.")
		e.Code = "parameters_exclusive"
		return pg, e
	}
	return pg, nil
}

// filter is a SQL WHERE clause under construction.
type filter struct {
	conds []string
	args  []any
}

func (f *filter) add(cond string, args ...any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, args...)
}

func (f *filter) sql() string {
	if len(f.conds) == 0 {
		return "1"
	}
	return strings.Join(f.conds, " AND ")
}

// readCreated reads created=<unix> or created[gt|gte|lt|lte]=<unix> into f.
func readCreated(p *params, f *filter) error {
	n, ok := p.v.hash["created"]
	if !ok {
		return nil
	}
	if n.kind == leafKind {
		v, _, err := p.integer("created")
		if err != nil {
			return err
		}
		f.add("created = ?", v)
		return nil
	}
	h, _, err := p.hash("created")
	if err != nil {
		return err
	}
	for _, op := range []struct{ key, sql string }{{"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}} {
		v, ok, err := h.integer(op.key)
		if err != nil {
			return err
		}
		if ok {
			f.add("created "+op.sql+" ?", v)
		}
	}
	return nil
}

// listRows runs a paged query over table and calls scan for each row, newest first.
// It returns has_more.
func (s *Server) listRows(ctx context.Context, table, columns, cursorParamObject string, f filter, pg page, scan func(*sql.Rows) error) (bool, error) {
	q := s.books.r
	where := f.sql()
	args := slices.Clone(f.args)
	order := "DESC"
	cursor, cursorParam := pg.startingAfter, "starting_after"
	if pg.endingBefore != "" {
		cursor, cursorParam = pg.endingBefore, "ending_before"
	}
	if cursor != "" {
		var seq int64
		err := q.QueryRowContext(ctx, "SELECT seq FROM "+table+" WHERE id = ?", cursor).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			e := noSuch(cursorParamObject, cursor, cursorParam)
			e.status = http.StatusBadRequest
			return false, e
		}
		if err != nil {
			return false, fmt.Errorf("list %s: cursor: %w", table, err)
		}
		if pg.endingBefore != "" {
			where += " AND seq > ?"
			order = "ASC"
		} else {
			where += " AND seq < ?"
		}
		args = append(args, seq)
	}
	args = append(args, pg.limit+1)
	rows, err := q.QueryContext(ctx, "SELECT "+columns+" FROM "+table+" WHERE "+where+" ORDER BY seq "+order+" LIMIT ?", args...)
	if err != nil {
		return false, fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	n := 0
	hasMore := false
	for rows.Next() {
		if n == pg.limit {
			hasMore = true
			break
		}
		if err := scan(rows); err != nil {
			return false, fmt.Errorf("list %s: %w", table, err)
		}
		n++
	}
	return hasMore, rows.Err()
}

// listIntents: GET /v1/payment_intents.
func (s *Server) listIntents(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	pg, err := readPage(p)
	if err != nil {
		return 0, nil, err
	}
	var f filter
	if err := readCreated(p, &f); err != nil {
		return 0, nil, err
	}
	exp, err := parseExpand(p, "data.latest_charge", "data.payment_method")
	if err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	ctx := c.Request.Context()
	var intents []*intent
	hasMore, err := s.listRows(ctx, "payment_intents", intentColumns, "payment_intent", f, pg, func(r *sql.Rows) error {
		pi, err := scanIntent(r)
		if err != nil {
			return err
		}
		intents = append(intents, pi)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if pg.endingBefore != "" {
		slices.Reverse(intents)
	}
	out := listJSON{Object: "list", Data: []any{}, HasMore: hasMore, URL: "/v1/payment_intents"}
	for _, pi := range intents {
		view, err := s.renderIntent(ctx, s.books.r, pi, exp.inList())
		if err != nil {
			return 0, nil, err
		}
		out.Data = append(out.Data, view)
	}
	return http.StatusOK, out, nil
}

// listRefunds: GET /v1/refunds, optionally of one payment_intent or charge.
func (s *Server) listRefunds(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	pg, err := readPage(p)
	if err != nil {
		return 0, nil, err
	}
	var f filter
	if err := readCreated(p, &f); err != nil {
		return 0, nil, err
	}
	for _, col := range []string{"payment_intent", "charge"} {
		v, ok, err := p.str(col)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			f.add(col+" = ?", v)
		}
	}
	if _, err := parseExpand(p); err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	var refunds []*refund
	hasMore, err := s.listRows(c.Request.Context(), "refunds", refundColumns, "refund", f, pg, func(r *sql.Rows) error {
		re, err := scanRefund(r)
		if err != nil {
			return err
		}
		refunds = append(refunds, re)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if pg.endingBefore != "" {
		slices.Reverse(refunds)
	}
	out := listJSON{Object: "list", Data: []any{}, HasMore: hasMore, URL: "/v1/refunds"}
	for _, re := range refunds {
		out.Data = append(out.Data, renderRefund(re))
	}
	return http.StatusOK, out, nil
}
