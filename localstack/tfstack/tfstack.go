// Package tfstack applies the Terraform root modules of the local
// environment (localstack/terraform, which uses terraform/modules) to
// LocalStack with terraform-exec, and reads what they created from their
// outputs. The demo and the end-to-end tests deploy through it, so the AWS
// side is described once, in the modules users apply.
//
// Terraform itself comes from TF_BINARY (the Makefile builds it into
// .local/bin and sets it); the AWS provider from wherever Terraform's CLI
// configuration (TF_CLI_CONFIG_FILE, which the Makefile writes when a
// filesystem mirror exists) says, else the public registry.
package tfstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"
)

// DefaultEndpoint is where localstack/stack starts LocalStack without
// STACK_PORT_OFFSET.
const DefaultEndpoint = "http://127.0.0.1:4566"

// Endpoint is $AWS_ENDPOINT_URL, or where localstack/stack starts LocalStack
// for $STACK_PORT_OFFSET (DefaultEndpoint without it): a test run beside
// another stack must never reach the default one by mistake.
func Endpoint() string {
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		return e
	}
	return fmt.Sprintf("http://127.0.0.1:%d", 4566+PortOffset())
}

// PortOffset is $STACK_PORT_OFFSET, by which localstack/stack shifts every
// port of a second stack; 0 when unset or not a number (the stack refuses
// those).
func PortOffset() int {
	n, err := strconv.Atoi(os.Getenv("STACK_PORT_OFFSET"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// AWSConfig is the AWS SDK configuration for LocalStack: its endpoint, the
// region from AWS_REGION (default us-east-1) and LocalStack's dummy
// credentials unless real ones are configured.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(5), config.WithBaseEndpoint(Endpoint())}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config for LocalStack: %w", err)
	}
	return cfg, nil
}

// ErrProvider: terraform init could not install the AWS provider.
var ErrProvider = errors.New("the AWS provider could not be installed")

// parallelism lets every queue of the stack wait at once: the AWS provider
// waits about 25 s for each queue's and queue policy's attributes to read back
// consistently, and Terraform's default of 10 would queue those waits up.
const parallelism = 40

// lockInit holds an exclusive lock on the terraform inits of this local
// directory, across processes and goroutines alike (each call opens the file
// afresh, and flock locks an open file): the test packages run at once, the
// end-to-end tests apply two roots at once, and Terraform's plugin cache is
// not safe for concurrent installs.
func lockInit() (unlock func(), err error) {
	dir := filepath.Join(LocalDir(), "terraform")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".init.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

// Root is one Terraform root module of the repository, applied with its own
// state under the local directory.
type Root struct {
	// Dir is the root module's directory, relative to the repository.
	Dir string
	// Name names its state and working copy: .local/terraform/<Name>.
	Name string
	// Vars are its input variables; any JSON-encodable value.
	Vars map[string]any
	// Log receives Terraform's output (nil: discarded).
	Log io.Writer
	// OTLPEndpoint, when set, is the OTEL_EXPORTER_OTLP_ENDPOINT of every
	// function: they export their spans there.
	OTLPEndpoint string
	// Tree is the directory the root and terraform/modules are copied from
	// (an older layout, say, from git archive); empty: this repository.
	Tree string
	// SkipUnchanged: Apply does not run terraform apply when the last apply
	// of this root was to the same LocalStack session, with the same
	// modules, variables, zips (Zips) and terraform, and did not fail
	// (the demo's second run). Destroy forgets it.
	SkipUnchanged bool
	// Zips is the directory whose *.zip files count for SkipUnchanged.
	Zips string
}

// Apply runs terraform init and apply and returns the root's outputs as JSON.
func (r Root) Apply(ctx context.Context) (map[string]json.RawMessage, error) {
	out, _, err := r.ApplyIfChanged(ctx)
	return out, err
}

// ApplyIfChanged is Apply, which with SkipUnchanged reads the outputs
// without applying when nothing changed (see SkipUnchanged); applied says
// whether terraform apply ran.
func (r Root) ApplyIfChanged(ctx context.Context) (out map[string]json.RawMessage, applied bool, err error) {
	tf, err := r.init(ctx)
	if err != nil {
		return nil, false, err
	}
	var fp string
	if r.SkipUnchanged {
		// No fingerprint (LocalStack unreachable, say): apply, which says why.
		fp, _ = r.fingerprint(ctx)
		if last, err := os.ReadFile(r.fingerprintFile()); err == nil && fp != "" && string(last) == fp {
			out, err := r.outputs(ctx, tf)
			return out, false, err
		}
	}
	if err := r.forgetApply(); err != nil {
		return nil, false, err
	}
	if err := tf.Apply(ctx, tfexec.VarFile(r.varFile()), tfexec.Parallelism(parallelism)); err != nil {
		return nil, true, fmt.Errorf("terraform apply of %s: %w", r.Dir, err)
	}
	if fp != "" {
		if err := os.WriteFile(r.fingerprintFile(), []byte(fp), 0o600); err != nil {
			return nil, true, err
		}
	}
	out, err = r.outputs(ctx, tf)
	return out, true, err
}

func (r Root) fingerprintFile() string { return filepath.Join(r.work(), "applied.fingerprint") }

// forgetApply drops the fingerprint of the last SkipUnchanged apply: any
// other change to the root's resources makes the next apply run.
func (r Root) forgetApply() error {
	if err := os.Remove(r.fingerprintFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// fingerprint is what an apply of the root depends on: LocalStack's session
// (a restarted LocalStack has lost everything), the copied root and modules,
// the variables, the zips and the terraform binary.
func (r Root) fingerprint(ctx context.Context) (string, error) {
	session, err := localstackSession(ctx)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "localstack session %s\nterraform %s\n", session, os.Getenv("TF_BINARY"))
	add := func(name string) error {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "file %s\n", name)
		_, err = io.Copy(h, f)
		return err
	}
	if err := add(r.varFile()); err != nil {
		return "", err
	}
	err = filepath.WalkDir(filepath.Join(r.work(), "src"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return add(path)
	})
	if err != nil {
		return "", err
	}
	if r.Zips != "" {
		zips, err := filepath.Glob(filepath.Join(r.Zips, "*.zip"))
		if err != nil {
			return "", err
		}
		for _, z := range zips { // Glob sorts
			if err := add(z); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// localstackSession is the id LocalStack draws at each start.
func localstackSession(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, Endpoint()+"/_localstack/info", nil)
	if err != nil {
		return "", err
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var info struct {
		SessionID string `json:"session_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.SessionID == "" {
		return "", fmt.Errorf("LocalStack at %s gave no session id: %v", Endpoint(), err)
	}
	return info.SessionID, nil
}

// Plan runs terraform init and plan, saves the plan for ApplyPlan and returns
// it as terraform show -json reads it: what apply would do, moves included.
func (r Root) Plan(ctx context.Context) (*tfjson.Plan, error) {
	tf, err := r.init(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tf.Plan(ctx, tfexec.VarFile(r.varFile()), tfexec.Parallelism(parallelism), tfexec.Out(r.planFile())); err != nil {
		return nil, fmt.Errorf("terraform plan of %s: %w", r.Dir, err)
	}
	// The JSON is the return value, not something to log.
	tf.SetStdout(io.Discard)
	plan, err := tf.ShowPlanFile(ctx, r.planFile())
	if err != nil {
		return nil, fmt.Errorf("terraform show of the plan of %s: %w", r.Dir, err)
	}
	return plan, nil
}

// ApplyPlan applies the plan the last Plan saved, exactly that plan.
func (r Root) ApplyPlan(ctx context.Context) error {
	tf, err := r.init(ctx)
	if err != nil {
		return err
	}
	if err := r.forgetApply(); err != nil {
		return err
	}
	if err := tf.Apply(ctx, tfexec.DirOrPlan(r.planFile()), tfexec.Parallelism(parallelism)); err != nil {
		return fmt.Errorf("terraform apply of the saved plan of %s: %w", r.Dir, err)
	}
	return nil
}

// State returns the root's state as terraform show -json reads it.
func (r Root) State(ctx context.Context) (*tfjson.State, error) {
	tf, err := r.init(ctx)
	if err != nil {
		return nil, err
	}
	tf.SetStdout(io.Discard)
	st, err := tf.Show(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform show of %s: %w", r.Dir, err)
	}
	return st, nil
}

// Destroy runs terraform destroy with the variables of the last Apply.
func (r Root) Destroy(ctx context.Context) error {
	tf, err := r.init(ctx)
	if err != nil {
		return err
	}
	if err := r.forgetApply(); err != nil {
		return err
	}
	if err := tf.Destroy(ctx, tfexec.VarFile(r.varFile()), tfexec.Parallelism(parallelism)); err != nil {
		return fmt.Errorf("terraform destroy of %s: %w", r.Dir, err)
	}
	return nil
}

func (r Root) outputs(ctx context.Context, tf *tfexec.Terraform) (map[string]json.RawMessage, error) {
	meta, err := tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform output of %s: %w", r.Dir, err)
	}
	out := make(map[string]json.RawMessage, len(meta))
	for k, v := range meta {
		out[k] = v.Value
	}
	return out, nil
}

func (r Root) work() string { return filepath.Join(LocalDir(), "terraform", r.Name) }

// WorkingDir is the initialised copy of the root that Apply ran terraform
// in, and DataDir its TF_DATA_DIR: `terraform output` there, with that
// TF_DATA_DIR, reads the root's state.
func (r Root) WorkingDir() string { return filepath.Join(r.work(), "src", r.Dir) }

// DataDir: see WorkingDir.
func (r Root) DataDir() string { return filepath.Join(r.work(), "data") }

func (r Root) varFile() string { return filepath.Join(r.work(), "vars.tfvars.json") }

func (r Root) planFile() string { return filepath.Join(r.work(), "plan.tfplan") }

// StatePath is the root's state file; it exists once Apply has run.
func (r Root) StatePath() string { return filepath.Join(r.work(), "terraform.tfstate") }

// terraform prepares the working copy: the root and terraform/modules are
// copied fresh from Tree (default: the repository) under
// .local/terraform/<Name>/src, keeping their relative paths, so .terraform,
// the lock file and the state never land in the repository and an edited
// module is always what gets applied.
func (r Root) terraform() (*tfexec.Terraform, error) {
	bin := os.Getenv("TF_BINARY")
	if bin == "" {
		return nil, errors.New("TF_BINARY is not set: point it at a terraform binary (the Makefile builds .local/bin/terraform-<version> and sets it)")
	}
	repo := r.Tree
	if repo == "" {
		var err error
		if repo, err = RepoDir(); err != nil {
			return nil, err
		}
	}
	src := filepath.Join(r.work(), "src")
	if err := os.RemoveAll(src); err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Join("terraform", "modules"), r.Dir} {
		if err := copyTF(filepath.Join(repo, d), filepath.Join(src, d)); err != nil {
			return nil, fmt.Errorf("copy %s to %s: %w", d, src, err)
		}
	}
	tf, err := tfexec.NewTerraform(filepath.Join(src, r.Dir), bin)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	// .terraform (providers, module manifest) survives the fresh copy.
	env["TF_DATA_DIR"] = r.DataDir()
	// A fresh copy has no lock file, and without one Terraform 1.4 and later
	// install the provider into the shared plugin cache again on every init,
	// replacing the entry that other roots' plans and applies are reading
	// ("there is no package for registry.terraform.io/hashicorp/aws cached").
	// With this the cached provider is linked as it is.
	if env["TF_PLUGIN_CACHE_DIR"] != "" {
		env["TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE"] = "true"
	}
	if err := tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
		return nil, err
	}
	if r.Log != nil {
		tf.SetStdout(r.Log)
		tf.SetStderr(r.Log)
	}
	return tf, nil
}

func (r Root) init(ctx context.Context) (*tfexec.Terraform, error) {
	tf, err := r.terraform()
	if err != nil {
		return nil, err
	}
	if r.Vars != nil {
		b, err := json.MarshalIndent(r.Vars, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(r.varFile(), b, 0o600); err != nil {
			return nil, err
		}
	}
	unlock, err := lockInit()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var stderr strings.Builder
	if r.Log != nil {
		tf.SetStderr(io.MultiWriter(r.Log, &stderr))
	} else {
		tf.SetStderr(&stderr)
	}
	err = tf.Init(ctx, tfexec.BackendConfig("path="+r.StatePath()))
	if r.Log != nil {
		tf.SetStderr(r.Log)
	} else {
		tf.SetStderr(io.Discard)
	}
	if err != nil {
		return nil, fmt.Errorf("%w by terraform init of %s (from %s): set TF_PLUGIN_MIRROR to a directory made with `terraform providers mirror`, or TF_CLI_CONFIG_FILE to a CLI configuration that names one (make does either when it finds a mirror); terraform said: %s",
			ErrProvider, r.Dir, providerSource(), errorLine(stderr.String()+"\n"+err.Error()))
	}
	return tf, nil
}

// providerSource says where the CLI configuration sends Terraform for providers.
func providerSource() string {
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f != "" {
		if _, err := os.Stat(f); err == nil {
			return "CLI configuration " + f
		}
	}
	return "registry.terraform.io, not reachable from machines without internet access"
}

// errorLine picks terraform's "Error: ..." line out of its boxed output.
func errorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(strings.TrimLeft(l, "│╷╵ ")); strings.HasPrefix(l, "Error:") {
			return l
		}
	}
	return strings.TrimSpace(s)
}

// copyTF copies the .tf files below from into to.
func copyTF(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && p != from {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !strings.HasSuffix(p, ".tf") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
}

// RepoDir is the repository that contains the working directory (where go.mod is).
func RepoDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run from inside the repository", dir)
		}
	}
}

// LocalDir is $BRIDGE_LOCAL_DIR, or .local in the repository.
func LocalDir() string {
	if d := os.Getenv("BRIDGE_LOCAL_DIR"); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			return abs
		}
		return d
	}
	repo, err := RepoDir()
	if err != nil {
		return ".local"
	}
	return filepath.Join(repo, ".local")
}

// Architecture is the Lambda architecture of the zips `make build` wrote:
// GOARCH_LAMBDA (default amd64) in Lambda's spelling.
func Architecture() string {
	arch := os.Getenv("GOARCH_LAMBDA")
	if arch == "" {
		arch = "amd64"
	}
	if arch == "amd64" {
		return "x86_64"
	}
	return arch
}

// Options configure the local deployment.
type Options struct {
	// Dist holds the zips from `make build`.
	Dist string
	// Functions are made Zeebe-ready besides the poller and fulfiller.
	Functions []catalog.Function
	// ZeebeAddress is where the Lambdas find Zeebe ($ZEEBE_ADDRESS by default).
	ZeebeAddress string
	// Log receives Terraform's output (nil: discarded).
	Log io.Writer
	// OTLPEndpoint, when set, is the OTEL_EXPORTER_OTLP_ENDPOINT of every
	// function: they export their spans there.
	OTLPEndpoint string
	// OTLPHeaders, when set with OTLPEndpoint, are the exporter's headers
	// (key=value,...): stored in a Secrets Manager secret whose ARN the
	// modules get as otel_headers_secret_arn, as a user would pass an API key.
	OTLPHeaders string
	// SkipUnchanged: see Root.SkipUnchanged (the zips are Dist's).
	SkipUnchanged bool
}

// Function is what the deployment created for one function.
type Function struct {
	FunctionName string `json:"function_name"`
	FunctionARN  string `json:"function_arn"`
	LogGroupName string `json:"log_group_name"`
	QueueURL     string `json:"queue_url"`
	DLQURL       string `json:"dlq_url"`
}

// Stack is what localstack/terraform created, read from its outputs.
type Stack struct {
	// Applied says whether terraform apply ran (see Options.SkipUnchanged).
	Applied                  bool                `json:"-"`
	JobsTopicARN             string              `json:"jobs_topic_arn"`
	OutcomesTopicARN         string              `json:"outcomes_topic_arn"`
	OutcomesQueueURL         string              `json:"outcomes_queue_url"`
	OutcomesDLQURL           string              `json:"outcomes_dlq_url"`
	PollerFunctionName       string              `json:"poller_function_name"`
	FulfillerFunctionName    string              `json:"fulfiller_function_name"`
	ReturnerFunctionName     string              `json:"returner_function_name"`
	JobTokenSecretARN        string              `json:"job_token_secret_arn"`
	PayloadBucket            string              `json:"payload_bucket"`
	PollerScheduleRuleName   string              `json:"poller_schedule_rule_name"`
	PollerScheduleExpression string              `json:"poller_schedule_expression"`
	Functions                map[string]Function `json:"functions"`
	CallbackFunctionURL      string              `json:"callback_function_url"`
	// BusinessEventsTopicARN is the topic whose events echo and chaos-py
	// take on their job queues.
	BusinessEventsTopicARN string `json:"business_events_topic_arn"`
	// LongWorkQueueURL and LongWorkFinishLogGroup are empty unless the
	// long-work example is deployed.
	LongWorkQueueURL       string `json:"long_work_queue_url"`
	LongWorkFinishLogGroup string `json:"long_work_finish_log_group"`
}

// FunctionNames lists the deployed target functions, sorted.
func (s *Stack) FunctionNames() []string {
	var out []string
	for k := range s.Functions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Local is the root module of the local environment, localstack/terraform.
func Local(opts Options) (Root, error) {
	dist, err := filepath.Abs(opts.Dist)
	if err != nil {
		return Root{}, err
	}
	if _, err := os.Stat(filepath.Join(dist, "zeebe-poller.zip")); err != nil {
		return Root{}, fmt.Errorf("no Lambda zips in %s: run `make build`", dist)
	}
	if opts.ZeebeAddress == "" {
		opts.ZeebeAddress = os.Getenv("ZEEBE_ADDRESS")
	}
	if opts.ZeebeAddress == "" {
		opts.ZeebeAddress = "127.0.0.1:26500"
	}
	fns := map[string]map[string]any{}
	for _, f := range opts.Functions {
		fn := map[string]any{"timeout": int(f.Timeout / time.Second)}
		if f.Runtime != "" {
			fn["runtime"], fn["handler"] = f.Runtime, f.Handler
		}
		fns[f.Name] = fn
	}
	vars := map[string]any{
		"localstack_endpoint": Endpoint(),
		"dist":                dist,
		"architectures":       []string{Architecture()},
		"functions":           fns,
		"zeebe_address":       opts.ZeebeAddress,
	}
	if opts.OTLPEndpoint != "" {
		vars["otel_exporter_otlp_endpoint"] = opts.OTLPEndpoint
		if opts.OTLPHeaders != "" {
			vars["otel_exporter_otlp_headers"] = opts.OTLPHeaders
		}
	}
	return Root{
		Dir:           filepath.Join("localstack", "terraform"),
		Name:          "local",
		Log:           opts.Log,
		Vars:          vars,
		SkipUnchanged: opts.SkipUnchanged,
		Zips:          dist,
	}, nil
}

// Deploy applies localstack/terraform to LocalStack and returns what it created.
func Deploy(ctx context.Context, opts Options) (*Stack, Root, error) {
	root, err := Local(opts)
	if err != nil {
		return nil, Root{}, err
	}
	out, applied, err := root.ApplyIfChanged(ctx)
	if errors.Is(err, ErrProvider) {
		return nil, root, err
	}
	if err != nil {
		return nil, root, fmt.Errorf("%w (is LocalStack running at %s? `localstack/stack up`)", err, Endpoint())
	}
	s, err := decode(out)
	if s != nil {
		s.Applied = applied
	}
	return s, root, err
}

func decode(out map[string]json.RawMessage) (*Stack, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	var s Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read the outputs of localstack/terraform: %w", err)
	}
	return &s, nil
}
