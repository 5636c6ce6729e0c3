// Package clientcheck runs Zeebe's own clients, unmodified, against the local
// engine (issue 22): pyzeebe and the Java client 8.8 (each with polling and
// with streaming workers; the Java client both with its default, REST
// preferred, and over gRPC only), zbctl, the Node.js SDK @camunda8/sdk 8.5
// over gRPC and the 8.8 SDK's REST client each deploy
// testdata/client-check.bpmn and take one instance through every step (start
// with variables, a job completed, a BPMN error caught by a boundary event, a
// message correlated, a user task completed as its job, an incident raised
// and resolved). The test, build tag integration, asserts each step from the
// engine's record log.
//
// The clients are installed by ./install on first run and cached under
// $BRIDGE_LOCAL_DIR (default .local): pyzeebe from python/requirements.txt
// into a venv, the SDKs by npm ci of node/package-lock.json and
// node-rest/package-lock.json, the Java scenario
// by mvn package of java/pom.xml, zbctl by go install at the version of the
// Go client in go.mod.
package clientcheck
