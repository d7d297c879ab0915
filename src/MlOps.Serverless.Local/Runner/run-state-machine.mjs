// Runs one execution of an ASL definition on aws-local-stepfunctions and hands every Task state
// back to .NET over stdio (JSON lines), the way Step Functions hands it to a service integration.
//   .NET -> node : {"type":"start", definition, input, context, retryIntervalOverrides, startAt?}
//   node -> .NET : {"type":"task", id, state, resource, input}      (.NET answers on stdin)
//   .NET -> node : {"type":"result", id, output} | {"type":"error", id, error, cause}
//   node -> .NET : {"type":"event", event} for each execution event, then {"type":"end", ...}
//   node -> .NET : {"type":"cancel", id, reason}   the state gave up on task id (timeout, execution ended):
//                                                   stop its work, as Step Functions stops a .sync job
//   .NET -> node : {"type":"stop"}                  stop the execution (StopExecution): status ABORTED
//
// Task timeouts are applied here, not by the interpreter: aws-local-stepfunctions 3.0 resolves TimeoutSecondsPath
// against the effective input (after Parameters), where Step Functions resolves it against the state input, and
// it fails a timed-out state with the bare cause "States.Timeout". The bridge reads TimeoutSeconds, or resolves
// TimeoutSecondsPath on the state input (from the state's StateEntered event), or applies the specification's
// 60 s, fails the state with a cause naming the state, the time it ran and the limit, and asks .NET to stop the
// work. The interpreter's own timer is moved past the execution's 24 hours.
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
const { StateMachine, ExecutionAbortedError } = loadInterpreter(require);

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
let execution = null;

// The ASL specification's default when a Task state sets no limit (Step Functions itself sets none).
const SPECIFICATION_DEFAULT_SECONDS = 60;
// Out of the interpreter's way: past the execution's 24 hours, below setTimeout's 24.8-day ceiling.
const INTERPRETER_TIMEOUT_SECONDS = 20 * 86400;
// Each Task state's latest state input (from StateEntered), to resolve TimeoutSecondsPath as Step Functions does.
const stateInputs = new Map();

function taskStates(states, found = []) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') found.push([name, state]);
    if (state.Type === 'Parallel') for (const branch of state.Branches) taskStates(branch.States, found);
    if (state.Type === 'Map') taskStates((state.ItemProcessor ?? state.Iterator).States, found);
  }
  return found;
}

// A reference path such as $.run.timeouts.tuning (dotted names only, as the definition uses).
function resolvePath(path, input) {
  if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(path)) throw new TaskError('States.Runtime', `TimeoutSecondsPath '${path}' is not a dotted reference path`);
  let value = input;
  for (const name of path.split('.').slice(1)) value = value !== null && typeof value === 'object' ? value[name] : undefined;
  return value;
}

// The limit of one Task state: { seconds, text } where text names the field it came from.
function limitOf(stateName, state, stateInput) {
  if (state.TimeoutSeconds !== undefined) return { seconds: state.TimeoutSeconds, text: `TimeoutSeconds ${state.TimeoutSeconds} s` };
  if (state.TimeoutSecondsPath !== undefined) {
    const seconds = resolvePath(state.TimeoutSecondsPath, stateInput);
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new TaskError('States.Runtime', `State ${stateName}: TimeoutSecondsPath ${state.TimeoutSecondsPath} must select a positive integer in the state input, got ${JSON.stringify(seconds) ?? 'nothing'}`);
    return { seconds, text: `TimeoutSecondsPath ${state.TimeoutSecondsPath} = ${seconds} s` };
  }
  return { seconds: SPECIFICATION_DEFAULT_SECONDS, text: `no TimeoutSeconds, the ASL specification's default of ${SPECIFICATION_DEFAULT_SECONDS} s` };
}

// StateEntered is forwarded through promise callbacks; a macrotask later it has been recorded.
const afterEvents = () => new Promise((resolve) => setImmediate(resolve));

