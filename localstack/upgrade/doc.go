// Package upgrade holds the upgrade test of the Terraform layout (build tag
// e2e): it applies the modules as they were before the Lambda functions moved
// into terraform/modules/_lambda to LocalStack, then plans this layout over
// the same state, and requires that the plan moves resources, destroys and
// replaces none, and creates or changes only what this version adds (listed
// in the test).
//
// It creates the bridge's fixed names (zeebe_jobs, zeebe-poller, ...), so it
// must not run while localstack/e2e has its stack applied; make test runs
// localstack/e2e on its own, after every other package.
package upgrade
