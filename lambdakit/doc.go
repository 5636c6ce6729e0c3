// Package lambdakit turns a plain Go handler into an AWS Lambda that a Zeebe
// process calls through zeebe-lambda-bridge, without the function knowing
// anything about Zeebe. Its surface is modelled on aws-lambda-go's
// lambda.Start:
//
//	func main() { lambdakit.Start(bookHotel) }
//
//	func bookHotel(ctx context.Context, in Trip) (Booking, error) { ... }
//
// The function's SQS queue delivers job messages (jobmsg.Job, SNS raw or
// enveloped). For each record lambdakit decodes the job's variables into the
// handler's input type, runs the handler and publishes one outcome
// (jobmsg.Outcome) to the zeebe_jobs2complete topic, from where the fulfiller
// tells Zeebe:
//
//	handler ...                              outcome
//	returns a value                          complete, the value as variables (a JSON
//	                                         object, or any value under the task
//	                                         header resultVariable)
//	returns a non-object, no resultVariable  fail, retries 0 (modelling error: incident)
//	returns BPMNError(code, msg, vars)       error: the BPMN error is thrown in the process
//	  ... with no code or non-object vars    fail, retries 0 (a bug a retry cannot fix)
//	returns another error, or panics         fail, retries = job retries - 1, RetryBackoff
//	input variables do not fit its type      fail, retries 0 (modelling error: incident)
//	still running DeadlineMargin before      fail, retries - 1, "handler timed out"; a
//	the Lambda deadline                      late result is ignored
//	result too large for SNS (256 KiB)       fail, retries 0, saying so (never truncated)
//	returns ErrResultPending                 none now: whoever holds the job's
//	                                         CompletionToken answers later (package
//	                                         completion), with heartbeats meanwhile
//
// Numbers pass through exactly: a number decoded into an interface value
// (map[string]any, []any, an any field) is a json.Number, not a float64, so
// an integer beyond 2^53 or a long decimal keeps its written digits through
// the handler and back to Zeebe. Read it with its Int64, Float64 or String
// method; typed fields (int64, float64) decode as usual.
//
// Zeebe, not SQS, is the retry master: a job's record is acknowledged once its
// outcome is published, whatever the outcome. A record is reported in
// batchItemFailures (ReportBatchItemFailures), and so reaches the function's
// DLQ, only when it is not a job message of a known contract version or its
// outcome could not be published; Zeebe then times the job out and hands it
// out again. A job whose deadline has passed before it is processed is
// acknowledged and dropped without running, because Zeebe has already handed
// it to someone else.
//
// The records of a batch run concurrently and share the invocation's
// deadline. An invocation whose payload is not an SQS event is a direct
// invocation: the payload is the handler's input, the handler's output is the
// response, and nothing is published, so a function can also be called
// with lambda:Invoke.
package lambdakit
