import crypto from 'node:crypto';
import { type Server } from 'node:http';
import { type Duplex } from 'node:stream';
import {
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { DomainError } from '../common/errors';
import { type Context } from '../graphql/context';
import { isInternal } from '../graphql/format-error';
import { type LimitsConfig } from '../config/config';
import { type OperationGuard } from '../graphql/operation-guard';
import { subscribeShared } from '../graphql/event-scope';
import { type EventBus, type QueueBudget } from '../adapters/event-bus/event-bus.port';
import { type ConnectionParams, SendAheadSocket, type Socket, SocketRegistry, type SocketState } from './socket-registry';
import { bearerSecret, type ContextDeps, createContext, identify } from './context-factory';

const SUBSCRIPTIONS_PATH = '/graphql';
/** Sent to every client when the server stops; the client may reconnect to another instance. */
const SHUTTING_DOWN = { code: 1001, reason: 'server shutting down' };
// Clients that do not answer the close frame in time are cut off so shutdown cannot hang.
const CLOSE_GRACE_MS = 5_000;

export interface SubscriptionDeps extends ContextDeps {
  schema: GraphQLSchema;
  log: Logger;
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  maxPayloadBytes: number;
  /** Hides internal error messages in close reasons. */
  production: boolean;
  guard: OperationGuard;
  limits: LimitsConfig['subscriptions'];
  /** How often open sockets' keys are checked again (a revoked key's sockets are closed) and stalled sockets dropped. */
  sweepMs: number;
}

export interface SubscriptionServer {
  /** Closes every socket with 1001 and waits until they are gone. */
  close(): Promise<void>;
}

type Ws = Socket;

// Each subscription's key for sharing executions: subscribers with the same key get the same result per event.
const sharedKeys = new WeakMap<object, string>();

/** graphql-ws (protocol graphql-transport-ws) on the HTTP server's port and path. */
export function attachSubscriptions(server: Server, deps: SubscriptionDeps): SubscriptionServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes, WebSocket: SendAheadSocket });
  const sockets = new SocketRegistry(deps.limits, deps.services, deps.log);
  const graphqlWs = useServer<ConnectionParams, SocketState>(
    {
      schema: deps.schema,
      subscribe: (args) => subscribeShared(args, sharedKeys.get(args.contextValue as object) ?? crypto.randomUUID()),
      onConnect: (ctx) => authenticate(ctx, deps, sockets),
      onSubscribe: (ctx, id, payload) => sockets.refuseSubscription(ctx) ?? prepare(ctx, id, payload, deps),
      onNext: (_ctx, _id, _payload, args, result) => formatResult(result, (args.contextValue as Context).log, deps),
      onError: (ctx, _id, _payload, errors) => errors.map((e) => formatError(e, ctx.extra.log ?? deps.log, deps)),
      onClose: (ctx) => sockets.remove(ctx),
      onDisconnect: (ctx, code) => ctx.extra.log?.info({ code }, 'subscription socket closed'),
      isProd: deps.production,
    },
    wss,
  );
  const sweep = setInterval(() => void sockets.sweep(), deps.sweepMs);
  sweep.unref();

  let closing = false;
  server.on('upgrade', (request, socket, head) => {
    if (closing) return refuseUpgrade(socket, '503 Service Unavailable');
    if (request.url?.split('?')[0] !== SUBSCRIPTIONS_PATH) return refuseUpgrade(socket, '404 Not Found');
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  return {
    async close() {
      closing = true;
      clearInterval(sweep);
      for (const client of wss.clients) client.close(SHUTTING_DOWN.code, SHUTTING_DOWN.reason);
      const cutOff = setTimeout(() => wss.clients.forEach((client) => client.terminate()), CLOSE_GRACE_MS);
      await graphqlWs.dispose();
      clearTimeout(cutOff);
    },
  };
}

function refuseUpgrade(socket: Duplex, status: string) {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** `{ authorization: "Bearer <key>" }`, or `{ apiKey: "<key>" }` for clients that send the bare key. */
function secretOf(params: Readonly<ConnectionParams> | undefined): string | null {
  if (typeof params?.authorization === 'string') return bearerSecret(params.authorization);
  if (typeof params?.apiKey === 'string' && params.apiKey) return params.apiKey;
  return null;
}

/**
 * connection_init: a missing or refused key closes the socket with 4401 and the reason.
 * (Returning false alone would close with graphql-ws' generic 4403 "Forbidden"; the first close wins.)
 */
async function authenticate(ctx: Ws, deps: SubscriptionDeps, sockets: SocketRegistry): Promise<boolean> {
  const secret = secretOf(ctx.connectionParams);
  if (!secret) return refuse(ctx, CloseCode.Unauthorized, 'connection_init must carry { "authorization": "Bearer <API key>" }');
  const { caller, authError } = await identify(secret, deps.services);
  if (!caller) {
    if (authError instanceof DomainError) return refuse(ctx, CloseCode.Unauthorized, authError.message);
    deps.log.error({ err: authError }, 'could not check the API key of a subscription socket');
    return refuse(ctx, CloseCode.InternalServerError, 'internal error; the server log has the details');
  }
  const requestId = crypto.randomUUID();
  Object.assign(ctx.extra, {
    secret,
    requestId,
    apiKeyId: caller.apiKeyId,
    log: deps.log.child({ reqId: requestId, apiKey: caller.name }),
    events: budgeted(deps.events, sockets.budgetFor(ctx)),
  });
  const full = sockets.add(ctx);
  if (full) return refuse(ctx, full.code, full.reason);
  ctx.extra.log?.info('subscription socket opened');
  return true;
}

function refuse(ctx: Ws, code: number, reason: string): false {
  ctx.extra.socket.close(code, reason);
  return false;
}

/** Each operation is parsed, validated and given its own Context, the key checked again as for an HTTP request. */
async function prepare(
  ctx: Ws,
  id: string,
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  deps: SubscriptionDeps,
) {
  const document = parseOrError(payload.query, deps.guard);
  if (document instanceof GraphQLError) return [document];
  const invalid = validate(deps.schema, document, [...specifiedRules, ...deps.guard.validationRules]);
  if (invalid.length > 0) return invalid.map((e) => (e.extensions.code ? e : withCode(e, 'GRAPHQL_VALIDATION_FAILED')));
  const log = ctx.extra.log!.child({ subscriptionId: id });
  const identity = await identify(ctx.extra.secret!, deps.services);
  const refused = deps.guard.check(document, payload.operationName, payload.variables, identity);
  if (refused) return [refused];
  const contextValue = { ...createContext(deps, { requestId: ctx.extra.requestId!, log }, identity), events: ctx.extra.events! };
  // Authorization depends on the role alone, and the filters are in the variables.
  const role = identity.caller?.role ?? identity.authError?.message ?? null;
  sharedKeys.set(contextValue, JSON.stringify([role, payload.query, payload.operationName ?? null, payload.variables ?? null]));
  return { schema: deps.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
}

/** The event bus as one socket's subscriptions see it: what waits for them is charged to the socket's budget. */
function budgeted(events: EventBus, budget: QueueBudget): EventBus {
  return {
    publish: (topic, payload) => events.publish(topic, payload),
    subscribe: (topic) => events.subscribe(topic, budget),
    onGap: (listener) => events.onGap(listener),
    close: async () => undefined,
  };
}

function parseOrError(query: string, guard: OperationGuard): DocumentNode | GraphQLError {
  try {
    return parse(query, guard.parseOptions);
  } catch (err) {
    return withCode(err as GraphQLError, 'GRAPHQL_PARSE_FAILED');
  }
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

function formatResult(result: ExecutionResult, log: Logger, deps: SubscriptionDeps): FormattedExecutionResult | undefined {
  if (!result.errors) return undefined;
  return { data: result.data, errors: result.errors.map((e) => formatError(e, log, deps)), extensions: result.extensions };
}

/** The HTTP endpoint's error formatting; internal errors are logged in full. */
function formatError(error: GraphQLError, log: Logger, deps: SubscriptionDeps): GraphQLFormattedError {
  // graphql-js' own request errors (a variable of the wrong type) have neither a cause nor a code.
  const classified = error.originalError || error.extensions.code ? error : withCode(error, 'BAD_USER_INPUT');
  if (isInternal(classified))
    log.error({ err: classified.originalError ?? classified, path: classified.path }, 'internal error in a GraphQL subscription');
  return deps.formatError(classified.toJSON(), classified);
}
