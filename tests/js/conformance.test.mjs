// A second, stricter SDK against `harness serve`: the AWS SDK for JavaScript v3
// drives the emulator's main flows over HTTP. Its deserializers are stricter than
// botocore's (a timestamp sent as an ISO string where the JSON protocol wants
// epoch seconds fails here, and botocore takes it), so every call below must be
// parsed by the SDK itself, and the checks assert on fields with real values.
//
//   AWS_ENDPOINT_URL=http://127.0.0.1:PORT node --test-reporter=spec tests/js/conformance.test.mjs
//
// (tests/js/test_js_sdk.py starts the server and runs this; `npm ci --prefix tests/js` installs the SDK.)
// Virtual time moves through the server's control endpoint (POST /_harness/advance),
// not by sleeping on the wall clock. Every failure names the call and the field,
// with what the SDK parsed and what was on the wire.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import {
  CreateClusterCommand, CreateServiceCommand, DescribeServiceDeploymentsCommand, DescribeServiceRevisionsCommand,
  DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListServiceDeploymentsCommand,
  ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, UpdateServiceCommand,
  ClusterNotFoundException, ServiceNotFoundException,
} from "@aws-sdk/client-ecs";
import {
  CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import {
  CodeDeployClient, CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand,
  GetApplicationCommand, GetDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { NormalizedSchema } from "@smithy/core/schema";

const ENDPOINT = (process.env.AWS_ENDPOINT_URL || "").replace(/\/+$/, "");
if (!ENDPOINT) {
  console.error("conformance.test.mjs: set AWS_ENDPOINT_URL to a `harness serve` URL (http://127.0.0.1:PORT)");
  process.exit(2);
}
const CONTROL = (process.env.HARNESS_CONTROL_URL || `${ENDPOINT}/_harness`).replace(/\/+$/, "");
const REGION = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
const CREDENTIALS = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID || "testing",
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "testing",
};
const ACCOUNT = "\\d{12}";
const RUN = `js${Date.now().toString(36)}`; // names of this run: the suite may share a server
const CLUSTER = `${RUN}-c`;
const FAMILY = `${RUN}-app`;
const ROLE = "arn:aws:iam::123456789012:role/ecs-infrastructure";
const EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
const LIFECYCLE_STAGES = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
  "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"];

// -- the raw answers: kept per parsed output, to show what was on the wire ----------------
const RAW = new WeakMap(); // SDK output object -> {status, text}
let lastRaw = null; // the last answer's {operation, status, text}: what a parse failure was given

function recordRaw(client) {
  // After the deserializer in the stack: sees the HTTP answer before it is parsed,
  // reads the body once and hands the bytes on (the SDK collects a Uint8Array as is).
  client.middlewareStack.addRelativeTo((next, context) => async (args) => {
    const result = await next(args);
    const chunks = [];
    for await (const chunk of result.response.body) chunks.push(Buffer.from(chunk));
    const bytes = Buffer.concat(chunks);
    result.response.body = new Uint8Array(bytes);
    lastRaw = { operation: context.commandName, status: result.response.statusCode, text: bytes.toString("utf8") };
    return result;
  }, { relation: "after", toMiddleware: "deserializerMiddleware", name: "harnessRawAnswer" });
  return client;
}

