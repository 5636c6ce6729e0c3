package operator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// LambdaAPI is the part of the Lambda API AttachLayer uses.
type LambdaAPI interface {
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
}

// Attachment is what a function deployed by another tool needs to run behind
// the bridge's layer: modules/zeebe-lambda's output runtime_proxy_attachment
// (with attach_runtime_proxy), merged by the root into zeebe_bridge as
// functions.<name>.runtime_proxy.
type Attachment struct {
	LayerARN    string            `json:"layer_arn"`
	Environment map[string]string `json:"environment"`
}

// ExecWrapperVar is the variable with which Lambda starts the layer's proxy
// in front of the runtime.
const ExecWrapperVar = "AWS_LAMBDA_EXEC_WRAPPER"

// maxLayers is Lambda's limit of layers per function.
const maxLayers = 5

// Errors of AttachLayer, for errors.Is.
var (
	// ErrNoAttachment: the outputs hold no runtime_proxy for the function.
	ErrNoAttachment = errors.New("no runtime_proxy attachment for the function")
	// ErrNotAttachable: the function cannot run behind the layer as it is.
	ErrNotAttachable = errors.New("the function cannot take the layer")
)

// AttachResult says what AttachLayer changed, or would change.
type AttachResult struct {
	Function string   `json:"function"`
	Runtime  string   `json:"runtime"`
	Layers   []string `json:"layers"`
	// Replaced are earlier versions of the bridge's layer taken off.
	Replaced []string `json:"replaced,omitempty"`
	// Set are the variables given a new value (or added), by name.
	Set     map[string]string `json:"set,omitempty"`
	Changed bool              `json:"changed"`
	DryRun  bool              `json:"dryRun,omitempty"`
}

// AttachLayer gives an existing function in a managed runtime the bridge's
// layer and the environment it needs, as modules/zeebe-lambda does for a
// function it creates: the attachment from the outputs, merged into what the
// function has (its own layers and variables stay; an earlier version of the
// bridge's layer is replaced). Nothing is sent when nothing would change or
// with dryRun. The update names the revision read, so a change made meanwhile
// by another tool is not overwritten.
func (o *Operator) AttachLayer(ctx context.Context, function string, dryRun bool) (AttachResult, error) {
	fq, ok := o.Out.Functions[function]
	if !ok || fq.RuntimeProxy == nil || fq.RuntimeProxy.LayerARN == "" {
		return AttachResult{}, fmt.Errorf("%w %s: the %q output has none; set attach_runtime_proxy = true (with create_function = false and runtime_proxy_layer_arn) on its zeebe-lambda module, apply, and merge the module's runtime_proxy_attachment into the root's output as functions.<name>.runtime_proxy (terraform/examples/trip-booking/outputs.tf)",
			ErrNoAttachment, function, OutputName)
	}
	if o.Clients.Lambda == nil {
		return AttachResult{}, errors.New("operator: no Lambda client")
	}
	cfg, err := o.Clients.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	if err != nil {
		return AttachResult{}, fmt.Errorf("read the configuration of function %s: %w", function, err)
	}
	res, update, err := plan(function, cfg, *fq.RuntimeProxy)
	if err != nil || !res.Changed || dryRun {
		res.DryRun = dryRun && res.Changed
		return res, err
	}
	update.RevisionId = cfg.RevisionId
	if _, err := o.Clients.Lambda.UpdateFunctionConfiguration(ctx, update); err != nil {
		var pre *lambdatypes.PreconditionFailedException
		if errors.As(err, &pre) {
			return res, fmt.Errorf("function %s changed while it was being read (revision %s): run attach-layer again: %w", function, aws.ToString(cfg.RevisionId), err)
		}
		return res, fmt.Errorf("update the configuration of function %s: %w", function, err)
	}
	w := lambda.NewFunctionUpdatedWaiter(o.Clients.Lambda)
	if err := w.Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)}, 2*time.Minute); err != nil {
		return res, fmt.Errorf("function %s was updated, but its update did not finish: %w", function, err)
	}
	return res, nil
}

// plan merges the attachment into a function's configuration: the result and
// the update to send (nil when nothing changes).
func plan(function string, cfg *lambda.GetFunctionConfigurationOutput, a Attachment) (AttachResult, *lambda.UpdateFunctionConfigurationInput, error) {
	res := AttachResult{Function: function, Runtime: string(cfg.Runtime)}
	switch {
	case cfg.PackageType == lambdatypes.PackageTypeImage:
		return res, nil, fmt.Errorf("%w: %s is a container image, which takes no layers: copy the layer's /opt/zeebe-runtime-proxy into the image and set %s=/opt/zeebe-runtime-proxy in it (docs/runtimes.md)", ErrNotAttachable, function, ExecWrapperVar)
	case cfg.Runtime == "" || strings.HasPrefix(string(cfg.Runtime), "provided"):
		return res, nil, fmt.Errorf("%w: %s runs on %q, an OS-only runtime: a Go function takes part through lambdakit (lambdakit.Start), not the layer", ErrNotAttachable, function, cfg.Runtime)
	}
	env := map[string]string{}
	if cfg.Environment != nil {
		for k, v := range cfg.Environment.Variables {
			env[k] = v
		}
	}
	if w, ok := env[ExecWrapperVar]; ok && w != a.Environment[ExecWrapperVar] {
		return res, nil, fmt.Errorf("%w: %s already has %s=%s, another wrapper; Lambda starts one: remove it first, or have that wrapper start %s", ErrNotAttachable, function, ExecWrapperVar, w, a.Environment[ExecWrapperVar])
	}
	for _, k := range sortedKeys(a.Environment) {
		if v, ok := env[k]; !ok || v != a.Environment[k] {
			if res.Set == nil {
				res.Set = map[string]string{}
			}
			res.Set[k] = a.Environment[k]
			env[k] = a.Environment[k]
		}
	}
	// A layer is its ARN with a version; the bridge's replaces its own
	// earlier versions and keeps its place among the others.
	name := layerName(a.LayerARN)
	placed := false
	for _, l := range cfg.Layers {
		arn := aws.ToString(l.Arn)
		switch {
		case arn == a.LayerARN:
			res.Layers = append(res.Layers, arn)
			placed = true
		case layerName(arn) == name:
			res.Replaced = append(res.Replaced, arn)
			if !placed {
				res.Layers = append(res.Layers, a.LayerARN)
				placed = true
			}
		default:
			res.Layers = append(res.Layers, arn)
		}
	}
	if !placed {
		res.Layers = append(res.Layers, a.LayerARN)
	}
	if len(res.Layers) > maxLayers {
		return res, nil, fmt.Errorf("%w: %s would have %d layers, Lambda allows %d: merge or remove one of %s", ErrNotAttachable, function, len(res.Layers), maxLayers, strings.Join(res.Layers[:len(res.Layers)-1], ", "))
	}
	layersChanged := len(res.Layers) != len(cfg.Layers) || len(res.Replaced) > 0
	res.Changed = layersChanged || len(res.Set) > 0
	if !res.Changed {
		return res, nil, nil
	}
	return res, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(function),
		Layers:       res.Layers,
		Environment:  &lambdatypes.Environment{Variables: env},
	}, nil
}

// layerName is a layer version's ARN without its version.
func layerName(arn string) string {
	if i := strings.LastIndexByte(arn, ':'); i > 0 {
		return arn[:i]
	}
	return arn
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
