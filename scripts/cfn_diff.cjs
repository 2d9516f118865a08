#!/usr/bin/env node
// Compares pairs of CloudFormation templates with the AWS CDK's own diff engine, the npm package
// "@aws-cdk/cloudformation-diff" (Apache-2.0; pinned in package.json to 2.187.5, its newest
// release on npm: the CLI pinned there, 2.1148.1, bundles 2.187.7, which is not published).
// `cdk diff` uses the same engine: per resource the impact
// (WILL_CREATE, WILL_UPDATE, WILL_REPLACE, MAY_REPLACE, WILL_DESTROY, WILL_ORPHAN) read from
// the AWS service specification's `causesReplacement` of each property, the propagation of a
// replacement to what references the replaced resource, and the IAM statements and
// security-group rules that are added or removed.
//
// Usage: node scripts/cfn_diff.cjs < pairs.json > diffs.json
// Input: a JSON list of {old, new}; a template, or null for a stack that one side lacks.
// Output: a JSON list, one entry per pair, in order:
//   {resources: [{logicalId, oldType, newType, impact, changes, deployTime}],
//    outputs: [{name, path, old, new}], iam: {statementAdditions, statementRemovals,
//    managedPolicyAdditions, managedPolicyRemovals}, securityGroups: {ingressRuleAdditions,
//    ingressRuleRemovals, egressRuleAdditions, egressRuleRemovals}}
// A change is {section, property, path, old, new, impact}: `section` is "Properties" or a
// resource attribute (DependsOn, DeletionPolicy, ...), `path` the list of keys and indexes from
// there to the leaf that differs, `old`/`new` that leaf's value with intrinsic functions
// written as the engine writes them (`${Bucket.Arn}`), absent on the side that lacks it, and
// `impact` the engine's impact of the top-level property. A deployTime entry is
// {property, path, targets, impact}: a reference whose value changes on deploy although the
// template text does not (see deployTimeChanges below).
"use strict";

const { fullDiff, deepEqual, ResourceImpact } = require("@aws-cdk/cloudformation-diff");
// Not re-exported by the package's index, but the same rendering its IAM and security-group
// summaries use; the exact version pin in package.json keeps this path stable.
const { renderIntrinsics } = require("@aws-cdk/cloudformation-diff/lib/render-intrinsics");

// What never changes a deployed resource, left out: the CDK's own metadata resource and the
// bootstrap-version rule (as `cdk diff` does: `obscureDiff` of the toolkit's diff formatter,
// aws/aws-cdk-cli), and resource Metadata other than AWS::CloudFormation::Init
// (construct paths, asset paths, cdk-nag and cfn-lint annotations).
function comparable(template) {
  if (!template) return { Resources: {} };
  const copy = JSON.parse(JSON.stringify(template));
  for (const [logicalId, resource] of Object.entries(copy.Resources ?? {})) {
    if (resource.Type === "AWS::CDK::Metadata") {
      delete copy.Resources[logicalId];
      continue;
    }
    const init = resource.Metadata?.["AWS::CloudFormation::Init"];
    delete resource.Metadata;
    if (init !== undefined) resource.Metadata = { "AWS::CloudFormation::Init": init };
  }
  if (copy.Rules) delete copy.Rules.CheckBootstrapVersion;
  return copy;
}

function isIntrinsic(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "Ref" || keys[0].startsWith("Fn::"));
}

function rendered(value) {
  const text = renderIntrinsics(value);
  return typeof text === "string" || typeof text === "number" || typeof text === "boolean" || text === null
    ? text
    : JSON.stringify(text);
}