const clientConfig = { endpoint: ENDPOINT, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
const ecs = recordRaw(new ECSClient(clientConfig));
const elb = recordRaw(new ElasticLoadBalancingV2Client(clientConfig));
const cloudwatch = recordRaw(new CloudWatchClient(clientConfig));
const codedeploy = recordRaw(new CodeDeployClient(clientConfig));
const ec2 = recordRaw(new EC2Client(clientConfig));

// -- the answer against the SDK's own model (JSON protocols) ------------------------------------
// The SDK refuses some wrong types (a timestamp that is not a number) with an error that names
// no field, and lets others through (a number sent as a string stays a string). Walking the raw
// answer against the operation's output schema names the field in both cases.
const DATE_TIME = 5, HTTP_DATE = 6; // @smithy/core's timestamp schemas with a string format

function wireTypeErrors(schema, value, path = "", out = []) {
  if (schema === undefined || value === undefined || value === null) return out;
  const ns = NormalizedSchema.of(schema);
  const want = (ok, what) => {
    if (!ok) out.push({ path: path || "(answer)", value, want: what });
    return ok;
  };
  if (ns.isDocumentSchema() || ns.isUnitSchema()) return out;
  if (ns.isStructSchema() || ns.isUnionSchema()) {
    if (!want(typeof value === "object" && !Array.isArray(value), "an object")) return out;
    for (const [name, member] of ns.structIterator()) wireTypeErrors(member, value[name], path ? `${path}.${name}` : name, out);
  } else if (ns.isListSchema()) {
    if (!want(Array.isArray(value), "a list")) return out;
    value.forEach((item, i) => wireTypeErrors(ns.getValueSchema(), item, `${path}[${i}]`, out));
  } else if (ns.isMapSchema()) {
    if (!want(typeof value === "object" && !Array.isArray(value), "a map (a JSON object)")) return out;
    for (const [key, item] of Object.entries(value)) wireTypeErrors(ns.getValueSchema(), item, `${path}.${key}`, out);
  } else if (ns.isTimestampSchema()) {
    if ([DATE_TIME, HTTP_DATE].includes(ns.getSchema())) want(typeof value === "string", "a timestamp string");
    else want(typeof value === "number" && Number.isFinite(value), "a timestamp in epoch seconds (a JSON number)");
  } else if (ns.isBooleanSchema()) {
    want(typeof value === "boolean", "a boolean");
  } else if (ns.isNumericSchema() || ns.isBigIntegerSchema() || ns.isBigDecimalSchema()) {
    want(typeof value === "number", "a number");
  } else if (ns.isBlobSchema() || ns.isStringSchema()) {
    want(typeof value === "string", "a string");
  }
  return out;
}

// The wire fields of `raw` (an answer's text) whose type the operation's model does not allow.
function typeErrorsOf(command, raw) {
  const output = Array.isArray(command.schema) ? command.schema[5] : undefined;
  if (!output || !raw || !raw.text) return [];
  let parsed;
  try { parsed = JSON.parse(raw.text); } catch { return []; } // XML/query protocols (EC2, ELBv2): the SDK's parse only
  return wireTypeErrors(output, parsed).map((e) => `${e.path}: on the wire ${show(e.value)}, the SDK's model wants ${e.want}`);
}

function opName(command) {
  return command.constructor.name.replace(/Command$/, "");
}

function clip(text, limit = 1500) {
  return text.length > limit ? `${text.slice(0, limit)}... (${text.length} chars)` : text;
}

// One API call: the SDK must send it and parse the answer. A failure says which call,
// the SDK's error (modelled or a parse error) and the raw answer.
async function call(client, command) {
  const name = opName(command);
  lastRaw = null;
  try {
    const output = await client.send(command);
    if (lastRaw) {
      RAW.set(output, lastRaw);
      // the SDK took the answer; its types must still be the model's (a check per answer)
      totals.answers += 1;
      const wrong = typeErrorsOf(command, lastRaw);
      if (wrong.length) {
        totals.mistyped += 1;
        for (const line of wrong) (current ?? orphan).fail(`${name}: ${line}`);
      }
    }
    return output;
  } catch (err) {
    const raw = lastRaw && lastRaw.operation === command.constructor.name ? lastRaw : null;
    const status = err?.$metadata?.httpStatusCode ?? raw?.status;
    const lines = [`${name}: the call failed: ${err?.name}: ${err?.message}`];
    if (status !== undefined) lines.push(`  HTTP ${status}`);
    for (const line of typeErrorsOf(command, raw)) lines.push(`  ${name}: ${line}`); // which field the SDK choked on
    if (raw) lines.push(`  answer: ${clip(raw.text)}`);
    const error = new Error(lines.join("\n"));
    Object.defineProperty(error, "sdkError", { value: err, enumerable: false }); // for a debugger, not the report
    throw error;
  }
}

// A call that must fail with a modelled error: returns the SDK's error.
async function refused(client, command) {
  const name = opName(command);
  try {
    const output = await client.send(command);
    throw new Error(`${name}: expected a modelled error, the call succeeded: ${clip(JSON.stringify(output))}`);
  } catch (err) {
    if (err?.$metadata === undefined) throw err;
    return err;
  }
}

// -- checks: soft (a test reports every field that is off, not only the first) --------------
const totals = { checks: 0, failed: 0, answers: 0, mistyped: 0, failures: [] };

function pathGet(value, path) {
  if (!path) return value;
  for (const part of path.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (value === undefined || value === null) return undefined;
    value = value[part];
  }
  return value;
}

function show(value) {
  if (value instanceof Date) return `Date(${isNaN(value) ? "Invalid" : value.toISOString()})`;
  if (value === undefined) return "undefined (absent)";
  return clip(JSON.stringify(value, (k, v) => (typeof v === "bigint" ? String(v) : v)), 400);
}

// The failure of a test's field checks: one line per field (a plain Error: the runner prints its message only).
class FieldChecksFailed extends Error {}
FieldChecksFailed.prototype.name = "FieldChecksFailed";

let current = null; // the running test's Checks: where a call's wire type errors go

class Checks {
  constructor() {
    this.failures = [];
    current = this;
  }

  fail(line) {
    if (this.failures.includes(line)) return; // a poll repeats the same answer
    this.failures.push(line);
    totals.failures.push(line);
  }

  // Checks on one call's answer: `at.eq("services[0].status", "ACTIVE")`.
  of(callName, output) {
    const raw = RAW.get(output);
    let wire = null;
    if (raw) {
      try { wire = JSON.parse(raw.text); } catch { wire = null; } // JSON protocols: same keys as the SDK's output
    }
    const checks = this;
    const record = (path, ok, want, got) => {
      totals.checks += 1;
      if (ok) return true;
      totals.failed += 1;
      let line = `${callName}: ${path || "(answer)"}: got ${show(got)}, want ${want}`;
      if (wire !== null) {
        const onWire = pathGet(wire, path);
        line += `; on the wire: ${onWire === undefined ? "absent" : show(onWire)}`;
      }
      checks.fail(line);
      return false;
    };
    return {
      get: (path) => pathGet(output, path),
      eq(path, expected) {
        const got = pathGet(output, path);
        let ok;
        try { assert.deepStrictEqual(got, expected); ok = true; } catch { ok = false; }
        return record(path, ok, show(expected), got);
      },
      match(path, pattern) {
        const got = pathGet(output, path);
        return record(path, typeof got === "string" && pattern.test(got), `a string matching ${pattern}`, got);
      },
      string(path) {
        const got = pathGet(output, path);
        return record(path, typeof got === "string" && got.length > 0, "a non-empty string", got);
      },
      number(path, predicate = () => true, want = "a number") {
        const got = pathGet(output, path);
        return record(path, typeof got === "number" && Number.isFinite(got) && predicate(got), want, got);
      },
      array(path, predicate = () => true, want = "an array") {
        const got = pathGet(output, path);
        return record(path, Array.isArray(got) && predicate(got), want, got);
      },
      // A timestamp the SDK parsed into a Date, on the server's (virtual) clock of this run.
      date(path, { from = startedAt - 120, to = undefined } = {}) {
        const got = pathGet(output, path);
        const upper = (to ?? virtualNow) + 120;
        const ok = got instanceof Date && !isNaN(got) && got.getTime() / 1000 >= from && got.getTime() / 1000 <= upper;
        return record(path, ok, `a Date within this run on the server's clock (${iso(from)} .. ${iso(upper)})`, got);
      },
      ok(path, predicate, want) {
        const got = pathGet(output, path);
        let ok;
        try { ok = Boolean(predicate(got)); } catch { ok = false; }
        return record(path, ok, want, got);
      },
    };
  }

  done() {
    if (this.failures.length) {
      const error = new FieldChecksFailed(`${this.failures.length} check(s) failed:\n  ${this.failures.join("\n  ")}`);
      error.stack = `${error.name}: ${error.message}`; // where done() was called says nothing the lines do not
      throw error;
    }
  }
}

const orphan = new Checks(); // calls made outside a test's checks (none today): reported at the end
current = null;

function iso(seconds) {
  return new Date(seconds * 1000).toISOString();
}

// -- the control endpoint: virtual time -------------------------------------------------------
let startedAt = 0; // the server's virtual time when the suite began (epoch seconds)
let virtualNow = 0; // its latest known virtual time

async function control(action, body) {
  const response = await fetch(`${CONTROL}/${action}`, body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`control ${action}: HTTP ${response.status}: ${clip(text)}`);
  const state = JSON.parse(text);
  if (typeof state.now === "number") virtualNow = state.now;
  return state;
}

const advance = (seconds) => control("advance", { seconds });

// Advance virtual time `step` seconds at a time until `done(answer)` holds; returns the last answer.
async function until(what, probe, done, { step = 15, limit = 1800 } = {}) {
  let answer = await probe();
  for (let waited = 0; !done(answer); waited += step) {
    if (waited >= limit) {
      throw new Error(`${what}: not reached after ${limit} virtual seconds; last answer: ${clip(JSON.stringify(answer), 2500)}`);
    }
    await advance(step);
    answer = await probe();
  }
  return answer;
}

// -- what the flows share -------------------------------------------------------------------
const state = {};

function needs(t, ...keys) {
  const missing = keys.filter((key) => state[key] === undefined);
  if (missing.length) {
    t.skip(`needs ${missing.join(", ")} from an earlier step that failed`);
    return false;
  }
  return true;
}

const describeService = async (service) => {
  const out = await call(ecs, new DescribeServicesCommand({ cluster: CLUSTER, services: [service], include: ["TAGS"] }));
  return out;
};

const taskDefinitionInput = (image) => ({
  family: FAMILY,
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  executionRoleArn: EXECUTION_ROLE,
  containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 80, protocol: "tcp" }] }],
  tags: [{ key: "team", value: "js-sdk" }],
});

