"""The client check's scenario with pyzeebe, unmodified, against one gateway.

Deploys the model, starts an instance with variables, and runs a worker
(polling, or streaming with --mode streaming) that completes a job, throws a
BPMN error the model catches, completes the user task's job, and fails a job
to an incident. Publishes the message the instance waits for, then resolves
the incident once the engine's record log shows it: Zeebe 8.5 has no query
API over gRPC, so the log stands in for Operate. pyzeebe's ZeebeClient has
no ResolveIncident or UpdateJobRetries, so those go through the gateway stub
pyzeebe ships. Prints one JSON object with what it saw.
"""

import argparse
import asyncio
import json
import sys
import time

from pyzeebe import Job, ZeebeClient, ZeebeWorker, create_insecure_channel
from pyzeebe.errors import BusinessError
from pyzeebe.proto.gateway_pb2 import ResolveIncidentRequest, UpdateJobRetriesRequest
from pyzeebe.proto.gateway_pb2_grpc import GatewayStub


def find_record(path, instance_key, value_type, intent, element_type=None):
    """The first EVENT record of the instance with this value type and intent, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the engine is still writing this line
                v = r.get("value", {})
                if (
                    r.get("recordType") == "EVENT"
                    and r.get("valueType") == value_type
                    and r.get("intent") == intent
                    and v.get("processInstanceKey") == instance_key
                    and (element_type is None or v.get("bpmnElementType") == element_type)
                ):
                    return r
    except FileNotFoundError:
        pass
    return None


async def wait_record(path, instance_key, value_type, intent, element_type=None, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = find_record(path, instance_key, value_type, intent, element_type)
        if r is not None:
            return r
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no {value_type} {intent} for instance {instance_key} in {path} within {timeout}s")


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--record-log", required=True)
    p.add_argument("--bpmn", required=True)
    p.add_argument("--order-id", required=True)
    p.add_argument("--mode", choices=["polling", "streaming"], default="polling")
    a = p.parse_args()

    out = {"client": "pyzeebe", "mode": a.mode, "handled": []}
    channel = create_insecure_channel(grpc_address=a.address)
    client = ZeebeClient(channel)
    worker = ZeebeWorker(channel, name=f"pyzeebe-{a.mode}", stream_enabled=a.mode == "streaming")
    flaky_calls = 0

    @worker.task(task_type="client-check-work")
    async def work(amount: int):
        out["handled"].append("client-check-work")
        return {"total": amount * 2}

    @worker.task(task_type="client-check-risky")
    async def risky():
        out["handled"].append("client-check-risky")
        raise BusinessError("REJECTED", "rejected by pyzeebe")

    @worker.task(task_type="io.camunda.zeebe:userTask")
    async def approve(job: Job):
        out["handled"].append("io.camunda.zeebe:userTask")
        out["userTaskAssignee"] = job.custom_headers.get("io.camunda.zeebe:assignee")
        return {"approved": True}

    @worker.task(task_type="client-check-flaky")
    async def flaky():
        nonlocal flaky_calls
        flaky_calls += 1
        out["handled"].append("client-check-flaky")
        if flaky_calls == 1:
            # The default exception handler fails the job with retries - 1 = 0: an incident.
            raise RuntimeError("flaky the first time")
        return {"flakyDone": True}

    deployment = await client.deploy_resource(a.bpmn)
    out["processDefinitionKey"] = str(deployment.deployments[0].process_definition_key)
    worker_task = asyncio.create_task(worker.work())
    try:
        started = await client.run_process("client-check", variables={"orderId": a.order_id, "amount": 21})
        key = started.process_instance_key
        out["processInstanceKey"] = str(key)
        # Published right away: the engine buffers it (time to live) until the
        # instance's subscription opens after the caught error.
        await client.publish_message(
            "client-check-go", a.order_id, variables={"go": "pyzeebe"}, time_to_live_in_milliseconds=60000,
            message_id=f"go-{a.order_id}",
        )
        incident = await wait_record(a.record_log, key, "INCIDENT", "CREATED")
        out["incidentKey"] = str(incident["key"])
        stub = GatewayStub(channel)
        await stub.UpdateJobRetries(UpdateJobRetriesRequest(jobKey=incident["value"]["jobKey"], retries=1))
        await stub.ResolveIncident(ResolveIncidentRequest(incidentKey=incident["key"]))
        await wait_record(a.record_log, key, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", "PROCESS")
    finally:
        await worker.stop()
        await worker_task
        await channel.close()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    asyncio.run(main())
