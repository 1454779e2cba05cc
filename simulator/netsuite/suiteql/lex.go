package suiteql

import (
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tkEOF    tokKind = iota
	tkIdent          // bare identifier or keyword; up holds it upper-cased
	tkQIdent         // "quoted identifier"; text holds the unquoted name
	tkString         // 'string literal'; text holds the value
	tkNumber         // numeric literal, as written
	tkOp             // operator or punctuation: ( ) , . * + - / || = <> != ^= < <= > >= ;
)

type token struct {
	kind tokKind
	text string
	up   string // upper-cased text of identifiers and operators
	pos  int    // byte offset in the query
}

// maxQueryLen bounds the query text the translator accepts.
const maxQueryLen = 100_000

// lex splits q into tokens, dropping whitespace and comments.
func lex(q string) ([]token, error) {
	if len(q) > maxQueryLen {
		return nil, newError(q, 0, "query length", "Invalid search query. The query is longer than %d characters.", maxQueryLen)
	}
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return nil, newError(q, i, "/*", "Invalid search query. Unterminated comment at position %d.", pos(q, i))
			}
			i += end + 4
		case isIdentStart(c):
			start := i
			for i < len(q) && isIdentPart(q[i]) {
				i++
			}
			word := q[start:i]
			if i < len(q) && q[i] == '\'' {
				switch strings.ToUpper(word) {
				case "N": // national character literal: an ordinary string here
					s, next, err := lexString(q, i)
					if err != nil {
						return nil, err
					}
					toks = append(toks, token{kind: tkString, text: s, pos: start})
					i = next
					continue
				case "Q", "NQ":
					return nil, newError(q, start, "q'…' quoting", "Invalid search query. Unsupported construct \"q'…' quoting\" at position %d.", pos(q, start))
				}
			}
			toks = append(toks, token{kind: tkIdent, text: word, up: strings.ToUpper(word), pos: start})
		case c == '"':
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return nil, newError(q, i, `"`, "Invalid search query. Unterminated quoted identifier at position %d.", pos(q, i))
			}
			name := q[i+1 : i+1+end]
			if name == "" {
				return nil, newError(q, i, `""`, "Invalid search query. Empty quoted identifier at position %d.", pos(q, i))
			}
			toks = append(toks, token{kind: tkQIdent, text: name, up: strings.ToUpper(name), pos: i})
			i += end + 2
		case c == '\'':
			s, next, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tkString, text: s, pos: i})
			i = next
		case isDigit(c) || c == '.' && i+1 < len(q) && isDigit(q[i+1]):
			start := i
			for i < len(q) && isDigit(q[i]) {
				i++
			}
			if i < len(q) && q[i] == '.' {
				i++
				for i < len(q) && isDigit(q[i]) {
					i++
				}
			}
			if i < len(q) && (q[i] == 'e' || q[i] == 'E') {
				j := i + 1
				if j < len(q) && (q[j] == '+' || q[j] == '-') {
					j++
				}
				if j < len(q) && isDigit(q[j]) {
					for j < len(q) && isDigit(q[j]) {
						j++
					}
					i = j
				}
			}
			if i < len(q) && (isIdentPart(q[i]) || q[i] == '.') {
				return nil, newError(q, start, q[start:i+1], "Invalid search query. Malformed number %q at position %d.", q[start:i+1], pos(q, start))
			}
			toks = append(toks, token{kind: tkNumber, text: q[start:i], pos: start})
		default:
			op := ""
			if i+1 < len(q) {
				switch two := q[i : i+2]; two {
				case "||", "<=", ">=", "<>", "!=", "^=":
					op = two
				}
			}
			if op == "" && strings.IndexByte("(),.*+-/=<>;", c) >= 0 {
				op = q[i : i+1]
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(q[i:])
				return nil, newError(q, i, string(r), "Invalid search query. Unexpected character %q at position %d.", r, pos(q, i))
			}
			toks = append(toks, token{kind: tkOp, text: op, up: op, pos: i})
			i += len(op)
		}
	}
	return append(toks, token{kind: tkEOF, pos: len(q)}), nil
}

// lexString reads the string literal starting at q[i] == '\”.
func lexString(q string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for {
		k := strings.IndexByte(q[j:], '\'')
		if k < 0 {
			return "", 0, newError(q, i, "'", "Invalid search query. Unterminated string at position %d.", pos(q, i))
		}
		b.WriteString(q[j : j+k])
		j += k + 1
		if j < len(q) && q[j] == '\'' {
			b.WriteByte('\'')
			j++
			continue
		}
		return b.String(), j, nil
	}
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '$' || c == '#' }

// pos converts a byte offset into the 1-based character position NetSuite reports.
func pos(q string, off int) int {
	if off > len(q) {
		off = len(q)
	}
	return utf8.RuneCountInString(q[:off]) + 1
}