before(async () => {
  const first = await control("state");
  startedAt = first.now;
});

after(() => {
  if (orphan.failures.length) process.exitCode = 1;
  console.log(`\njs-sdk conformance: ${totals.checks} field checks, ${totals.failed} failed; ` +
    `${totals.answers} answers parsed by the SDK, ${totals.mistyped} with values of a type its model does not allow`);
  if (totals.failures.length) console.log(`failed checks:\n  ${totals.failures.join("\n  ")}`);
});

// -- the flows --------------------------------------------------------------------------------
test("control endpoint: state and advance move the virtual clock", async () => {
  const before = await control("state");
  assert.equal(typeof before.now, "number", `GET ${CONTROL}/state: now: got ${show(before.now)}, want a number`);
  const after = await advance(5);
  assert.ok(after.now >= before.now + 5, `POST ${CONTROL}/advance {seconds: 5}: now went ${before.now} -> ${after.now}`);
});

test("RegisterTaskDefinition: two Fargate revisions, registeredAt a Date", async () => {
  const c = new Checks();
  for (const [revision, image] of [[1, "nginx:1.27"], [2, "nginx:1.28"]]) {
    const out = await call(ecs, new RegisterTaskDefinitionCommand(taskDefinitionInput(image)));
    const at = c.of("RegisterTaskDefinition", out);
    at.match("taskDefinition.taskDefinitionArn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${FAMILY}:${revision}$`));
    at.eq("taskDefinition.family", FAMILY);
    at.eq("taskDefinition.revision", revision);
    at.eq("taskDefinition.status", "ACTIVE");
    at.date("taskDefinition.registeredAt");
    at.eq("taskDefinition.networkMode", "awsvpc");
    at.eq("taskDefinition.requiresCompatibilities", ["FARGATE"]);
    at.ok("taskDefinition.compatibilities", (v) => Array.isArray(v) && v.includes("FARGATE"), "an array with FARGATE");
    at.eq("taskDefinition.cpu", "256");
    at.eq("taskDefinition.memory", "512");
    at.eq("taskDefinition.executionRoleArn", EXECUTION_ROLE);
    at.eq("taskDefinition.containerDefinitions[0].name", "app");
    at.eq("taskDefinition.containerDefinitions[0].image", image);
    at.eq("taskDefinition.containerDefinitions[0].essential", true);
    at.eq("taskDefinition.containerDefinitions[0].portMappings[0].containerPort", 80);
    at.eq("taskDefinition.containerDefinitions[0].portMappings[0].hostPort", 80); // awsvpc: the container's port
    at.eq("taskDefinition.containerDefinitions[0].portMappings[0].protocol", "tcp");
    // what ECS fills in for a container that did not say (the AWS CLI's documented register-task-definition output)
    at.eq("taskDefinition.containerDefinitions[0].cpu", 0);
    at.eq("taskDefinition.containerDefinitions[0].environment", []);
    at.eq("taskDefinition.containerDefinitions[0].mountPoints", []);
    at.eq("taskDefinition.containerDefinitions[0].volumesFrom", []);
    at.eq("taskDefinition.volumes", []);
    at.eq("taskDefinition.placementConstraints", []);
    state[`td${revision}`] = at.get("taskDefinition.taskDefinitionArn");
  }
  const described = await call(ecs, new DescribeTaskDefinitionCommand({ taskDefinition: `${FAMILY}:1`, include: ["TAGS"] }));
  const at = c.of("DescribeTaskDefinition", described);
  at.eq("taskDefinition.taskDefinitionArn", state.td1);
  at.date("taskDefinition.registeredAt");
  at.eq("tags", [{ key: "team", value: "js-sdk" }]);
  c.done();
});

test("EC2: a VPC, two subnets and a security group for awsvpc", async () => {
  const c = new Checks();
  const vpc = await call(ec2, new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }));
  c.of("CreateVpc", vpc).match("Vpc.VpcId", /^vpc-[0-9a-f]+$/);
  const subnets = [];
  for (const [i, zone] of [[1, "a"], [2, "b"]]) {
    const out = await call(ec2, new CreateSubnetCommand({ VpcId: vpc.Vpc.VpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: `${REGION}${zone}` }));
    const at = c.of("CreateSubnet", out);
    at.match("Subnet.SubnetId", /^subnet-[0-9a-f]+$/);
    at.eq("Subnet.AvailabilityZone", `${REGION}${zone}`);
    subnets.push(out.Subnet.SubnetId);
  }
  const group = await call(ec2, new CreateSecurityGroupCommand({ GroupName: `${RUN}-tasks`, Description: "js-sdk conformance", VpcId: vpc.Vpc.VpcId }));
  c.of("CreateSecurityGroup", group).match("GroupId", /^sg-[0-9a-f]+$/);
  state.vpc = vpc.Vpc.VpcId;
  state.network = { awsvpcConfiguration: { subnets, securityGroups: [group.GroupId], assignPublicIp: "DISABLED" } };
  c.done();
});

