package lambdakit

import (
	"fmt"
	"runtime/debug"
)

// BPMNError returns an error that, returned by a handler, throws a BPMN
// error with this code in the process instead of failing the job: a
// boundary or event-subprocess error event with the same code catches it.
// vars (nil, a map or a struct that encodes as a JSON object) become
// variables of the catching scope. The error may be wrapped with %w;
// lambdakit finds it with errors.As. An empty code is a bug in the
// function and raises an incident.
func BPMNError(code, message string, vars any) error {
	return &bpmnError{code: code, message: message, vars: vars}
}

type bpmnError struct {
	code    string
	message string
	vars    any
}

func (e *bpmnError) Error() string { return fmt.Sprintf("BPMN error %s: %s", e.code, e.message) }

// panicError is a recovered handler panic.
type panicError struct {
	value any
	stack string
}

func newPanicError(v any) *panicError { return &panicError{value: v, stack: string(debug.Stack())} }

func (e *panicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.value) }

// Value is the panic value as text, for logs.
func (e *panicError) Value() string { return fmt.Sprint(e.value) }

// inputError: the job's variables (or a direct invocation's payload) do not
// decode into the handler's input type.
type inputError struct {
	typ string
	err error
}

func (e *inputError) Error() string {
	return fmt.Sprintf("the input does not fit the handler's input type %s: %v", e.typ, e.err)
}

// as says what did not fit, "the job's variables" say.
func (e *inputError) as(what, verb string) string {
	return fmt.Sprintf("%s %s not fit the handler's input type %s: %v", what, verb, e.typ, e.err)
}

func (e *inputError) Unwrap() error { return e.err }
