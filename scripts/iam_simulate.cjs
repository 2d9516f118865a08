#!/usr/bin/env node
// Evaluates IAM requests with the npm package "@cloud-copilot/iam-simulate" (pinned in
// package.json; AGPL-3.0, a development tool like the CDK CLI: never part of the Python wheel).
// It evaluates identity policies, resource policies (bucket, key, topic and trust policies) and
// their conditions the way IAM documents it, same-account and cross-account.
//
// Usage: node scripts/iam_simulate.cjs < requests.json > decisions.json
// Input: a JSON list of {principal, action, resource, resourceAccount, context,
// identityPolicies: [{name, policy}], resourcePolicy (or null), endpointPolicy (or null)}.
// Output: a JSON list, one entry per request, in order: {result, errors, identity, resource,
// denyStatements}. `result` is Allowed, ExplicitlyDenied or ImplicitlyDenied, or Error when the
// simulator refused the input (`errors` says why: an unknown action, a malformed policy, ...).
"use strict";

const { runSimulation } = require("@cloud-copilot/iam-simulate");

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function deniedBy(analysis) {
  // The Sid (or position) of each explicit Deny that matched, identity side and resource side.
  const found = [];
  for (const side of ["identityAnalysis", "resourceAnalysis"]) {
    for (const statement of analysis?.[side]?.denyStatements ?? []) {
      const sid = statement.statement?.Sid ?? statement.explain?.identifier ?? statement.identifier ?? "?";
      found.push(`${side === "identityAnalysis" ? "identity" : "resource"}:${sid}`);
    }
  }
  return found;
}

// The simulator recognises condition keys with a variable part only in the "prefix/name" form
// (aws:PrincipalTag/x) and drops the others from the request as unknown, among them
// kms:EncryptionContext:<key>, which key policies of encrypted log groups and topics use. Such a
// key is renamed, in the policies and in the request alike, to a global key of the "/" form that
// the simulator accepts for every action; the condition operators compare the same strings.
const ENCRYPTION_CONTEXT = /^kms:encryptioncontext:(.+)$/i;

function renameKey(key) {
  const match = ENCRYPTION_CONTEXT.exec(key);
  return match ? `aws:PrincipalTag/kms-encryption-context.${match[1]}` : key;
}

function renameInPolicy(policy) {
  if (!policy) return policy;
  const statements = [policy.Statement ?? []].flat().map((statement) => {
    if (!statement.Condition) return statement;
    const condition = {};
    for (const [operator, entries] of Object.entries(statement.Condition)) {
      condition[operator] = Object.fromEntries(Object.entries(entries).map(([k, v]) => [renameKey(k), v]));
    }
    return { ...statement, Condition: condition };
  });
  return { ...policy, Statement: statements };
}

function asGuard(policy) {
  const statements = [renameInPolicy(policy).Statement].flat().map((statement) => {
    const { Principal, ...rest } = statement;
    const everyone = Principal === "*" || Principal?.AWS === "*";
    if (!everyone) throw new Error(`endpoint policy statement ${statement.Sid ?? "?"}: principal ${JSON.stringify(Principal)} is not "*"`);
    return rest;
  });
  return { Version: "2012-10-17", Statement: statements };
}

async function evaluate(request) {
  const context = Object.fromEntries(Object.entries(request.context ?? {}).map(([k, v]) => [renameKey(k), v]));
  const simulation = {
    identityPolicies: request.identityPolicies.map((p) => ({ ...p, policy: renameInPolicy(p.policy) })),
    // A VPC endpoint policy guards the call like a service control policy: it grants nothing,
    // but what it does not allow is denied. SCPs carry no Principal: the endpoint policies here
    // name "*" as principal and scope by condition, so the Principal element is dropped.
    serviceControlPolicies: request.endpointPolicy
      ? [{ orgIdentifier: "vpc-endpoint", policies: [{ name: "endpoint", policy: asGuard(request.endpointPolicy) }] }]
      : [],
    resourceControlPolicies: [],
    resourcePolicy: renameInPolicy(request.resourcePolicy) ?? undefined,
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: context,
    },
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === "error") {
    return { result: "Error", errors: response.errors, identity: null, resource: null, denyStatements: [] };
  }
  const results = response.resultType === "single" ? [response.result] : response.results;
  const analysis = results[0]?.analysis;
  return {
    result: response.overallResult,
    errors: null,
    identity: analysis?.identityAnalysis?.result ?? null,
    resource: analysis?.resourceAnalysis?.result ?? null,
    denyStatements: results.flatMap((r) => deniedBy(r.analysis)),
  };
}

async function main() {
  const requests = JSON.parse(await readStdin());
  const decisions = [];
  for (const request of requests) {
    decisions.push(await evaluate(request));
  }
  process.stdout.write(JSON.stringify(decisions));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(2);
});