test("CreateCluster", async () => {
  const c = new Checks();
  const out = await call(ecs, new CreateClusterCommand({ clusterName: CLUSTER, tags: [{ key: "team", value: "js-sdk" }] }));
  const at = c.of("CreateCluster", out);
  at.match("cluster.clusterArn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}$`));
  at.eq("cluster.clusterName", CLUSTER);
  at.eq("cluster.status", "ACTIVE");
  at.eq("cluster.registeredContainerInstancesCount", 0);
  at.eq("cluster.runningTasksCount", 0);
  at.eq("cluster.pendingTasksCount", 0);
  at.eq("cluster.activeServicesCount", 0);
  at.eq("cluster.tags", [{ key: "team", value: "js-sdk" }]);
  state.clusterArn = out.cluster.clusterArn;
  c.done();
});

test("CreateService (rolling, FARGATE, awsvpc), rolled out on the virtual clock", async (t) => {
  if (!needs(t, "td1", "network", "clusterArn")) return;
  const c = new Checks();
  const out = await call(ecs, new CreateServiceCommand({
    cluster: CLUSTER, serviceName: "web", taskDefinition: state.td1, desiredCount: 2, launchType: "FARGATE",
    networkConfiguration: state.network,
    deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100, deploymentCircuitBreaker: { enable: true, rollback: true } },
    tags: [{ key: "team", value: "js-sdk" }],
  }));
  const at = c.of("CreateService", out);
  at.match("service.serviceArn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/web$`));
  at.eq("service.serviceName", "web");
  at.eq("service.clusterArn", state.clusterArn);
  at.eq("service.status", "ACTIVE");
  at.eq("service.taskDefinition", state.td1);
  at.eq("service.desiredCount", 2);
  at.eq("service.runningCount", 0);
  at.eq("service.pendingCount", 0);
  at.eq("service.launchType", "FARGATE");
  at.eq("service.platformVersion", "LATEST");
  at.eq("service.networkConfiguration", state.network);
  at.eq("service.deploymentConfiguration.maximumPercent", 200);
  at.eq("service.deploymentConfiguration.minimumHealthyPercent", 100);
  at.eq("service.deploymentConfiguration.deploymentCircuitBreaker", { enable: true, rollback: true });
  at.eq("service.schedulingStrategy", "REPLICA");
  at.eq("service.deploymentController", { type: "ECS" });
  at.eq("service.loadBalancers", []);
  at.eq("service.serviceRegistries", []);
  at.eq("service.placementConstraints", []);
  at.eq("service.placementStrategy", []);
  at.eq("service.enableECSManagedTags", false);
  at.eq("service.enableExecuteCommand", false);
  at.eq("service.propagateTags", "NONE");
  at.eq("service.tags", [{ key: "team", value: "js-sdk" }]);
  at.match("service.roleArn", new RegExp(`^arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs\\.amazonaws\\.com/AWSServiceRoleForECS$`));
  at.date("service.createdAt");
  at.match("service.createdBy", new RegExp(`^arn:aws:iam::${ACCOUNT}:`));
  at.array("service.events");
  at.match("service.currentServiceDeployment", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${CLUSTER}/web/[A-Za-z0-9_-]+$`));
  at.array("service.deployments", (d) => d.length === 1, "one deployment");
  at.match("service.deployments[0].id", /^ecs-svc\/\d+$/);
  at.eq("service.deployments[0].status", "PRIMARY");
  at.eq("service.deployments[0].taskDefinition", state.td1);
  at.eq("service.deployments[0].desiredCount", 2);
  at.eq("service.deployments[0].pendingCount", 0);
  at.eq("service.deployments[0].runningCount", 0);
  at.eq("service.deployments[0].failedTasks", 0);
  at.date("service.deployments[0].createdAt");
  at.date("service.deployments[0].updatedAt");
  at.eq("service.deployments[0].launchType", "FARGATE");
  at.eq("service.deployments[0].networkConfiguration", state.network);
  at.eq("service.deployments[0].rolloutState", "IN_PROGRESS");
  at.match("service.deployments[0].rolloutStateReason", /^ECS deployment ecs-svc\/\d+ in progress\.$/);
  state.serviceArn = out.service.serviceArn;

  const done = await until("DescribeServices web: first rollout COMPLETED", () => describeService("web"),
    (o) => o.services?.[0]?.deployments?.length === 1 && o.services[0].deployments[0].rolloutState === "COMPLETED");
  const after = c.of("DescribeServices", done);
  after.eq("failures", []);
  after.eq("services[0].runningCount", 2);
  after.eq("services[0].deployments[0].runningCount", 2);
  after.match("services[0].deployments[0].rolloutStateReason", /^ECS deployment ecs-svc\/\d+ completed\.$/);
  after.eq("services[0].tags", [{ key: "team", value: "js-sdk" }]);
  after.match("services[0].events[0].message", /^\(service web\) has reached a steady state\.$/);
  after.date("services[0].events[0].createdAt");
  after.string("services[0].events[0].id");
  state.webReady = true; // the flows after it need the rollout, not every field above
  c.done();
});

test("UpdateService to revision 2: rolling deployment to COMPLETED, tasks on it", async (t) => {
  if (!needs(t, "webReady", "td2")) return;
  const c = new Checks();
  const out = await call(ecs, new UpdateServiceCommand({ cluster: CLUSTER, service: "web", taskDefinition: state.td2 }));
  const at = c.of("UpdateService", out);
  at.eq("service.taskDefinition", state.td2);
  at.array("service.deployments", (d) => d.length === 2, "two deployments (the new PRIMARY, the old ACTIVE)");
  at.eq("service.deployments[0].status", "PRIMARY");
  at.eq("service.deployments[0].taskDefinition", state.td2);
  at.eq("service.deployments[0].rolloutState", "IN_PROGRESS");
  at.date("service.deployments[0].createdAt");
  at.eq("service.deployments[1].status", "ACTIVE");
  at.eq("service.deployments[1].taskDefinition", state.td1);
  at.eq("service.deployments[1].rolloutState", "COMPLETED");
  state.rollingDeployment = out.service.currentServiceDeployment;
  at.match("service.currentServiceDeployment", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${CLUSTER}/web/`));

  const seen = new Set();
  const done = await until("DescribeServices web: revision 2 COMPLETED", () => describeService("web"), (o) => {
    for (const d of o.services?.[0]?.deployments ?? []) seen.add(`${d.status}/${d.rolloutState}`);
    const ds = o.services?.[0]?.deployments ?? [];
    return ds.length === 1 && ds[0].taskDefinition === state.td2 && ds[0].rolloutState === "COMPLETED";
  });
  const after = c.of("DescribeServices", done);
  after.eq("services[0].runningCount", 2);
  after.eq("services[0].pendingCount", 0);
  after.eq("services[0].deployments[0].status", "PRIMARY");
  after.date("services[0].deployments[0].updatedAt");

  const listed = await call(ecs, new ListTasksCommand({ cluster: CLUSTER, serviceName: "web", desiredStatus: "RUNNING" }));
  c.of("ListTasks", listed).array("taskArns", (a) => a.length === 2, "two task ARNs");
  if (listed.taskArns?.length) {
    const tasks = await call(ecs, new DescribeTasksCommand({ cluster: CLUSTER, tasks: listed.taskArns }));
    const tk = c.of("DescribeTasks", tasks);
    tk.eq("failures", []);
    tasks.tasks.forEach((_, i) => {
      const p = `tasks[${i}]`;
      tk.match(`${p}.taskArn`, new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/[0-9a-f]{32}$`));
      tk.eq(`${p}.clusterArn`, state.clusterArn);
      tk.eq(`${p}.taskDefinitionArn`, state.td2);
      tk.eq(`${p}.lastStatus`, "RUNNING");
      tk.eq(`${p}.desiredStatus`, "RUNNING");
      tk.eq(`${p}.launchType`, "FARGATE");
      tk.eq(`${p}.group`, "service:web");
      tk.eq(`${p}.startedBy`, done.services[0].deployments[0].id);
      tk.number(`${p}.version`, (n) => Number.isInteger(n) && n >= 1, "a whole number >= 1");
      tk.eq(`${p}.healthStatus`, "UNKNOWN"); // no container health check
      tk.eq(`${p}.connectivity`, "CONNECTED");
      tk.date(`${p}.createdAt`);
      tk.date(`${p}.startedAt`);
      tk.eq(`${p}.containers[0].name`, "app");
      tk.eq(`${p}.containers[0].image`, "nginx:1.28");
      tk.eq(`${p}.containers[0].lastStatus`, "RUNNING");
    });
  }
  state.webUpdated = true;
  c.done();
});

test("deployments API: ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions", async (t) => {
  if (!needs(t, "webUpdated", "serviceArn")) return;
  const c = new Checks();
  const listed = await call(ecs, new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: "web" }));
  const ls = c.of("ListServiceDeployments", listed);
  ls.array("serviceDeployments", (a) => a.length === 2, "the two deployments of web");
  (listed.serviceDeployments ?? []).forEach((_, i) => {
    const p = `serviceDeployments[${i}]`;
    ls.match(`${p}.serviceDeploymentArn`, new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${CLUSTER}/web/`));
    ls.eq(`${p}.serviceArn`, state.serviceArn);
    ls.eq(`${p}.clusterArn`, state.clusterArn);
    ls.eq(`${p}.status`, "SUCCESSFUL");
    ls.date(`${p}.createdAt`);
    ls.date(`${p}.startedAt`);
    ls.date(`${p}.finishedAt`);
    ls.match(`${p}.targetServiceRevisionArn`, new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/${CLUSTER}/web/`));
  });
  const arns = (listed.serviceDeployments ?? []).map((d) => d.serviceDeploymentArn);
  ls.ok("serviceDeployments", () => arns.includes(state.rollingDeployment), `to list UpdateService's deployment ${state.rollingDeployment}`);
  if (!arns.length) return c.done();

  const described = await call(ecs, new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [state.rollingDeployment] }));
  const ds = c.of("DescribeServiceDeployments", described);
  ds.eq("failures", []);
  ds.eq("serviceDeployments[0].serviceDeploymentArn", state.rollingDeployment);
  ds.eq("serviceDeployments[0].serviceArn", state.serviceArn);
  ds.eq("serviceDeployments[0].clusterArn", state.clusterArn);
  ds.eq("serviceDeployments[0].status", "SUCCESSFUL");
  ds.date("serviceDeployments[0].createdAt");
  ds.date("serviceDeployments[0].startedAt");
  ds.date("serviceDeployments[0].finishedAt");
  ds.date("serviceDeployments[0].updatedAt");
  ds.ok("serviceDeployments[0]", (d) => d.startedAt <= d.finishedAt, "startedAt <= finishedAt");
  ds.match("serviceDeployments[0].targetServiceRevision.arn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/${CLUSTER}/web/`));
  ds.eq("serviceDeployments[0].targetServiceRevision.requestedTaskCount", 2);
  ds.eq("serviceDeployments[0].targetServiceRevision.runningTaskCount", 2);
  ds.eq("serviceDeployments[0].targetServiceRevision.pendingTaskCount", 0);
  ds.array("serviceDeployments[0].sourceServiceRevisions", (a) => a.length === 1, "the one revision it replaced");
  ds.match("serviceDeployments[0].sourceServiceRevisions[0].arn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/${CLUSTER}/web/`));
  ds.eq("serviceDeployments[0].sourceServiceRevisions[0].runningTaskCount", 0);
  ds.eq("serviceDeployments[0].deploymentConfiguration.maximumPercent", 200);
  ds.eq("serviceDeployments[0].deploymentConfiguration.minimumHealthyPercent", 100);
  ds.eq("serviceDeployments[0].deploymentCircuitBreaker.status", "MONITORING_COMPLETE");
  ds.eq("serviceDeployments[0].deploymentCircuitBreaker.failureCount", 0);
  ds.number("serviceDeployments[0].deploymentCircuitBreaker.threshold", (n) => n >= 3, "a number >= 3 (ECS's minimum)");

  const target = described.serviceDeployments?.[0]?.targetServiceRevision?.arn;
  const source = described.serviceDeployments?.[0]?.sourceServiceRevisions?.[0]?.arn;
  if (target && source) {
    const revisions = await call(ecs, new DescribeServiceRevisionsCommand({ serviceRevisionArns: [target, source] }));
    const rv = c.of("DescribeServiceRevisions", revisions);
    rv.eq("failures", []);
    rv.array("serviceRevisions", (a) => a.length === 2, "both revisions");
    for (const [i, arn, td, image] of [[0, target, state.td2, "nginx:1.28"], [1, source, state.td1, "nginx:1.27"]]) {
      const p = `serviceRevisions[${i}]`;
      rv.eq(`${p}.serviceRevisionArn`, arn);
      rv.eq(`${p}.serviceArn`, state.serviceArn);
      rv.eq(`${p}.clusterArn`, state.clusterArn);
      rv.eq(`${p}.taskDefinition`, td);
      rv.eq(`${p}.launchType`, "FARGATE");
      rv.eq(`${p}.networkConfiguration`, state.network);
      rv.date(`${p}.createdAt`);
      rv.eq(`${p}.containerImages[0].containerName`, "app");
      rv.eq(`${p}.containerImages[0].image`, image);
      rv.match(`${p}.containerImages[0].imageDigest`, /^sha256:[0-9a-f]{64}$/);
    }
  }
  c.done();
});

test("blue/green: an ALB with two target groups (elbv2), BLUE_GREEN deployment to SUCCESSFUL", async (t) => {
  if (!needs(t, "td1", "td2", "network", "vpc", "clusterArn")) return;
  const c = new Checks();
  const lbOut = await call(elb, new CreateLoadBalancerCommand({ Name: `${RUN}-alb`, Subnets: state.network.awsvpcConfiguration.subnets }));
  const lb = c.of("CreateLoadBalancer", lbOut);
  lb.match("LoadBalancers[0].LoadBalancerArn", new RegExp(`^arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/${RUN}-alb/`));
  lb.date("LoadBalancers[0].CreatedTime");
  const groups = {};
  for (const colour of ["blue", "green"]) {
    const out = await call(elb, new CreateTargetGroupCommand({ Name: `${RUN}-${colour}`, Protocol: "HTTP", Port: 80, VpcId: state.vpc, TargetType: "ip" }));
    c.of("CreateTargetGroup", out).match("TargetGroups[0].TargetGroupArn", new RegExp(`^arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${RUN}-${colour}/`));
    groups[colour] = out.TargetGroups[0].TargetGroupArn;
  }
  const forward = { Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: groups.blue, Weight: 100 }, { TargetGroupArn: groups.green, Weight: 0 }] } };
  const rules = [];
  for (const port of [80, 8080]) {
    const listener = await call(elb, new CreateListenerCommand({ LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: "HTTP", Port: port, DefaultActions: [forward] }));
    c.of("CreateListener", listener).eq("Listeners[0].Port", port);
    const described = await call(elb, new DescribeRulesCommand({ ListenerArn: listener.Listeners[0].ListenerArn }));
    const ru = c.of("DescribeRules", described);
    ru.eq("Rules[0].IsDefault", true);
    ru.eq("Rules[0].Actions[0].ForwardConfig.TargetGroups[1].Weight", 0);
    rules.push(described.Rules[0].RuleArn);
  }
  const [productionRule, testRule] = rules;
  const weights = async () => {
    const out = await call(elb, new DescribeRulesCommand({ RuleArns: [productionRule] }));
    const forwarded = out.Rules[0].Actions[0].ForwardConfig.TargetGroups;
    return Object.fromEntries(forwarded.map((g) => [g.TargetGroupArn === groups.blue ? "blue" : "green", g.Weight]));
  };

  const loadBalancers = [{ targetGroupArn: groups.blue, containerName: "app", containerPort: 80, advancedConfiguration: {
    alternateTargetGroupArn: groups.green, productionListenerRule: productionRule, testListenerRule: testRule, roleArn: ROLE } }];
  const created = await call(ecs, new CreateServiceCommand({
    cluster: CLUSTER, serviceName: "bg", taskDefinition: state.td1, desiredCount: 2, launchType: "FARGATE",
    networkConfiguration: state.network, loadBalancers, healthCheckGracePeriodSeconds: 0,
    deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 1, maximumPercent: 200, minimumHealthyPercent: 100 },
  }));
  const cr = c.of("CreateService", created);
  cr.eq("service.deploymentConfiguration.strategy", "BLUE_GREEN");
  cr.eq("service.deploymentConfiguration.bakeTimeInMinutes", 1);
  cr.eq("service.loadBalancers", loadBalancers);
  cr.eq("service.healthCheckGracePeriodSeconds", 0);
  await until("DescribeServices bg: first deployment COMPLETED", () => describeService("bg"),
    (o) => o.services?.[0]?.deployments?.length === 1 && o.services[0].deployments[0].rolloutState === "COMPLETED" && o.services[0].runningCount === 2);

  const updated = await call(ecs, new UpdateServiceCommand({ cluster: CLUSTER, service: "bg", taskDefinition: state.td2 }));
  const up = c.of("UpdateService", updated);
  up.eq("service.taskDefinition", state.td2);
  up.match("service.currentServiceDeployment", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${CLUSTER}/bg/`));
  const arn = updated.service.currentServiceDeployment;
  const stages = [];
  const record = async () => {
    const out = await call(ecs, new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
    const deployment = out.serviceDeployments?.[0];
    if (deployment?.lifecycleStage && stages.at(-1) !== deployment.lifecycleStage) stages.push(deployment.lifecycleStage);
    return out;
  };
  const finished = await until("DescribeServiceDeployments bg: SUCCESSFUL", record,
    (o) => !["PENDING", "IN_PROGRESS"].includes(o.serviceDeployments?.[0]?.status), { step: 10, limit: 3600 });
  const fin = c.of("DescribeServiceDeployments", finished);
  fin.eq("serviceDeployments[0].status", "SUCCESSFUL");
  fin.eq("serviceDeployments[0].deploymentConfiguration.strategy", "BLUE_GREEN");
  fin.eq("serviceDeployments[0].deploymentConfiguration.bakeTimeInMinutes", 1);
  fin.date("serviceDeployments[0].startedAt");
  fin.date("serviceDeployments[0].finishedAt");
  fin.eq("serviceDeployments[0].targetServiceRevision.runningTaskCount", 2);
  fin.ok("serviceDeployments[0].lifecycleStage", () => stages.every((s) => LIFECYCLE_STAGES.includes(s)),
    `only ECS's lifecycle stages (${LIFECYCLE_STAGES.join(", ")}); seen ${stages.join(" > ")}`);
  fin.ok("serviceDeployments[0].lifecycleStage", () => stages.includes("BAKE_TIME") && stages.includes("PRODUCTION_TRAFFIC_SHIFT"),
    `to pass PRODUCTION_TRAFFIC_SHIFT and BAKE_TIME; seen ${stages.join(" > ")}`);
  const traffic = await weights();
  const tr = c.of("DescribeRules", { traffic });
  tr.eq("traffic", { blue: 0, green: 100 });
  const service = await describeService("bg");
  const sv = c.of("DescribeServices", service);
  sv.eq("services[0].deployments[0].rolloutState", "COMPLETED");
  sv.eq("services[0].deployments[0].taskDefinition", state.td2);
  sv.array("services[0].deployments", (d) => d.length === 1, "one deployment once blue is cleaned up");
  sv.eq("services[0].runningCount", 2);
  c.done();
});

