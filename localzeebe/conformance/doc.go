// Package conformance is the conformance suite of localzeebe: it proves,
// through the unmodified Zeebe Go client and the raw gateway gRPC stubs only,
// that the local engine behaves like a Zeebe 8.5 gateway and broker. Every
// case comes from the behaviour written down in the Zeebe 8.5 reference
// (RPC status codes and rejection messages, the job lifecycle, incidents,
// variable propagation, the supported BPMN elements, long polling and job
// push), never from the engine's code.
//
// By default the suite starts one in-process engine for the whole package
// and runs the cases in parallel against it, with a unique process id and
// job type per case:
//
//	go test ./localzeebe/conformance/... -count=1
//
// To check that the suite describes the real Zeebe, run it against a real
// Camunda 8 gateway instead: set ZEEBE_CONFORMANCE_ADDRESS to its host:port
// (plaintext; when ZEEBE_CLIENT_ID is set the Go client's OAuth environment
// configuration is used, with TLS), e.g.
//
//	make test-zeebe-conformance ZEEBE_ADDRESS=localhost:26500
//
// which sets ZEEBE_CONFORMANCE_ADDRESS. In that external mode the checks
// that need the local engine's record log (incident records and their keys,
// JOB records such as TIMED_OUT, jobs completed without activation) are
// skipped with "needs the local engine's record log", and so are the few
// cases that pin down a deliberate limitation of the local engine (elements
// it refuses to deploy, RPCs it does not implement). Against the local
// engine nothing is ever skipped.
package conformance
