// The client check's REST scenario with @camunda8/sdk 8.8, unmodified,
// through its REST client (CamundaRestClient, the 8.8 SDK's client for the
// Orchestration Cluster API); the same steps as ../python/scenario.py. The
// engine has no search API, so its record log stands in for Operate to find
// the incident. Prints one JSON object with what it saw.
'use strict'

const fs = require('node:fs')
const { parseArgs } = require('node:util')
const { Camunda8 } = require('@camunda8/sdk')

const { values: a } = parseArgs({
  options: {
    address: { type: 'string' }, // gRPC: unused, the scenario is REST only
    'rest-address': { type: 'string' },
    'record-log': { type: 'string' },
    bpmn: { type: 'string' },
    'order-id': { type: 'string' },
  },
})

function findRecord(instanceKey, valueType, intent, elementType) {
  let text
  try {
    text = fs.readFileSync(a['record-log'], 'utf8')
  } catch (e) {
    if (e.code === 'ENOENT') return undefined
    throw e
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    let r
    try {
      r = JSON.parse(line)
    } catch {
      continue // the engine is still writing this line
    }
    const v = r.value || {}
    if (r.recordType === 'EVENT' && r.valueType === valueType && r.intent === intent &&
        String(v.processInstanceKey) === String(instanceKey) &&
        (elementType === undefined || v.bpmnElementType === elementType)) {
      return r
    }
  }
  return undefined
}

async function waitRecord(instanceKey, valueType, intent, elementType) {
  const deadline = Date.now() + 30000
  while (Date.now() < deadline) {
    const r = findRecord(instanceKey, valueType, intent, elementType)
    if (r) return r
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no ${valueType} ${intent} for instance ${instanceKey} in ${a['record-log']} within 30s`)
}

// step says on stderr how far the scenario got: a test that times out shows it.
function step(what) {
  process.stderr.write(`scenario: ${new Date().toISOString()} ${what}\n`)
}

async function main() {
  const c8 = new Camunda8({
    ZEEBE_REST_ADDRESS: `http://${a['rest-address']}`,
    CAMUNDA_OAUTH_DISABLED: true,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
  })
  const rest = c8.getCamundaRestClient()
  const out = { client: '@camunda8/sdk rest', handled: [] }
  let flakyCalls = 0

  const topology = await rest.getTopology()
  out.topology = `${topology.clusterSize} broker(s), ${topology.partitionsCount} partition(s), ` +
    `${topology.brokers[0].partitions[0].role} ${topology.brokers[0].partitions[0].health}`
  step(`deploying to ${a['rest-address']}`)
  const deployed = await rest.deployResourcesFromFiles([a.bpmn])
  out.processDefinitionKey = String(deployed.processes[0].processDefinitionKey)

  const worker = (type, handler) =>
    rest.createJobWorker({
      type,
      worker: 'node-rest',
      timeout: 60000,
      maxJobsToActivate: 8,
      pollIntervalMs: 100,
      jobHandler: (job) => {
        out.handled.push(job.type)
        step(`handling a ${job.type} job`)
        return handler(job)
      },
    })
  const workers = [
    worker('client-check-work', (job) => job.complete({ total: job.variables.amount * 2 })),
    worker('client-check-risky', (job) => job.error({ errorCode: 'REJECTED', errorMessage: 'rejected by the Node.js SDK over REST' })),
    worker('io.camunda.zeebe:userTask', (job) => {
      out.userTaskAssignee = job.customHeaders['io.camunda.zeebe:assignee']
      return job.complete({ approved: true })
    }),
    worker('client-check-flaky', (job) => {
      flakyCalls++
      if (flakyCalls === 1) {
        return job.fail({ errorMessage: 'flaky the first time', retries: 0 })
      }
      return job.complete({ flakyDone: true })
    }),
  ]

  try {
    const started = await rest.createProcessInstance({
      processDefinitionId: 'client-check',
      variables: { orderId: a['order-id'], amount: 21 },
    })
    const key = started.processInstanceKey
    step(`started instance ${key}`)
    out.processInstanceKey = String(key)
    // Published right away: the engine buffers it (time to live) until the
    // instance's subscription opens after the caught error.
    await rest.publishMessage({
      name: 'client-check-go',
      correlationKey: a['order-id'],
      messageId: `go-${a['order-id']}`,
      timeToLive: 60000,
      variables: { go: 'node-rest' },
    })
    step('published the message; waiting for the incident')
    const incident = await waitRecord(key, 'INCIDENT', 'CREATED')
    out.incidentKey = String(incident.key)
    await rest.updateJob({ jobKey: String(incident.value.jobKey), retries: 1 })
    await rest.resolveIncident(String(incident.key))
    step('resolved the incident; waiting for the instance to complete')
    await waitRecord(key, 'PROCESS_INSTANCE', 'ELEMENT_COMPLETED', 'PROCESS')
    step('the instance completed')
  } finally {
    step('stopping the workers')
    workers.forEach((w) => w.stop())
  }
  // Exit rather than wait for the event loop to drain: a stopped worker's
  // last long poll may still be open.
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
