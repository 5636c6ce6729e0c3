// Command long-work is the Lambda "long-work" (BPMN task header
// identifier=long-work) of bpmn/long-work.bpmn: it starts work that outlives
// its invocation and answers pending (package internal/examples/longwork). Its
// handler comes from the catalog, so tests build the same thing.
package main

import "github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"

func main() { catalog.Main("long-work") }
