"""noop-py: the no-op function in Python, for the benchmark (make bench).

It does nothing, so that the benchmark measures the bridge's layer and the
Python runtime beside noop, the same no-op in Go on lambdakit
(docs/performance.md).
"""


def handler(event, context):
    return {}
