// Package suiteql translates NetSuite SuiteQL queries into SQLite SQL over
// views named like NetSuite's tables.
package suiteql

import "strconv"

// Error is a query the translator refuses: Msg is the whole NetSuite-style
// message, Pos the 1-based character position, Construct what was refused.
type Error struct {
	Msg       string
	Pos       int
	Construct string
}

func (e *Error) Error() string { return e.Msg }

// Translate turns one SuiteQL SELECT into SQLite SQL.
func Translate(q string) (string, error) {
	return "", &Error{Msg: "Invalid search query. Not implemented yet.", Pos: 1}
}

// Page wraps a translated query so it returns at most limit rows after
// skipping offset rows; a negative limit means no limit.
func Page(sql string, limit, offset int) string {
	return "SELECT * FROM (" + sql + ") LIMIT " + strconv.Itoa(limit) + " OFFSET " + strconv.Itoa(offset)
}

// Count wraps a translated query so it returns its number of rows.
func Count(sql string) string {
	return "SELECT COUNT(*) FROM (" + sql + ")"
}
