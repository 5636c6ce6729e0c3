// Package corpus holds public Camunda 8 example models (testdata, with their
// sources and licences in testdata/MANIFEST.json) and the test that runs each
// of them on the local engine with a generic driver: it deploys the model,
// starts an instance, completes every job, publishes the messages and
// broadcasts the signals the instance waits for and moves the engine's clock
// to the next timer, until the instance ends or the outcome the manifest
// expects (an incident, or a refused deployment) appears.
package corpus
