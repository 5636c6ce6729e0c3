"""chaos-py: the end-to-end tests' Python function, a plain Lambda handler.

The variable "mode" picks what it does: "echo" returns the variable "doc"
and its length, "fail" raises, "bpmn" raises a BpmnError, "sleep" outlives
the function's timeout. The bridge's layer makes it a Zeebe task
(docs/runtimes.md).
"""

import time


class BpmnError(Exception):
    """Its name makes the layer throw a BPMN error; its message is the code,
    a colon, and the message."""


def handler(event, context):
    mode = event.get("mode")
    if mode == "echo":
        doc = event.get("doc", "")
        return {"echo": doc, "length": len(doc.encode("utf-8"))}
    if mode == "fail":
        raise RuntimeError("chaos-py: simulated failure")
    if mode == "bpmn":
        raise BpmnError("CHAOS_ERROR: chaos-py threw it")
    if mode == "sleep":
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 30)
    raise ValueError(f"chaos-py: unknown mode {mode!r}")
