// noop-node: the no-op function in Node.js, for the benchmark (make bench).
//
// It does nothing, so that the benchmark measures the bridge's layer and the
// Node.js runtime beside noop, the same no-op in Go on lambdakit
// (docs/performance.md).

export const handler = async () => ({});