// The leaves where two values differ (by the engine's equality: 10 equals "10"). An intrinsic
// function is one value; a side that lacks a nested value contributes no leaf of its own. Lists
// are aligned on their equal elements first, so that one inserted action or statement is one
// change, not a shift of every element after it. A string that holds JSON on both sides (a
// dashboard body, a secrets backend's kwargs) is compared as the JSON it holds.
function leaves(oldValue, newValue, path = []) {
  if (deepEqual(oldValue, newValue)) return [];
  const [oldJson, newJson] = [parsedJson(oldValue), parsedJson(newValue)];
  if (oldJson !== undefined && newJson !== undefined) return leaves(oldJson, newJson, path);
  const bothObjects =
    oldValue !== null && newValue !== null && typeof oldValue === "object" && typeof newValue === "object";
  if (bothObjects && !isIntrinsic(oldValue) && !isIntrinsic(newValue)) {
    if (Array.isArray(oldValue) && Array.isArray(newValue)) {
      return aligned(oldValue, newValue).flatMap(([i, j]) =>
        leaves(i === null ? undefined : oldValue[i], j === null ? undefined : newValue[j], [...path, j ?? i]),
      );
    }
    if (!Array.isArray(oldValue) && !Array.isArray(newValue)) {
      const keys = [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])].sort();
      return keys.flatMap((key) => leaves(oldValue[key], newValue[key], [...path, key]));
    }
  }
  const expand = (value) =>
    value !== null && typeof value === "object" && !isIntrinsic(value) && Object.keys(value).length > 0;
  if (oldValue === undefined && expand(newValue)) return leaves(Array.isArray(newValue) ? [] : {}, newValue, path);
  if (newValue === undefined && expand(oldValue)) return leaves(oldValue, Array.isArray(oldValue) ? [] : {}, path);
  const leaf = { path };
  if (oldValue !== undefined) leaf.old = rendered(oldValue);
  if (newValue !== undefined) leaf.new = rendered(newValue);
  return [leaf];
}

