"""book-car: the trip booking's car rental, a plain Python Lambda handler.

It knows nothing about Zeebe: the bridge's layer (zeebe-runtime-proxy, see
docs/runtimes.md) hands it the job's variables as its event and turns what it
returns into the job's variables. Raising an exception fails the job, and
Zeebe retries it.
"""

import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    trip_id = event.get("tripId")
    if not trip_id:
        raise ValueError("the process variable tripId is missing")
    # The job's keys, for a log line an operator can follow; present only when
    # the bridge's layer runs the function (a direct invocation has none).
    job = (context.client_context.custom or {}) if context.client_context else {}
    logger.info(json.dumps({"msg": "booking a car", "tripId": trip_id, "jobKey": job.get("jobKey"),
                            "processInstanceKey": job.get("processInstanceKey"), "runtime": "python"}))
    return {"carBookingId": f"CAR-{trip_id}"}