test("RunTask with tags, overrides and networkConfiguration; DescribeTasks include TAGS", async (t) => {
  if (!needs(t, "td2", "network", "clusterArn")) return;
  const c = new Checks();
  const overrides = { containerOverrides: [{ name: "app", command: ["sh", "-c", "echo batch"], environment: [{ name: "MODE", value: "batch" }] }] };
  const tags = [{ key: "job", value: "nightly" }, { key: "team", value: "js-sdk" }];
  const ran = await call(ecs, new RunTaskCommand({
    cluster: CLUSTER, taskDefinition: state.td2, launchType: "FARGATE", count: 1, startedBy: "js-sdk",
    networkConfiguration: state.network, overrides, tags,
  }));
  const rt = c.of("RunTask", ran);
  rt.eq("failures", []);
  rt.array("tasks", (a) => a.length === 1, "one task");
  rt.match("tasks[0].taskArn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/[0-9a-f]{32}$`));
  rt.eq("tasks[0].clusterArn", state.clusterArn);
  rt.eq("tasks[0].taskDefinitionArn", state.td2);
  rt.eq("tasks[0].launchType", "FARGATE");
  rt.eq("tasks[0].lastStatus", "PROVISIONING");
  rt.eq("tasks[0].desiredStatus", "RUNNING");
  rt.eq("tasks[0].startedBy", "js-sdk");
  rt.eq("tasks[0].group", `family:${FAMILY}`);
  rt.eq("tasks[0].platformVersion", "1.4.0");
  rt.eq("tasks[0].overrides.containerOverrides", overrides.containerOverrides);
  rt.date("tasks[0].createdAt");
  rt.eq("tasks[0].containers[0].name", "app");
  rt.eq("tasks[0].containers[0].image", "nginx:1.28");
  rt.eq("tasks[0].containers[0].lastStatus", "PENDING");
  const taskArn = ran.tasks?.[0]?.taskArn;
  if (!taskArn) return c.done();

  const describe = () => call(ecs, new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn], include: ["TAGS"] }));
  const running = await until("DescribeTasks: the RunTask task RUNNING", describe, (o) => o.tasks?.[0]?.lastStatus === "RUNNING", { step: 5, limit: 600 });
  const dt = c.of("DescribeTasks", running);
  dt.eq("failures", []);
  dt.eq("tasks[0].taskArn", taskArn);
  dt.eq("tasks[0].tags", tags);
  dt.eq("tasks[0].overrides.containerOverrides", overrides.containerOverrides);
  dt.eq("tasks[0].desiredStatus", "RUNNING");
  dt.eq("tasks[0].connectivity", "CONNECTED");
  dt.date("tasks[0].connectivityAt");
  dt.date("tasks[0].pullStartedAt");
  dt.date("tasks[0].pullStoppedAt");
  dt.date("tasks[0].startedAt");
  dt.ok("tasks[0]", (task) => task.createdAt <= task.startedAt, "createdAt <= startedAt");
  dt.eq("tasks[0].containers[0].lastStatus", "RUNNING");
  dt.match("tasks[0].containers[0].containerArn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:container/${CLUSTER}/[0-9a-f]{32}/`));
  dt.eq("tasks[0].containers[0].taskArn", taskArn);

  const stopped = await call(ecs, new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: "js-sdk: done" }));
  const st = c.of("StopTask", stopped);
  st.eq("task.taskArn", taskArn);
  st.eq("task.desiredStatus", "STOPPED");
  st.eq("task.stoppedReason", "js-sdk: done");
  const gone = await until("DescribeTasks: the RunTask task STOPPED", describe, (o) => o.tasks?.[0]?.lastStatus === "STOPPED", { step: 10, limit: 600 });
  const gn = c.of("DescribeTasks", gone);
  gn.eq("tasks[0].stopCode", "UserInitiated");
  gn.eq("tasks[0].stoppedReason", "js-sdk: done");
  gn.date("tasks[0].stoppingAt");
  gn.date("tasks[0].stoppedAt");
  gn.date("tasks[0].executionStoppedAt");
  gn.eq("tasks[0].tags", tags);
  c.done();
});