function parsedJson(value) {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return undefined;
  try {
    const parsed = JSON.parse(value);
    return parsed !== null && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

// [oldIndex, newIndex] pairs to compare: equal elements matched by a longest common subsequence
// (and then dropped: they do not differ), the unmatched ones between two matches paired in order
// (a changed element), the rest one-sided (null: added or removed).
function aligned(a, b) {
  const common = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      common[i][j] = deepEqual(a[i], b[j]) ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const pairs = [];
  let [runA, runB] = [[], []];
  const flush = () => {
    for (let k = 0; k < Math.max(runA.length, runB.length); k += 1) pairs.push([runA[k] ?? null, runB[k] ?? null]);
    [runA, runB] = [[], []];
  };
  let [i, j] = [0, 0];
  while (i < a.length && j < b.length) {
    if (deepEqual(a[i], b[j]) && common[i][j] === common[i + 1][j + 1] + 1) {
      flush();
      [i, j] = [i + 1, j + 1];
    } else if (common[i + 1][j] >= common[i][j + 1]) {
      runA.push(i++);
    } else {
      runB.push(j++);
    }
  }
  while (i < a.length) runA.push(i++);
  while (j < b.length) runB.push(j++);
  flush();
  return pairs;
}

// The engine marks a reference to a replaced resource as "<id> (replaced)" / "<id>(replaced)" in
// the new side of the property it propagates the replacement to; such a leaf is reported as a
// deploy-time change (with the resource it comes from), not as a change of the template text.
const REPLACED = /\(replaced\)/;

// The engine knows a property's impact from the AWS service specification; for a type that the
// specification lacks (custom resources) it says NO_CHANGE although the value changed. CloudFormation
// updates such a resource (a custom resource's handler receives an Update): say so.
function updated(impact) {
  return impact === undefined || impact === ResourceImpact.NO_CHANGE ? ResourceImpact.WILL_UPDATE : impact;
}

function resourceChanges(difference) {
  const changes = [];
  const byName = ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0);
  for (const [property, diff] of Object.entries(difference.propertyUpdates).sort(byName)) {
    for (const leaf of leaves(diff.oldValue, diff.newValue)) {
      if (REPLACED.test(JSON.stringify(leaf.new ?? ""))) continue;
      changes.push({ section: "Properties", property, ...leaf, impact: updated(diff.changeImpact) });
    }
  }
  for (const [attribute, diff] of Object.entries(difference.otherChanges).sort(byName)) {
    for (const leaf of leaves(diff.oldValue, diff.newValue)) {
      changes.push({ section: attribute, property: attribute, ...leaf, impact: ResourceImpact.WILL_UPDATE });
    }
  }
  return changes;
}

// --- values that change on deploy ------------------------------------------------------------
//
// The engine propagates one thing beyond the template text: a reference to a resource it
// replaces (the new resource has a new id and new attributes) — and only into properties
// whose change replaces the referencing resource too. Two more cases change what a resource
// receives although its own text does not, and an MWAA environment depends on both:
// - any reference to a replaced resource, in any property (a new security group id is an
//   in-place update of the environment's NetworkConfiguration);
// - Fn::GetAtt of a custom resource whose input changed: its attributes are whatever its
//   handler returns on update (the object versions of plugins.zip, requirements and the startup
//   script come from such resources). A new handler alone (ServiceToken) returns the same.
// They are found by writing each such reference in the new template as a value of its own and
// asking the engine again, until nothing more changes; the engine then decides the impact.

const CHANGES_ON_DEPLOY = " (changes on deploy)";

function isCustom(type) {
  return typeof type === "string" && (type.startsWith("Custom::") || type === "AWS::CloudFormation::CustomResource");
}

function isReplacement(impact) {
  return impact === ResourceImpact.WILL_REPLACE || impact === ResourceImpact.MAY_REPLACE;
}

// logicalId -> "all" (Ref and every attribute change: replaced) or "attributes" (Fn::GetAtt only).
function changingTargets(diff) {
  const targets = new Map();
  diff.resources.forEachDifference((logicalId, change) => {
    if (change.isAddition || change.isRemoval) return;
    if (isReplacement(change.changeImpact)) {
      targets.set(logicalId, "all");
    } else if (isCustom(change.newResourceType) && Object.keys(change.propertyUpdates).some((p) => p !== "ServiceToken")) {
      targets.set(logicalId, "attributes");
    }
  });
  return targets;
}

function referenced(value) {
  // [logicalId, attribute or null] of a Ref / Fn::GetAtt object, else null.
  if (!isIntrinsic(value)) return null;
  if (typeof value.Ref === "string") return [value.Ref, null];
  const target = value["Fn::GetAtt"];
  if (typeof target === "string") return [target.split(".")[0], target.split(".").slice(1).join(".") || null];
  if (Array.isArray(target) && typeof target[0] === "string") return [target[0], target[1] == null ? null : String(target[1])];
  return null;
}

function changes(targets, logicalId, attribute) {
  const kind = targets.get(logicalId);
  return kind === "all" || (kind === "attributes" && attribute !== null);
}

// A copy of `template` with every changing reference replaced by a marker string; `sites`
// collects, per resource, where (property, path) and which targets.
function substitute(template, targets, sites) {
  const copy = JSON.parse(JSON.stringify(template));
  for (const [logicalId, resource] of Object.entries(copy.Resources ?? {})) {
    const found = [];
    const walk = (value, path) => {
      if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
      if (value === null || typeof value !== "object") return value;
      const reference = referenced(value);
      if (reference) {
        if (!changes(targets, reference[0], reference[1])) return value;
        found.push({ path, targets: [reference[0]] });
        return `\${${reference.filter((part) => part !== null).join(".")}}${CHANGES_ON_DEPLOY}`;
      }
      if (isIntrinsic(value) && "Fn::Sub" in value) {
        const body = value["Fn::Sub"];
        const [text, variables] = typeof body === "string" ? [body, {}] : [body[0], body[1] ?? {}];
        const hit = new Set();
        const newText = String(text).replace(/\$\{([^!}][^}]*)\}/g, (whole, name) => {
          const [id, ...attribute] = name.split(".");
          if (name in variables || id.startsWith("AWS::") || !changes(targets, id, attribute.join(".") || null)) return whole;
          hit.add(id);
          return `\${${name}${CHANGES_ON_DEPLOY}}`;
        });
        const newVariables = walk(variables, [...path, "Fn::Sub", 1]);
        if (hit.size > 0) found.push({ path, targets: [...hit].sort() });
        return { "Fn::Sub": typeof body === "string" && hit.size === 0 ? body : [newText, newVariables] };
      }
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]));
    };
    if (resource.Properties) resource.Properties = walk(resource.Properties, []);
    if (found.length > 0) sites.set(logicalId, found);
  }
  return copy;
}

