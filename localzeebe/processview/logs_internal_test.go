package processview

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJobKeyOf(t *testing.T) {
	tests := []struct {
		line string
		want int64
	}{
		{`{"time":"2026-12-06T04:04:30Z","level":"INFO","msg":"outcome published","jobKey":2251799813685291}`, 2251799813685291},
		{`{"msg":"handler threw a BPMN error","jobKey":9007199254740993,"processInstanceKey":1}`, 9007199254740993},
		{`{"msg":"poller run finished","activated":3}`, 0},
		{`{"msg":"a key as text","jobKey":"2251799813685291"}`, 0},
		{`START RequestId: 0b5a Version: $LATEST`, 0},
		{`REPORT RequestId: 0b5a Duration: 3.1 ms`, 0},
		{`{"msg":"cut off","jobKey":22517`, 0},
		{``, 0},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			assert.Equal(t, tc.want, jobKeyOf(tc.line))
		})
	}
}