function cancel(id, reason) {
  const waiter = pending.get(id);
  if (!waiter) return null;
  pending.delete(id);
  clearTimeout(waiter.timer);
  send({ type: 'cancel', id, reason });
  return waiter;
}

async function run(start) {
  const limits = new Map();
  const definition = structuredClone(start.definition);
  for (const [name, state] of taskStates(definition.States)) {
    limits.set(name, { TimeoutSeconds: state.TimeoutSeconds, TimeoutSecondsPath: state.TimeoutSecondsPath });
    delete state.TimeoutSecondsPath;
    state.TimeoutSeconds = INTERPRETER_TIMEOUT_SECONDS;
  }
  // The definition as deployed is validated; a redrive then starts it at the state that failed (as
  // RedriveExecution does), which the validator alone would call unreachable states.
  const deployed = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const machine = start.startAt
    ? new StateMachine({ ...definition, StartAt: start.startAt }, { validationOptions: { noValidate: true } })
    : deployed;
  const taskResourceLocalHandlers = {};
  for (const [state, { Resource: resource }] of taskStates(definition.States)) {
    taskResourceLocalHandlers[state] = (input) => new Promise((resolve, reject) => {
      const id = nextId++;
      const startedAt = Date.now();
      (async () => {
        await afterEvents();
        const limit = limitOf(state, limits.get(state), stateInputs.get(state));
        const timer = setTimeout(() => {
          if (!cancel(id, 'timeout')) return;
          const ran = ((Date.now() - startedAt) / 1000).toFixed(1);
          reject(new TaskError('States.Timeout', `State ${state} timed out after ${ran} s (its limit: ${limit.text})`));
        }, Math.max(0, limit.seconds * 1000 - (Date.now() - startedAt)));
        pending.set(id, { state, resolve, reject, timer });
        send({ type: 'task', id, state, resource, input });
      })().catch(reject);
    });
  }
  execution = machine.run(start.input, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides: start.retryIntervalOverrides ?? {} },
    context: start.context,
  });
  const forwardEvents = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered' && event.state) stateInputs.set(event.state.name, event.state.input);
      send({ type: 'event', event });
    }
  })();
  let end;
  try {
    const output = await execution.result;
    await forwardEvents;
    end = { type: 'end', status: 'SUCCEEDED', output };
  } catch (error) {
    await forwardEvents.catch(() => {});
    if (error instanceof ExecutionAbortedError) end = { type: 'end', status: 'ABORTED', error: 'States.Aborted', cause: 'The execution was stopped' };
    else {
      // ExecutionError wraps what ended the run: a Fail state's Error/Cause, or a States.* runtime error.
      const reason = error?.cause instanceof Error ? error.cause : error;
      end = { type: 'end', status: 'FAILED', error: reason?.name ?? 'Error', cause: reason?.message ?? String(reason) };
    }
  }
  // Work nobody waits for any more (a branch of a failed Parallel state, an aborted execution) is stopped.
  for (const id of [...pending.keys()]) cancel(id, 'execution ended');
  send(end);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
// .NET closes stdin once it has read 'end'. Abandoned tasks leave the interpreter's timers behind, which would keep
// node alive; everything has been delivered by then, so exit.
lines.on('close', () => process.exit(0));
lines.on('line', (line) => {
  if (!line.trim()) return;
  const message = JSON.parse(line);
  if (message.type === 'start' && !started) {
    started = true;
    // No process.exit() here: writes to a pipe are asynchronous, and exiting could cut the last message.
    run(message).catch((error) => {
      send({ type: 'end', status: 'FAILED', error: 'States.Runtime', cause: String(error?.stack ?? error) });
    });
    return;
  }
  if (message.type === 'stop') {
    execution?.abort();
    return;
  }
  const waiter = pending.get(message.id);
  if (!waiter) return;
  pending.delete(message.id);
  clearTimeout(waiter.timer);
  if (message.type === 'result') waiter.resolve(message.output);
  else waiter.reject(new TaskError(message.error, message.cause));
});
