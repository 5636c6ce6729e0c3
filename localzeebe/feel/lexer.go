package feel

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tName           // identifier or keyword
	tQName          // `back-quoted name`
	tNumber         // numeric literal
	tString         // string literal; text holds the decoded value
	tPunct          // operator or punctuation; text holds it
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the source
}

// ParseError is returned by Parse. Its message has the form
// "failed to parse expression '<src>': <what> at position <n>", where the
// position counts characters (runes) from 0.
type ParseError struct {
	Expr string
	Msg  string
	Pos  int // rune offset
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("failed to parse expression '%s': %s at position %d", e.Expr, e.Msg, e.Pos)
}

func newParseError(src string, off int, format string, args ...any) *ParseError {
	if off > len(src) {
		off = len(src)
	}
	return &ParseError{Expr: src, Msg: fmt.Sprintf(format, args...), Pos: utf8.RuneCountInString(src[:off])}
}

// lex splits the source into tokens; the last token is tEOF.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		// Skip white space and comments (feel-scala accepts // and /* */).
		for i < len(src) {
			r, w := utf8.DecodeRuneInString(src[i:])
			switch {
			case unicode.IsSpace(r):
				i += w
				continue
			case strings.HasPrefix(src[i:], "//"):
				if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
					i += j + 1
				} else {
					i = len(src)
				}
				continue
			case strings.HasPrefix(src[i:], "/*"):
				j := strings.Index(src[i+2:], "*/")
				if j < 0 {
					return nil, newParseError(src, i, "unterminated comment")
				}
				i += j + 4
				continue
			}
			break
		}
		if i >= len(src) {
			return append(toks, token{kind: tEOF, pos: len(src)}), nil
		}
		start := i
		c := src[i]
		switch {
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			// A '.' belongs to the number only when a digit follows, so that
			// "1..5" lexes as 1, .., 5.
			if i+1 < len(src) && src[i] == '.' && isDigit(src[i+1]) {
				i++
				for i < len(src) && isDigit(src[i]) {
					i++
				}
			}
			toks = append(toks, token{tNumber, src[start:i], start})
		case c == '"':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			i = n
			toks = append(toks, token{tString, s, start})
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return nil, newParseError(src, i, "unterminated back-quoted name")
			}
			if j == 0 {
				return nil, newParseError(src, i, "empty back-quoted name")
			}
			toks = append(toks, token{tQName, src[i+1 : i+1+j], start})
			i += j + 2
		default:
			r, w := utf8.DecodeRuneInString(src[i:])
			if isNameStart(r) {
				i += w
				for i < len(src) {
					r, w := utf8.DecodeRuneInString(src[i:])
					if !isNamePart(r) {
						break
					}
					i += w
				}
				toks = append(toks, token{tName, src[start:i], start})
				continue
			}
			op := ""
			for _, cand := range []string{"**", "..", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "+", "-", "*", "/", "=", "<", ">", "@"} {
				if strings.HasPrefix(src[i:], cand) {
					op = cand
					break
				}
			}
			if op == "" {
				return nil, newParseError(src, i, "unexpected character '%c'", r)
			}
			i += len(op)
			toks = append(toks, token{tPunct, op, start})
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isNamePart(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// lexString decodes the string literal starting at src[i] == '"'. Known
// escapes (\" \\ \n \r \t \' \uXXXX) are decoded; any other backslash
// sequence is kept verbatim, so regular expressions like "\d+" work.
func lexString(src string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch c {
		case '"':
			return b.String(), j + 1, nil
		case '\\':
			if j+1 >= len(src) {
				return "", 0, newParseError(src, i, "unterminated string")
			}
			e := src[j+1]
			switch e {
			case '"', '\\', '\'':
				b.WriteByte(e)
				j += 2
			case 'n':
				b.WriteByte('\n')
				j += 2
			case 'r':
				b.WriteByte('\r')
				j += 2
			case 't':
				b.WriteByte('\t')
				j += 2
			case 'u':
				r, n, ok := lexUnicodeEscape(src, j)
				if !ok {
					return "", 0, newParseError(src, j, "invalid unicode escape")
				}
				b.WriteRune(r)
				j = n
			default:
				b.WriteByte('\\')
				j++
			}
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, newParseError(src, i, "unterminated string")
}

// lexUnicodeEscape decodes \uXXXX at src[j:], joining a UTF-16 surrogate pair.
func lexUnicodeEscape(src string, j int) (rune, int, bool) {
	hex4 := func(k int) (rune, bool) {
		if k+6 > len(src) || src[k] != '\\' || src[k+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(src[k+2:k+6], 16, 16)
		return rune(v), err == nil
	}
	r, ok := hex4(j)
	if !ok {
		return 0, 0, false
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(j + 6); ok {
			if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
				return dec, j + 12, true
			}
		}
		return unicode.ReplacementChar, j + 6, true
	}
	return r, j + 6, true
}
