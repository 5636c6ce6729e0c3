package topology_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
)

func TestNamesAndSettings(t *testing.T) {
	assert.Equal(t, "zeebe_book-hotel", topology.FunctionQueue("book-hotel"))
	assert.Equal(t, "zeebe_book-hotel_dlq", topology.FunctionDLQ("book-hotel"))
	assert.Equal(t, time.Minute, topology.VisibilityTimeout(10*time.Second))
	assert.JSONEq(t, `{"lambdaIdentifier":["book-hotel"]}`, topology.FilterPolicy("book-hotel"))
	assert.JSONEq(t, `{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":1}`, topology.RedrivePolicy("arn:dlq", topology.FunctionMaxReceiveCount))

	var policy struct {
		Statement []struct {
			Resource  string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(topology.QueuePolicy("arn:q", "arn:t")), &policy))
	require.Len(t, policy.Statement, 1)
	assert.Equal(t, "arn:q", policy.Statement[0].Resource)
	assert.Equal(t, "arn:t", policy.Statement[0].Condition["ArnEquals"]["aws:SourceArn"])
}

func TestValidateFunction(t *testing.T) {
	tests := []struct {
		name    string
		fn      string
		timeout time.Duration
		wantErr string
	}{
		{"ok", "book-hotel", 10 * time.Second, ""},
		{"max timeout", "f", 900 * time.Second, ""},
		{"timeout above Lambda's limit", "f", 901 * time.Second, "900s"},
		{"bad name", "book hotel", time.Second, "letters"},
		{"longest name", strings.Repeat("a", 64), time.Second, ""},
		{"name too long", strings.Repeat("a", 65), time.Second, "1-64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := topology.ValidateFunction(tt.fn, tt.timeout)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
