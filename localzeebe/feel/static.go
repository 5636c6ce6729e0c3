package feel

// IsExpression reports whether a BPMN attribute value is an expression.
// Zeebe treats a value as an expression only if it is '=' followed by at
// least one character; anything else (including a lone "=") is static.
func IsExpression(attr string) bool { return len(attr) > 1 && attr[0] == '=' }

// Static returns the static value of a non-expression attribute the way
// Zeebe's StaticExpression does: a Number if the whole text parses as a
// decimal (BigDecimal syntax, e.g. "3", "-1.5", "1e3"), else the string.
func Static(attr string) any {
	if n, err := ParseNumber(attr); err == nil {
		return n
	}
	return attr
}
