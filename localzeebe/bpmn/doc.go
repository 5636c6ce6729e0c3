// Package bpmn parses and validates BPMN 2.0 resources for the local Zeebe-8.5-compatible
// engine, and gives the engine a linked model of each executable process.
//
// Elements are matched by namespace URI and local name, never by prefix. Diagram
// interchange, documentation, data declarations, lanes, text annotations, extension
// elements of other namespaces and zeebe:properties carry no execution semantics and
// are ignored.
//
// Supported, with Zeebe's rules:
//   - process (only isExecutable="true" ones are returned; at least one is required);
//   - none start event (at most one per process; none at all deploys, and instance
//     creation fails later, as in Zeebe);
//   - message start events (messageRef to a bpmn:message with a static name, unique
//     among the process's message start events; no zeebe:subscription needed);
//   - timer start events of the process with one static timeDate (with an offset),
//     timeDuration or timeCycle "R<n>/<duration>";
//   - none end event, error end event (errorRef to a bpmn:error with an errorCode),
//     compensation end event, terminate end event;
//   - service task with exactly one zeebe:taskDefinition (type required, retries
//     defaulting to "3"), zeebe:taskHeaders, zeebe:ioMapping, an optional parallel or
//     sequential multiInstanceLoopCharacteristics (zeebe:loopCharacteristics and
//     bpmn:completionCondition), and isForCompensation="true" for compensation handlers;
//   - business rule tasks with a zeebe:calledDecision (decisionId static or
//     "=expr", and a resultVariable) instead of a zeebe:taskDefinition;
//   - the other elements Zeebe 8.5 runs as jobs, with the same extensions: send,
//     script and business-rule tasks with a zeebe:taskDefinition, message
//     intermediate throw and end events with a zeebe:taskDefinition, and user tasks
//     without zeebe:userTask (job type io.camunda.zeebe:userTask, one retry;
//     zeebe:formDefinition formKey or formId, zeebe:assignmentDefinition, zeebe:taskSchedule);
//   - Zeebe user tasks (zeebe:userTask, no job): zeebe:assignmentDefinition,
//     zeebe:taskSchedule, zeebe:taskHeaders and zeebe:formDefinition formId or
//     externalReference (formKey is for job-based user tasks);
//   - undefined tasks (bpmn:task) and manual tasks, which pass through;
//   - receive tasks (messageRef to a bpmn:message with a zeebe:subscription
//     correlationKey, like a message catch event) and script tasks with a
//     zeebe:script (a FEEL expression and its resultVariable); both may be
//     multi-instance;
//   - embedded subprocesses (bpmn:subProcess without triggeredByEvent) with exactly
//     one none start event, zeebe:ioMapping, an optional multi-instance marker and
//     boundary events; their sequence flows stay inside them, and no compensation
//     event, handler or boundary may be inside or on one;
//   - event subprocesses (triggeredByEvent="true") in the process or in an
//     embedded subprocess: no sequence flows in or out, exactly one start event,
//     with a message, timer (timeDuration; timeCycle only when non-interrupting),
//     signal, error (interrupting only) or escalation definition, isInterrupting
//     defaulting to true, and zeebe:ioMapping; two event subprocesses of one
//     scope may not wait for the same trigger (message, signal, code, catch-all);
//   - escalation events (escalationRef to a bpmn:escalation): intermediate throw
//     and end events (a non-empty escalationCode, static or "=expr"), boundary
//     events interrupting or not and event subprocess start events (a static
//     code, or none to catch all; one boundary per code and activity);
//   - call activities with exactly one zeebe:calledElement (processId static or
//     "=expr", propagateAllChildVariables and propagateAllParentVariables, both
//     defaulting to true), zeebe:ioMapping and boundary events; bindingType and
//     versionTag (Zeebe 8.6) are refused, and so are multi-instance call
//     activities and compensation of them;
//   - exclusive gateway (conditions and a default flow), parallel gateway, event-based
//     gateway (two or more outgoing flows, each to a message, timer or signal
//     intermediate catch event);
//   - signal events (signalRef to a bpmn:signal with a name, static or "=expr"):
//     start events of the process (static names, unique among them),
//     intermediate catch events, boundary events (interrupting or not),
//     intermediate throw and end events;
//   - interrupting error boundary events (specific code or catch-all), timer boundary
//     events with timeDuration (interrupting or not) or with a timeCycle "R<n>/<duration>"
//     (non-interrupting only), message boundary events (interrupting or not),
//     compensation boundary events linked to their handler by a bpmn:association;
//   - intermediate catch events for a message (name and zeebe:subscription
//     correlationKey) or a timeDuration timer;
//   - intermediate throw events: none (pass-through) and compensation (optional activityRef);
//   - link intermediate throw and catch events, paired by name within their
//     scope (a throw event needs exactly one catch event with its name there).
//
// Everything else (// multi-instance undefined and manual tasks, inclusive and complex gateways,
// conditional events,
// timeDate timers other than on start events, cron and start-dated cycles,
// expressions in timer start events, unknown zeebe:*
// extension elements, and those of later Zeebe versions such as
// execution listeners, named with the version that added them) is rejected with a
// problem naming the element id and what is not supported. The local engine does not
// implement those semantics; deploying such a model and silently skipping the parts
// it does not understand would make a process behave differently than on Zeebe,
// which is worse than refusing it.
//
// Expressions are not evaluated here. A value is an expression when it starts with
// '=' (Zeebe's rule); WithExpressionCheck lets the engine compile each one at deploy
// time so a syntax error is a deployment error, not an incident.
package bpmn
