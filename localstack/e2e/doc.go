// Package e2e proves the bridge end to end the way it runs on AWS: the local
// Zeebe engine, and LocalStack running the real function binaries (dist/,
// from `make build`) through the bridge's runtime executor, deployed by
// `terraform apply` of the modules users apply (localstack/terraform), with
// LocalStack's own SNS filters, SQS event source mappings, redrive policies
// and the EventBridge schedule that starts the poller. The tests never invoke
// a function or the poller themselves; at the end they destroy what they
// applied.
//
// The tests carry the build tag e2e; `make test` runs them
// with the stack it starts.
package e2e
