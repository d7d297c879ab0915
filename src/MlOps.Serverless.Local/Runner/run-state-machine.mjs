// Runs one execution of an ASL definition on aws-local-stepfunctions and hands every Task state
// back to .NET over stdio (JSON lines), the way Step Functions hands it to a service integration.
//   .NET -> node : {"type":"start", definition, input, context, retryIntervalOverrides, startAt?}
//   node -> .NET : {"type":"task", id, state, resource, input}      (.NET answers on stdin)
//   .NET -> node : {"type":"result", id, output} | {"type":"error", id, error, cause}
//   node -> .NET : {"type":"event", event} for each execution event, then {"type":"end", ...}
import Module, { createRequire } from 'node:module';
import fs from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';

// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3.0 uses (Node 22 has it).
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const modulesDir = process.argv[2];
if (!modulesDir) {
  process.stderr.write('usage: node run-state-machine.mjs <node_modules directory>\n');
  process.exit(2);
}
const require = createRequire(path.join(modulesDir, 'package.json'));
const { StateMachine } = loadInterpreter(require);

// aws-local-stepfunctions 3.0 strips every backslash from an intrinsic function's result, including those inside
// the values a path argument inserts (a Lambda error's "\u0027" became "u0027"). Step Functions unescapes only the
// function's own string literals ('\'', '\{', '\}', '\\'). Both places are patched in the bundle's source as loaded;
// a bundle that no longer has them fails loudly rather than running unpatched.
function loadInterpreter(req) {
  const file = req.resolve('aws-local-stepfunctions');
  const patches = [
    ['return arg.slice(1, lastSingleQuote);', 'return arg.slice(1, lastSingleQuote).replace(/\\\\(.)/gs, "$1");'],
    ['result = result.replaceAll("\\\\", "");', '/* literals are unescaped in parseArguments */'],
  ];
  let source = fs.readFileSync(file, 'utf8');
  for (const [from, to] of patches) {
    if (!source.includes(from)) throw new Error(`aws-local-stepfunctions changed: '${from}' not found in ${file}`);
    source = source.replace(from, to);
  }
  const bundle = new Module(file);
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(path.dirname(file));
  bundle._compile(source, file);
  return bundle.exports;
}

class TaskError extends Error {
  constructor(name, cause) {
    super(cause);
    this.name = name;
  }
}

const send = (message) => process.stdout.write(JSON.stringify(message) + '\n');
const pending = new Map();
let nextId = 1;
let started = false;

function taskStates(states, found = []) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') found.push([name, state.Resource]);
    if (state.Type === 'Parallel') for (const branch of state.Branches) taskStates(branch.States, found);
    if (state.Type === 'Map') taskStates((state.ItemProcessor ?? state.Iterator).States, found);
  }
  return found;
}

async function run(start) {
  // The definition as deployed is validated; a redrive then starts it at the state that failed (as
  // RedriveExecution does), which the validator alone would call unreachable states.
  const deployed = new StateMachine(start.definition, { validationOptions: { checkArn: false } });
  const machine = start.startAt
    ? new StateMachine({ ...start.definition, StartAt: start.startAt }, { validationOptions: { noValidate: true } })
    : deployed;
  const taskResourceLocalHandlers = {};
  for (const [state, resource] of taskStates(start.definition.States)) {
    taskResourceLocalHandlers[state] = (input) => new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      send({ type: 'task', id, state, resource, input });
    });
  }
  const execution = machine.run(start.input, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides: start.retryIntervalOverrides ?? {} },
    context: start.context,
  });
  const forwardEvents = (async () => {
    for await (const event of execution.eventLogs) send({ type: 'event', event });
  })();
  try {
    const output = await execution.result;
    await forwardEvents;
    send({ type: 'end', status: 'SUCCEEDED', output });
  } catch (error) {
    await forwardEvents.catch(() => {});
    // ExecutionError wraps what ended the run: a Fail state's Error/Cause, or a States.* runtime error.
    const reason = error?.cause instanceof Error ? error.cause : error;
    send({ type: 'end', status: 'FAILED', error: reason?.name ?? 'Error', cause: reason?.message ?? String(reason) });
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const message = JSON.parse(line);
  if (message.type === 'start' && !started) {
    started = true;
    // No process.exit(): writes to a pipe are asynchronous, and exiting could cut the last message.
    // .NET closes stdin after the 'end' message, and node then exits on its own.
    run(message).catch((error) => {
      send({ type: 'end', status: 'FAILED', error: 'States.Runtime', cause: String(error?.stack ?? error) });
    });
    return;
  }
  const waiter = pending.get(message.id);
  if (!waiter) return;
  pending.delete(message.id);
  if (message.type === 'result') waiter.resolve(message.output);
  else waiter.reject(new TaskError(message.error, message.cause));
});
