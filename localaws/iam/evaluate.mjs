// IAM authorization decisions for the local AWS, made by @cloud-copilot/iam-simulate.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout, in request order.
//   request:  {"id", "principal", "action", "resource", "accountId", "context": {key: string | [string]},
//              "identityPolicies": [document | {"name", "policy": document}], "resourcePolicy": document | null}
//   response: {"id", "decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | null,
//              "statement": {"policyType", "policy", "sid", "index"} | null, "ignoredContextKeys": [string],
//              "errors": null | {"message", ...}}
// "decision" is null exactly when "errors" is set: iam-simulate refused the request (invalid policy, unknown
// action, resource ARN of no type the action accepts), so there is no AWS decision to report.
// The process lives as long as stdin stays open, so the package and its IAM data load once.

import { createInterface } from 'node:readline'

const PACKAGE = '@cloud-copilot/iam-simulate'
// Lets the Python client tell "not installed" apart from a crash without parsing stderr.
const MISSING_PACKAGE_EXIT_CODE = 3

let simulate
try {
  simulate = await import(PACKAGE)
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') {
    throw error
  }
  process.stderr.write(`npm package ${PACKAGE} cannot be loaded (run make setup): ${error.message}\n`)
  process.exit(MISSING_PACKAGE_EXIT_CODE)
}
const { getDenialReasons, getGrantReasons, runSimulation } = simulate

function namedIdentityPolicies(policies) {
  return (policies ?? []).map((entry, index) =>
    entry !== null && typeof entry === 'object' && 'policy' in entry && !('Statement' in entry)
      ? { name: String(entry.name ?? `identity-policy-${index + 1}`), policy: entry.policy }
      : { name: `identity-policy-${index + 1}`, policy: entry }
  )
}

function simulation(request, resource) {
  return {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource, accountId: request.accountId },
      contextVariables: request.context ?? {}
    },
    identityPolicies: namedIdentityPolicies(request.identityPolicies),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy ?? undefined
  }
}

// The statement that made the decision: an allow that granted it, or the explicit deny that refused it.
// An implicit deny has no such statement.
function decidingStatement(analysis) {
  const reasons =
    analysis.result === 'Allowed'
      ? getGrantReasons(analysis)
      : getDenialReasons(analysis).filter((reason) => reason.denialType === 'Explicit')
  const reason = reasons[0]
  if (reason === undefined) {
    return null
  }
  return {
    policyType: reason.policyType,
    policy: reason.policyIdentifier ?? null,
    sid: reason.statementId ?? null,
    index: reason.statementIndex
  }
}

async function evaluate(request) {
  let result = await runSimulation(simulation(request, request.resource), {})
  // AWS authorizes actions that take no resource (kms:CreateKey, s3:ListAllMyBuckets) against "*";
  // iam-simulate insists on being told so.
  if (result.resultType === 'error' && result.errors.message === 'must.use.wildcard') {
    result = await runSimulation(simulation(request, '*'), {})
  }
  if (result.resultType === 'error') {
    return { decision: null, statement: null, ignoredContextKeys: [], errors: result.errors }
  }
  // A wildcard resource runs one simulation per matching pattern; report one that agrees with the overall result.
  const resourceResult =
    result.resultType === 'single'
      ? result.result
      : (result.results.find((item) => item.analysis.result === result.overallResult) ?? result.results[0])
  return {
    decision: result.overallResult,
    statement: resourceResult ? decidingStatement(resourceResult.analysis) : null,
    ignoredContextKeys: resourceResult?.ignoredContextKeys ?? [],
    errors: null
  }
}

async function answer(line) {
  let id = null
  let response
  try {
    const request = JSON.parse(line)
    id = request.id ?? null
    response = await evaluate(request)
  } catch (error) {
    response = { decision: null, statement: null, ignoredContextKeys: [], errors: { message: String(error) } }
  }
  process.stdout.write(`${JSON.stringify({ id, ...response })}\n`)
}

// Requests are answered one after another so responses keep the order of the requests.
let pending = Promise.resolve()
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => {
  if (line.trim() !== '') {
    pending = pending.then(() => answer(line))
  }
})
