package operator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/operator"
)

// fakeLambda holds one function's configuration; an update replaces its
// layers and environment and draws a new revision, as Lambda does.
type fakeLambda struct {
	cfg       lambda.GetFunctionConfigurationOutput
	updates   []*lambda.UpdateFunctionConfigurationInput
	updateErr error
}

func (f *fakeLambda) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	c := f.cfg
	c.LastUpdateStatus = lambdatypes.LastUpdateStatusSuccessful
	return &c, nil
}

func (f *fakeLambda) UpdateFunctionConfiguration(_ context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	f.updates = append(f.updates, in)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	if aws.ToString(in.RevisionId) != aws.ToString(f.cfg.RevisionId) {
		return nil, &lambdatypes.PreconditionFailedException{Message: aws.String("revision")}
	}
	f.cfg.Layers = nil
	for _, l := range in.Layers {
		f.cfg.Layers = append(f.cfg.Layers, lambdatypes.Layer{Arn: aws.String(l)})
	}
	f.cfg.Environment = &lambdatypes.EnvironmentResponse{Variables: in.Environment.Variables}
	f.cfg.RevisionId = aws.String(aws.ToString(f.cfg.RevisionId) + "+")
	return &lambda.UpdateFunctionConfigurationOutput{}, nil
}

const (
	layerV3 = "arn:aws:lambda:us-east-1:123456789012:layer:zeebe-runtime-proxy:3"
	layerV2 = "arn:aws:lambda:us-east-1:123456789012:layer:zeebe-runtime-proxy:2"
	theirs  = "arn:aws:lambda:us-east-1:123456789012:layer:their-deps:7"
)

var attachment = operator.Attachment{LayerARN: layerV3, Environment: map[string]string{
	"AWS_LAMBDA_EXEC_WRAPPER": "/opt/zeebe-runtime-proxy",
	"ZEEBE_FULFILLER_SNS_ARN": "arn:aws:sns:us-east-1:123456789012:zeebe_jobs2complete",
	"ZEEBE_BRIDGE_NAME":       "zeebe-bridge",
}}

func layers(arns ...string) []lambdatypes.Layer {
	var ls []lambdatypes.Layer
	for _, a := range arns {
		ls = append(ls, lambdatypes.Layer{Arn: aws.String(a)})
	}
	return ls
}

