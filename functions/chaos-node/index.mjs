// chaos-node: the end-to-end tests' Node.js function, a plain Lambda handler.
//
// The variable "mode" picks what it does: "echo" returns the variable "doc"
// and its length, "fail" throws, "bpmn" throws a BpmnError, "sleep" outlives
// the function's timeout. The bridge's layer makes it a Zeebe task
// (docs/runtimes.md).

export const handler = async (event, context) => {
  switch (event.mode) {
    case "echo": {
      const doc = event.doc ?? "";
      return { echo: doc, length: Buffer.byteLength(doc, "utf8") };
    }
    case "fail":
      throw new Error("chaos-node: simulated failure");
    case "bpmn": {
      const e = new Error("CHAOS_ERROR: chaos-node threw it");
      e.name = "BpmnError";
      throw e;
    }
    case "sleep":
      await new Promise((resolve) => setTimeout(resolve, context.getRemainingTimeInMillis() + 30000));
      return {};
    default:
      throw new Error(`chaos-node: unknown mode ${JSON.stringify(event.mode)}`);
  }
};
