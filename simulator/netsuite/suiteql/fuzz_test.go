package suiteql

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// outputWords scans translated SQL the way SQLite would and returns its
// bare words, whether it saw a ';' outside literals, and the table names
// following FROM and JOIN.
func outputWords(t *testing.T, sql string) (words []string, semicolon bool, tables []string) {
	t.Helper()
	var prev string
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '`' || c == '"':
			j := i + 1
			for {
				k := strings.IndexByte(sql[j:], c)
				if k < 0 {
					t.Fatalf("unterminated %c in output %q", c, sql)
				}
				j += k + 1
				if j < len(sql) && sql[j] == c {
					j++
					continue
				}
				break
			}
			if c == '`' && (prev == "FROM" || prev == "JOIN") {
				tables = append(tables, strings.ReplaceAll(sql[i+1:j-1], "``", "`"))
			}
			prev = ""
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			t.Fatalf("comment in output %q", sql)
		case c == ';':
			semicolon = true
			i++
		case isIdentStart(c):
			j := i
			for j < len(sql) && (isIdentStart(sql[j]) || isDigit(sql[j]) || sql[j] == '$') {
				j++
			}
			w := sql[i:j]
			if prev == "FROM" || prev == "JOIN" {
				tables = append(tables, w)
			}
			words = append(words, strings.ToUpper(w))
			prev = strings.ToUpper(w)
			i = j
		case c == ' ':
			i++
		default:
			prev = ""
			i++
		}
	}
	return words, semicolon, tables
}

var forbidden = map[string]bool{"INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true, "DROP": true,
	"ALTER": true, "PRAGMA": true, "ATTACH": true, "DETACH": true, "VACUUM": true, "REINDEX": true,
	"ANALYZE": true, "BEGIN": true, "COMMIT": true, "ROLLBACK": true, "SAVEPOINT": true, "RELEASE": true,
	"INTO": true, "VALUES": true, "WITH": true, "RECURSIVE": true, "LOAD_EXTENSION": true}

func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		"SELECT id, BUILTIN.DF(location) FROM transaction WHERE trandate >= SYSDATE - 7 ORDER BY id FETCH FIRST 10 ROWS ONLY",
		"SELECT * FROM (SELECT itemid FROM item ORDER BY baseprice) WHERE ROWNUM <= 3",
		"SELECT a || NVL(b, 'x') FROM customer c LEFT JOIN transaction t ON t.entity = c.id GROUP BY a HAVING COUNT(*) > 1",
		"SELECT id FROM item; DROP TABLE item",
		"SELECT TO_CHAR(createddate, 'YYYY-MM-DD') FROM transaction UNION SELECT '1' FROM dual",
		"SELECT DECODE(type, 'CashSale', 1, 0), CASE WHEN x THEN 1 END, trandate + 1 FROM transaction",
		"SELECT `x` FROM item /* c */ -- d",
		"SELECT \"a\"\"b\" FROM \"item\" WHERE q = 'it''s'",
	} {
		f.Add(s)
	}
	tables := New().tables
	f.Fuzz(func(t *testing.T, q string) {
		out, err := Translate(q)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if !strings.HasPrefix(e.Msg, "Invalid search query. ") || e.Pos < 1 || e.Pos > utf8.RuneCountInString(q)+1 && utf8.ValidString(q) {
				t.Fatalf("bad error %q at %d for %q", e.Msg, e.Pos, q)
			}
			return
		}
		words, semi, froms := outputWords(t, out)
		if semi {
			t.Fatalf("output has ';': %q → %q", q, out)
		}
		if len(words) == 0 || words[0] != "SELECT" {
			t.Fatalf("output does not start with SELECT: %q → %q", q, out)
		}
		for i, w := range words {
			if forbidden[w] || w == "REPLACE" && !strings.Contains(out, "REPLACE(") {
				t.Fatalf("output has %s: %q → %q (word %d)", w, q, out, i)
			}
		}
		for _, tb := range froms {
			if !tables[strings.ToLower(tb)] && !strings.HasPrefix(tb, "_df") {
				t.Fatalf("output reads table %q: %q → %q", tb, q, out)
			}
		}
		if again, err := Translate(q); err != nil || again != out {
			t.Fatalf("translation not deterministic for %q", q)
		}
	})
}