func TestAttachLayer(t *testing.T) {
	python := func(ls []lambdatypes.Layer, env map[string]string) lambda.GetFunctionConfigurationOutput {
		return lambda.GetFunctionConfigurationOutput{Runtime: lambdatypes.RuntimePython312, PackageType: lambdatypes.PackageTypeZip,
			Layers: ls, Environment: &lambdatypes.EnvironmentResponse{Variables: env}, RevisionId: aws.String("r1")}
	}
	attached := map[string]string{"OWN": "kept"}
	for k, v := range attachment.Environment {
		attached[k] = v
	}
	for _, tt := range []struct {
		name       string
		cfg        lambda.GetFunctionConfigurationOutput
		attachment *operator.Attachment
		dryRun     bool
		updateErr  error
		// what the function has afterwards
		wantLayers []string
		wantEnv    map[string]string
		wantSet    []string
		replaced   []string
		changed    bool
		err        error
		errText    string
	}{
		{name: "a Python function without layers gets the layer and every variable, its own kept",
			cfg:        python(nil, map[string]string{"OWN": "kept"}),
			wantLayers: []string{layerV3}, wantEnv: attached,
			wantSet: []string{"AWS_LAMBDA_EXEC_WRAPPER", "ZEEBE_BRIDGE_NAME", "ZEEBE_FULFILLER_SNS_ARN"}, changed: true},
		{name: "attached already: nothing is sent",
			cfg:        python(layers(theirs, layerV3), attached),
			wantLayers: []string{theirs, layerV3}, wantEnv: attached},
		{name: "an earlier version of the layer is replaced in its place, another layer kept",
			cfg:        python(layers(layerV2, theirs), attached),
			wantLayers: []string{layerV3, theirs}, wantEnv: attached, replaced: []string{layerV2}, changed: true},
		{name: "a changed variable is set again",
			cfg:        python(layers(layerV3), map[string]string{"OWN": "kept", "AWS_LAMBDA_EXEC_WRAPPER": "/opt/zeebe-runtime-proxy", "ZEEBE_FULFILLER_SNS_ARN": "old", "ZEEBE_BRIDGE_NAME": "zeebe-bridge"}),
			wantLayers: []string{layerV3}, wantEnv: attached, wantSet: []string{"ZEEBE_FULFILLER_SNS_ARN"}, changed: true},
		{name: "a dry run changes nothing",
			cfg: python(nil, map[string]string{"OWN": "kept"}), dryRun: true,
			wantLayers: nil, wantEnv: map[string]string{"OWN": "kept"},
			wantSet: []string{"AWS_LAMBDA_EXEC_WRAPPER", "ZEEBE_BRIDGE_NAME", "ZEEBE_FULFILLER_SNS_ARN"}, changed: true},
		{name: "a Go function takes part through lambdakit",
			cfg: lambda.GetFunctionConfigurationOutput{Runtime: lambdatypes.RuntimeProvidedal2023, PackageType: lambdatypes.PackageTypeZip},
			err: operator.ErrNotAttachable, errText: "lambdakit.Start"},
		{name: "a container image takes no layers",
			cfg: lambda.GetFunctionConfigurationOutput{PackageType: lambdatypes.PackageTypeImage},
			err: operator.ErrNotAttachable, errText: "copy the layer's /opt/zeebe-runtime-proxy into the image"},
		{name: "another wrapper is not replaced",
			cfg: python(nil, map[string]string{"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"}),
			err: operator.ErrNotAttachable, errText: "AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument, another wrapper"},
		{name: "a sixth layer is refused",
			cfg: python(layers(theirs+"1", theirs+"2", theirs+"3", theirs+"4", theirs+"5"), nil),
			err: operator.ErrNotAttachable, errText: "would have 6 layers, Lambda allows 5"},
		{name: "no attachment in the outputs",
			cfg: python(nil, nil), attachment: &operator.Attachment{},
			err: operator.ErrNoAttachment, errText: "set attach_runtime_proxy = true"},
		{name: "a change made meanwhile by another tool is not overwritten",
			cfg: python(nil, nil), updateErr: &lambdatypes.PreconditionFailedException{Message: aws.String("revision changed")},
			errText: "changed while it was being read (revision r1): run attach-layer again"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeLambda{cfg: tt.cfg, updateErr: tt.updateErr}
			a := attachment
			if tt.attachment != nil {
				a = *tt.attachment
			}
			op := &operator.Operator{Clients: operator.Clients{Lambda: fake},
				Out: operator.Outputs{Functions: map[string]operator.FunctionQueue{"book-car": {RuntimeProxy: &a}}}}
			res, err := op.AttachLayer(context.Background(), "book-car", tt.dryRun)
			if tt.err != nil || tt.errText != "" {
				require.Error(t, err)
				if tt.err != nil {
					assert.True(t, errors.Is(err, tt.err), "%v is not %v", err, tt.err)
				}
				assert.ErrorContains(t, err, tt.errText)
				if tt.updateErr == nil {
					assert.Empty(t, fake.updates, "a refused attachment sent an update")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.changed, res.Changed)
			assert.Equal(t, tt.dryRun && tt.changed, res.DryRun)
			assert.Equal(t, tt.replaced, res.Replaced)
			var set []string
			for k := range res.Set {
				set = append(set, k)
			}
			assert.ElementsMatch(t, tt.wantSet, set)
			if tt.changed && !tt.dryRun {
				require.Len(t, fake.updates, 1)
				assert.Equal(t, "r1", aws.ToString(fake.updates[0].RevisionId), "the update names the revision read")
			} else {
				assert.Empty(t, fake.updates)
			}
			var got []string
			for _, l := range fake.cfg.Layers {
				got = append(got, aws.ToString(l.Arn))
			}
			assert.Equal(t, tt.wantLayers, got)
			assert.Equal(t, tt.wantEnv, fake.cfg.Environment.Variables)
		})
	}
	t.Run("a function the outputs do not name", func(t *testing.T) {
		op := &operator.Operator{Clients: operator.Clients{Lambda: &fakeLambda{}}}
		_, err := op.AttachLayer(context.Background(), "nope", false)
		assert.ErrorIs(t, err, operator.ErrNoAttachment)
	})
}
