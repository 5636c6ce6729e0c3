"""chaos-py: the end-to-end tests' Python function, a plain Lambda handler.

Its queue also carries business events, which it logs. For a job, the
variable "mode" picks what it does: "echo" returns the variable "doc"
and its length, "fail" raises, "bpmn" raises a BpmnError, "sleep" outlives
the function's timeout. The bridge's layer makes it a Zeebe task
(docs/runtimes.md).
"""

import json
import time


class BpmnError(Exception):
    """Its name makes the layer throw a BPMN error; its message is the code,
    a colon, and the message."""


def handler(event, context):
    if "Records" in event:
        # A business event from another topic on the same queue: the layer
        # passes it as an ordinary SQS event.
        for record in event["Records"]:
            print(json.dumps({"msg": "business event received", "messageId": record["messageId"], "body": record["body"]}))
        return {}
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
