// Command loop is the Lambda "loop" (BPMN task header identifier=loop) of
// bpmn/echo-loop.bpmn: it counts turns and injects the faults its input asks
// for, for the soak test. Its handler and publisher come from the catalog,
// so tests build the same thing.
package main

import "github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"

func main() { catalog.Main("loop") }
