// The client check's scenario with @camunda8/sdk, unmodified (gRPC, gzip
// as it comes), against one gateway; the same steps as ../python/scenario.py.
// Zeebe 8.5 has no query API over gRPC, so the engine's record log stands in
// for Operate to find the incident. Prints one JSON object with what it saw.
'use strict'

const fs = require('node:fs')
const { parseArgs } = require('node:util')
const { Camunda8 } = require('@camunda8/sdk')

const { values: a } = parseArgs({
  options: {
    address: { type: 'string' },
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
    // The SDK takes ZEEBE_ADDRESS before ZEEBE_GRPC_ADDRESS, and defaults it.
    ZEEBE_ADDRESS: a.address,
    CAMUNDA_SECURE_CONNECTION: false,
    CAMUNDA_OAUTH_DISABLED: true,
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
  })
  const zbc = c8.getZeebeGrpcApiClient()
  const out = { client: '@camunda8/sdk', handled: [] }
  let flakyCalls = 0

  step(`deploying to ${a.address}`)
  const deployed = await zbc.deployResource({ processFilename: a.bpmn })
  out.processDefinitionKey = String(deployed.deployments[0].process.processDefinitionKey)

  const workers = [
    zbc.createWorker({
      taskType: 'client-check-work',
      taskHandler: (job) => {
        out.handled.push(job.type)
        step(`handling a ${job.type} job`)
        return job.complete({ total: job.variables.amount * 2 })
      },
    }),
    zbc.createWorker({
      taskType: 'client-check-risky',
      taskHandler: (job) => {
        out.handled.push(job.type)
        step(`handling a ${job.type} job`)
        return job.error('REJECTED', 'rejected by the Node.js SDK')
      },
    }),
    zbc.createWorker({
      taskType: 'io.camunda.zeebe:userTask',
      taskHandler: (job) => {
        out.handled.push(job.type)
        step(`handling a ${job.type} job`)
        out.userTaskAssignee = job.customHeaders['io.camunda.zeebe:assignee']
        return job.complete({ approved: true })
      },
    }),
    zbc.createWorker({
      taskType: 'client-check-flaky',
      taskHandler: (job) => {
        out.handled.push(job.type)
        step(`handling a ${job.type} job`)
        flakyCalls++
        if (flakyCalls === 1) {
          return job.fail({ errorMessage: 'flaky the first time', retries: 0 })
        }
        return job.complete({ flakyDone: true })
      },
    }),
  ]

  try {
    const started = await zbc.createProcessInstance({
      bpmnProcessId: 'client-check',
      variables: { orderId: a['order-id'], amount: 21 },
    })
    const key = started.processInstanceKey
    step(`started instance ${key}`)
    out.processInstanceKey = String(key)
    // Published right away: the engine buffers it (time to live) until the
    // instance's subscription opens after the caught error.
    await zbc.publishMessage({
      name: 'client-check-go',
      correlationKey: a['order-id'],
      messageId: `go-${a['order-id']}`,
      timeToLive: 60000,
      variables: { go: 'node' },
    })
    step('published the message; waiting for the incident')
    const incident = await waitRecord(key, 'INCIDENT', 'CREATED')
    out.incidentKey = String(incident.key)
    await zbc.updateJobRetries({ jobKey: String(incident.value.jobKey), retries: 1 })
    await zbc.resolveIncident({ incidentKey: String(incident.key) })
    step('resolved the incident; waiting for the instance to complete')
    await waitRecord(key, 'PROCESS_INSTANCE', 'ELEMENT_COMPLETED', 'PROCESS')
    step('the instance completed')
  } finally {
    step('closing the workers')
    await Promise.all(workers.map((w) => w.close()))
    await zbc.close()
    step('closed')
  }
  // Exit rather than wait for the event loop to drain: the SDK's closed
  // workers leave their last long poll open (up to its 60 s) on the channel.
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
