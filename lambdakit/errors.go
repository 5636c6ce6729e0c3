package lambdakit

import "fmt"

// BPMNError returns an error that, returned by a handler, throws a BPMN error
// with this code in the process instead of failing the job. A boundary error
// event with the same code catches it; vars (nil, a map or a struct) become
// variables of the element. It may be wrapped with %w.
func BPMNError(code, message string, vars any) error {
	return &bpmnError{code: code, message: message, vars: vars}
}

type bpmnError struct {
	code    string
	message string
	vars    any
}

func (e *bpmnError) Error() string { return fmt.Sprintf("BPMN error %s: %s", e.code, e.message) }