test("CloudWatch PutMetricAlarm and DescribeAlarms (Dates)", async () => {
  const c = new Checks();
  const name = `${RUN}-web-cpu`;
  const dimensions = [{ Name: "ClusterName", Value: CLUSTER }, { Name: "ServiceName", Value: "web" }];
  await call(cloudwatch, new PutMetricAlarmCommand({
    AlarmName: name, Namespace: "AWS/ECS", MetricName: "CPUUtilization", Statistic: "Average", Period: 60,
    EvaluationPeriods: 2, Threshold: 80, ComparisonOperator: "GreaterThanThreshold", Dimensions: dimensions,
    TreatMissingData: "notBreaching",
  }));
  const out = await call(cloudwatch, new DescribeAlarmsCommand({ AlarmNames: [name] }));
  const at = c.of("DescribeAlarms", out);
  at.array("MetricAlarms", (a) => a.length === 1, "the alarm just put");
  at.eq("MetricAlarms[0].AlarmName", name);
  at.match("MetricAlarms[0].AlarmArn", new RegExp(`^arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}$`));
  at.eq("MetricAlarms[0].Namespace", "AWS/ECS");
  at.eq("MetricAlarms[0].MetricName", "CPUUtilization");
  at.eq("MetricAlarms[0].Statistic", "Average");
  at.eq("MetricAlarms[0].Period", 60);
  at.eq("MetricAlarms[0].EvaluationPeriods", 2);
  at.eq("MetricAlarms[0].Threshold", 80);
  at.eq("MetricAlarms[0].ComparisonOperator", "GreaterThanThreshold");
  at.eq("MetricAlarms[0].TreatMissingData", "notBreaching");
  at.eq("MetricAlarms[0].Dimensions", dimensions);
  at.eq("MetricAlarms[0].ActionsEnabled", true);
  // CloudWatch starts an alarm at INSUFFICIENT_DATA and evaluates it within a period; the emulator
  // publishes no metrics to evaluate, so it starts where a healthy service's alarm lands: OK
  at.eq("MetricAlarms[0].StateValue", "OK");
  at.string("MetricAlarms[0].StateReason");
  at.date("MetricAlarms[0].StateUpdatedTimestamp");
  at.date("MetricAlarms[0].AlarmConfigurationUpdatedTimestamp");
  c.done();
});