function deployTimeChanges(oldTemplate, newTemplate, direct) {
  let targets = changingTargets(direct);
  let sites = new Map();
  let effective = direct;
  for (let round = 0; round < 100 && targets.size > 0; round += 1) {
    sites = new Map();
    effective = fullDiff(oldTemplate, substitute(newTemplate, targets, sites));
    const next = changingTargets(effective);
    if ([...next].every(([id, kind]) => targets.get(id) === kind) && next.size === targets.size) break;
    targets = next;
  }
  return { effective, sites };
}

// --- IAM and security groups -------------------------------------------------------------------

function targetsJson(targets) {
  return { not: targets.not, values: targets.values };
}

function statementJson(statement) {
  const json = {
    sid: statement.sid ?? null,
    effect: statement.effect,
    actions: targetsJson(statement.actions),
    resources: targetsJson(statement.resources),
    principals: targetsJson(statement.principals),
    condition: statement.condition === undefined ? null : renderIntrinsics(statement.condition),
  };
  if (statement.effect === "Unknown") json.unparsed = statement.render().resource;
  return json;
}

function ruleJson(rule) {
  return {
    group: rendered(rule.groupId),
    protocol: rule.describeProtocol(),
    peer: rendered(rule.describePeer()),
    ipProtocol: rule.ipProtocol,
    fromPort: rule.fromPort ?? null,
    toPort: rule.toPort ?? null,
  };
}

function policyJson(attachment) {
  return { identity: rendered(attachment.identityArn), policy: rendered(attachment.managedPolicyArn) };
}

// --- one pair ----------------------------------------------------------------------------------

function compare(pair) {
  const oldTemplate = comparable(pair.old);
  const newTemplate = comparable(pair.new);
  const direct = fullDiff(oldTemplate, newTemplate);
  const { effective, sites } = deployTimeChanges(oldTemplate, newTemplate, direct);

  const ids = new Set([...direct.resources.logicalIds, ...effective.resources.logicalIds]);
  const resources = [];
  for (const logicalId of [...ids].sort()) {
    const difference = direct.resources.get(logicalId);
    const afterDeploy = effective.resources.get(logicalId);
    const deployTime = [];
    if (difference && !difference.isAddition && !difference.isRemoval) {
      for (const site of sites.get(logicalId) ?? []) {
        const property = String(site.path[0]);
        const impact = updated(afterDeploy?.propertyUpdates?.[property]?.changeImpact);
        deployTime.push({ property, path: site.path.slice(1), targets: site.targets, impact });
      }
    }
    const changeList = difference ? resourceChanges(difference) : [];
    if (changeList.length === 0 && deployTime.length === 0 && !(difference?.isAddition || difference?.isRemoval)) {
      continue;
    }
    const source = difference ?? afterDeploy;
    resources.push({
      logicalId,
      oldType: source.oldResourceType ?? null,
      newType: source.newResourceType ?? null,
      impact: updated((deployTime.length > 0 ? afterDeploy : difference).changeImpact),
      changes: changeList,
      deployTime,
    });
  }

  const outputs = [];
  for (const name of direct.outputs.logicalIds.sort()) {
    const diff = direct.outputs.get(name);
    for (const leaf of leaves(diff.oldValue, diff.newValue)) outputs.push({ name, ...leaf });
  }

  const iam = direct.iamChanges;
  const groups = direct.securityGroupChanges;
  return {
    resources,
    outputs,
    iam: {
      statementAdditions: iam.statements.additions.map(statementJson),
      statementRemovals: iam.statements.removals.map(statementJson),
      managedPolicyAdditions: iam.managedPolicies.additions.map(policyJson),
      managedPolicyRemovals: iam.managedPolicies.removals.map(policyJson),
    },
    securityGroups: {
      ingressRuleAdditions: groups.ingress.additions.map(ruleJson),
      ingressRuleRemovals: groups.ingress.removals.map(ruleJson),
      egressRuleAdditions: groups.egress.additions.map(ruleJson),
      egressRuleRemovals: groups.egress.removals.map(ruleJson),
    },
  };
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

async function main() {
  const pairs = JSON.parse(await readStdin());
  if (!Array.isArray(pairs)) throw new Error("expected a JSON list of {old, new} template pairs");
  process.stdout.write(JSON.stringify(pairs.map(compare)));
}

main().catch((error) => {
  process.stderr.write(`cfn_diff: ${error.stack ?? error}\n`);
  process.exit(2);
});
