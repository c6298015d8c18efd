import { FixedBuffer, Repeater } from '@graphql-yoga/subscription';
import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import { type Context } from './context';

interface EventScope {
  loaders: Context['loaders'];
  rows: Map<string, Promise<unknown>>;
}

// Keyed by the event object itself, which the event bus hands unchanged to every subscriber of its topic.
const scopes = new WeakMap<object, EventScope>();

/**
 * What a subscription resolves for an event, shared by every subscriber of that event: the row the
 * event names is read once, and the fields below it read through one set of loaders. A thousand
 * subscribers cost the database what one does; each still gets only the fields its role may see.
 */
export function sharedRow<T>(context: Context, event: object, key: string, load: () => Promise<T>): Promise<T> {
  let scope = scopes.get(event);
  if (!scope) {
    scope = { loaders: context.loaders.fresh(), rows: new Map() };
    scopes.set(event, scope);
  }
  // Each event gets its scope's loaders: a row cached for one event is never served for the next.
  context.loaders = scope.loaders;
  let row = scope.rows.get(key);
  if (!row) {
    row = load();
    scope.rows.set(key, row);
  }
  return row as Promise<T>;
}

const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
// Events a subscription executes ahead of what its client has taken; the rest wait in the event bus's queue.
const READ_AHEAD = 16;

/**
 * graphql-js' subscribe, except that each event is executed once per `key` (the document, its variables
 * and the caller's role), that result is shared by every subscriber with the same key, and the next
 * events are executed while the current one is sent, so a slow read does not hold up the ones behind it.
 */
export async function subscribeShared(args: ExecutionArgs, key: string): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  const events = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in events)) return events;
  // Each execution gets its own copy of the context: sharedRow points its loaders at the event's, and events run side by side.
  const run = (event: unknown) =>
    Promise.resolve(execute({ ...args, rootValue: event, contextValue: { ...(args.contextValue as object) } }));
  const resultOf = (event: unknown) => sharedResult(event, key, () => run(event));
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const source = events[Symbol.asyncIterator]();
    void stop.then(() => source.return?.());
    // Repeater delivers pushed promises in the order they were pushed.
    for (let next = await source.next(); !next.done; next = await source.next()) await push(resultOf(next.value));
    stop();
  }, new FixedBuffer(READ_AHEAD));
}

function sharedResult(event: unknown, key: string, run: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
  if (typeof event !== 'object' || event === null) return run();
  let byKey = results.get(event);
  if (!byKey) {
    byKey = new Map();
    results.set(event, byKey);
  }
  let result = byKey.get(key);
  if (!result) {
    result = run();
    byKey.set(key, result);
  }
  return result;
}