test("CodeDeploy: times parse as Dates on the server's clock; an ECS deployment is refused with the reason", async () => {
  const c = new Checks();
  const revision = { revisionType: "S3", s3Location: { bucket: `${RUN}-b`, key: "app.zip", bundleType: "zip" } };
  for (const [platform, name] of [["Server", `${RUN}-server`], ["ECS", `${RUN}-ecs`]]) {
    await call(codedeploy, new CreateApplicationCommand({ applicationName: name, computePlatform: platform }));
    await call(codedeploy, new CreateDeploymentGroupCommand({
      applicationName: name, deploymentGroupName: "g", serviceRoleArn: "arn:aws:iam::123456789012:role/codedeploy",
    }));
  }
  const app = await call(codedeploy, new GetApplicationCommand({ applicationName: `${RUN}-server` }));
  c.of("GetApplication", app).date("application.createTime");
  const { deploymentId } = await call(codedeploy, new CreateDeploymentCommand({
    applicationName: `${RUN}-server`, deploymentGroupName: "g", revision,
  }));
  const deployment = await call(codedeploy, new GetDeploymentCommand({ deploymentId }));
  const at = c.of("GetDeployment", deployment);
  at.eq("deploymentInfo.deploymentId", deploymentId);
  at.date("deploymentInfo.createTime");
  const ecsDeploy = await refused(codedeploy, new CreateDeploymentCommand({
    applicationName: `${RUN}-ecs`, deploymentGroupName: "g", revision,
  }));
  const no = c.of("CreateDeployment (an ECS application)", { name: ecsDeploy.name, status: ecsDeploy.$metadata.httpStatusCode,
    message: ecsDeploy.message });
  no.eq("name", "UnsupportedActionForDeploymentTypeException");
  no.eq("status", 400);
  no.match("message", /strategy BLUE_GREEN/);
  c.done();
});

