// book-flight: the trip booking's flight, a plain Node.js Lambda handler.
//
// It knows nothing about Zeebe: the bridge's layer (zeebe-runtime-proxy, see
// docs/runtimes.md) hands it the job's variables as its event and turns what
// it returns into the job's variables. An error named "BpmnError" throws a
// BPMN error in the process (here FLIGHT_UNAVAILABLE, which the saga catches
// to cancel the car and the hotel); any other error fails the job.

class BpmnError extends Error {
  constructor(code, message, variables) {
    // The layer reads the code, the message and the variables from the
    // error's message, as a JSON object.
    super(JSON.stringify({ code, message, variables }));
    this.name = "BpmnError";
  }
}

export const handler = async (event, context) => {
  if (!event.tripId) {
    throw new Error("the process variable tripId is missing");
  }
  // The job's keys, for a log line an operator can follow; present only when
  // the bridge's layer runs the function (a direct invocation has none).
  const job = context.clientContext?.custom ?? {};
  console.log(JSON.stringify({ msg: "booking a flight", tripId: event.tripId, jobKey: job.jobKey,
    processInstanceKey: job.processInstanceKey, runtime: "nodejs" }));
  if (event.failFlight) {
    throw new BpmnError("FLIGHT_UNAVAILABLE", `no seats left on the flight to ${event.destination}`,
      { flightFailureReason: "no seats" });
  }
  return { flightBookingId: `FLIGHT-${event.tripId}` };
};
