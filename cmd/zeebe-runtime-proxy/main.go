// Command zeebe-runtime-proxy is the bridge's Lambda layer for functions in
// any managed runtime (Python, Node.js, Java): with
// AWS_LAMBDA_EXEC_WRAPPER=/opt/zeebe-runtime-proxy the runtime's bootstrap
// starts it with the runtime's command line. It runs that runtime behind a
// Runtime API of its own (internal/runtimeproxy) and drives it with
// lambdakit, so each job of the SQS batch reaches the function as one
// ordinary invocation whose event is the job's variables, and the answer
// becomes the job's outcome. See docs/runtimes.md.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/runtimeproxy"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// EnvMaxRuntimes is how many runtime processes may serve the jobs of one
// batch side by side (default 1, as a Lambda runs one invocation at a time).
const EnvMaxRuntimes = "ZEEBE_PROXY_MAX_RUNTIMES"

func main() {
	n, err := envconfig.Getenv(os.Getenv).Int(EnvMaxRuntimes, 1)
	var p *runtimeproxy.Proxy
	if err == nil {
		p, err = runtimeproxy.New(runtimeproxy.Config{Command: os.Args[1:], Env: os.Environ(), MaxRuntimes: n})
	}
	if err == nil {
		err = p.Prestart()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "zeebe-runtime-proxy: "+strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(1)
	}
	// The same logger as lambdakit's own (it is built from LOG_LEVEL too),
	// so the layer's "runtime answered" lines sit beside its outcome lines.
	log := joblog.FromEnv(os.Stderr, os.Getenv)
	lambdakit.Start(runtimeproxy.Handler(p, log), lambdakit.WithEvents(runtimeproxy.Events(p)), lambdakit.WithLogger(log))
}