test("modelled errors: the SDK parses ECS's refusals into its exception classes", async () => {
  const c = new Checks();
  const noService = await refused(ecs, new UpdateServiceCommand({ cluster: CLUSTER, service: "absent", desiredCount: 1 }));
  const ns = c.of("UpdateService (no such service)", { error: noService, name: noService.name, status: noService.$metadata.httpStatusCode, message: noService.message });
  ns.ok("error", (e) => e instanceof ServiceNotFoundException, "an instance of ServiceNotFoundException");
  ns.eq("name", "ServiceNotFoundException");
  ns.eq("status", 400);
  ns.string("message");
  const noCluster = await refused(ecs, new DescribeServicesCommand({ cluster: `${RUN}-absent`, services: ["web"] }));
  const nc = c.of("DescribeServices (no such cluster)", { error: noCluster, name: noCluster.name, status: noCluster.$metadata.httpStatusCode, message: noCluster.message });
  nc.ok("error", (e) => e instanceof ClusterNotFoundException, "an instance of ClusterNotFoundException");
  nc.eq("name", "ClusterNotFoundException");
  nc.eq("status", 400);
  nc.eq("message", "Cluster not found.");
  const missing = await call(ecs, new DescribeServicesCommand({ cluster: CLUSTER, services: ["absent"] }));
  const ms = c.of("DescribeServices (no such service)", missing);
  ms.eq("services", []);
  ms.eq("failures[0].reason", "MISSING");
  ms.match("failures[0].arn", new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/absent$`));
  c.done();
});
