package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// maxProblems bounds the problems reported for one file.
const maxProblems = 20

// Problem is one thing wrong with a scenario file.
type Problem struct {
	File string // file name as given to Load or Parse
	Line int    // 1-based
	Col  int    // 1-based
	Path string // key path, e.g. "scenarios.checkout.rate"; empty for the whole file
	Msg  string // what is wrong and what was expected
}

// String formats the problem as "file:line:col: path: msg".
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", p.File, p.Line, p.Col)
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is returned by Load and Parse for a file that is not a valid scenario file. It holds
// every problem found (up to 20), ordered by position.
type Error struct {
	Problems []Problem
	// Omitted counts problems found beyond those listed.
	Omitted int
}

// Error formats one problem per line.
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	if e.Omitted > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more problems", e.Omitted))
	}
	return strings.Join(lines, "\n")
}

// problems collects the problems of one file.
type problems struct {
	file string
	t    *tree
	list []Problem
}

// add records a problem about the value at ptr (or its key, when atKey).
func (ps *problems) add(tokens []string, atKey bool, format string, args ...any) {
	p := pos{1, 1}
	path := ""
	if ps.t != nil {
		p = ps.t.position(pointer(tokens...), atKey)
		path = ps.t.displayPath(tokens)
	}
	ps.list = append(ps.list, Problem{File: ps.file, Line: p.line, Col: p.col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems as an *Error, or nil when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	list = slices.CompactFunc(list, func(a, b Problem) bool { return a == b })
	e := &Error{Problems: list}
	if len(list) > maxProblems {
		e.Problems, e.Omitted = list[:maxProblems], len(list)-maxProblems
	}
	return e
}

// suggest returns the candidate closest to s, if one is close enough to be a likely typo.
func suggest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c, true
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := max(1, min(3, len([]rune(s))/3))
	if bestD >= 0 && bestD <= limit {
		return best, true
	}
	// A prefix of a longer key ("pre" for "preAllocatedVUs") or the other way around.
	if len(s) >= 3 {
		for _, c := range candidates {
			ls, lc := strings.ToLower(s), strings.ToLower(c)
			if strings.HasPrefix(lc, ls) || strings.HasPrefix(ls, lc) && len(c) >= 3 {
				return c, true
			}
		}
	}
	return "", false
}

// editDistance is the optimal-string-alignment distance: insertions, deletions,
// substitutions and transpositions of neighbours each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return max(len(ra), len(rb))
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// didYouMean returns ` (did you mean "x"?)` for a likely typo of a candidate, else "".
func didYouMean(s string, candidates []string) string {
	if c, ok := suggest(s, candidates); ok {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
