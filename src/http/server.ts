import crypto from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { type Logger } from 'pino';
import { type Config } from '../config/config';
import { unauthenticated } from '../common/errors';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Context } from '../graphql/context';
import { createErrorFormatter, isInternal } from '../graphql/format-error';
import { OperationGuard } from '../graphql/operation-guard';
import { jitGateway } from '../graphql/jit-executor';
import { ANONYMOUS, bearerSecret, createContext, type HttpServices, identify, type Identity } from './context-factory';
import { GRAPHIQL_PAGE, registerGraphiql, wantsGraphiql } from './graphiql';
import { Admission, admissionHooks, registerRateLimit } from './request-limits';
import { imageOrigins, registerReviewPage } from './review-page';
import { attachSubscriptions } from './subscriptions';
import { registerUploadRoutes } from './uploads.route';
import { registerReportRoutes } from './reports.route';
import { registerExportRoutes } from './exports.route';
import { registerConsolePage } from '../console/console-page';

export interface HttpDeps {
  config: Config;
  log: Logger;
  schema: GraphQLSchema;
  services: HttpServices;
  /** Live events; subscriptions on ws://…/graphql listen to it. */
  events: EventBus;
  /** Each returns normally when its dependency answers. */
  readiness: Record<string, () => Promise<void>>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
// Signed upload and download tokens travel in these paths; the log gets the path without them.
const TOKEN_PATH = /^\/(uploads|objects|exports|reports)\/[^/]+/;
const loggedPath = (url: string) => url.split('?')[0].replace(TOKEN_PATH, '/$1/…');

async function identifyRequest(request: FastifyRequest, services: HttpServices): Promise<Identity> {
  const header = request.headers.authorization;
  if (!header) return ANONYMOUS;
  const secret = bearerSecret(header);
  if (!secret) return { caller: null, authError: unauthenticated('the Authorization header must be "Bearer <API key>"') };
  return identify(secret, services);
}

function createFastify(config: Config, log: Logger): FastifyInstance {
  return Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One line per request from the onResponse hook below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    // Signed upload and download tokens travel in the path.
    routerOptions: { maxParamLength: 2048 },
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
  });
}

async function startApollo(
  app: FastifyInstance,
  schema: GraphQLSchema,
  formatError: ReturnType<typeof createErrorFormatter>,
  log: Logger,
  guard: OperationGuard,
  executor: Config['http']['executor'],
) {
  const apollo = new ApolloServer<Context>({
    // Queries run compiled by graphql-jit (src/graphql/jit-executor.ts); GRAPHQL_EXECUTOR=graphql-js runs everything on
    // graphql-js's interpreter, as before (bench:compare passes the environment on, to compare the two).
    // A query graphql-jit fails runs twice; at debug level the log says which error sent it on.
    ...(executor === 'graphql-js'
      ? { schema }
      : {
          gateway: jitGateway(schema, (errors) =>
            log.debug({ error: errors[0].message, path: errors[0].path }, 'query answered again by graphql-js'),
          ),
        }),
    introspection: true,
    parseOptions: guard.parseOptions,
    validationRules: guard.validationRules,
    // src/main.ts owns SIGTERM: Apollo's own handler would re-raise the signal before the database is closed.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError,
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; without the plugin Apollo does not wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      {
        // Internal errors reach the log in full, with the request id the client saw.
        async requestDidStart() {
          return {
            // The cost limit needs the variables and the caller: it runs once the operation is known, before it executes.
            async didResolveOperation({ document, operation, request, contextValue }) {
              // Over HTTP graphql-js would run a subscription's resolver once, with no event.
              if (operation?.operation === 'subscription') {
                throw new GraphQLError('subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP', {
                  extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
                });
              }
              const refused = guard.check(document, request.operationName, request.variables, contextValue);
              // Apollo answers 500 to an error thrown here unless the error names its status.
              if (refused) {
                const status = refused.extensions.code === 'UNAUTHENTICATED' ? 200 : 400;
                throw new GraphQLError(refused.message, { extensions: { ...refused.extensions, http: { status } } });
              }
            },
            // A request past its deadline fails every field still to load; one error says why.
            async willSendResponse({ response }) {
              if (response.body.kind !== 'single') return;
              const { errors } = response.body.singleResult;
              const timeout = errors?.find((e) => e.extensions?.code === 'QUERY_TIMEOUT');
              if (timeout) response.body.singleResult.errors = [{ message: timeout.message, extensions: timeout.extensions }];
            },
            async didEncounterErrors({ contextValue, errors, operationName }) {
              for (const err of errors.filter(isInternal)) {
                (contextValue.log ?? log).error(
                  { err: err.originalError ?? err, path: err.path, operationName },
                  'internal error in a GraphQL request',
                );
              }
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  return apollo;
}

/** Request ids, one log line per request, and `connection: close` while shutting down. */
function addRequestHooks(app: FastifyInstance): void {
  // While shutting down, responses close their connection so keep-alive clients cannot hold the process open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  // On the response's 'close', which comes for every response: onResponse waits for 'finish', which a client that
  // hangs up as soon as it has a streamed body's last byte can prevent (the file's end is read after it), and
  // such a download was never logged.
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => {
      const line = { method: request.method, url: loggedPath(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
      request.log.info(reply.raw.writableFinished ? line : { ...line, unfinished: true }, 'request');
    });
  });
}

function addHealthRoutes(app: FastifyInstance, readiness: HttpDeps['readiness']): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const [name, check] of Object.entries(readiness)) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (err) {
        ready = false;
        checks[name] = (err as Error).message;
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}

export async function createHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const { config, log, services } = deps;
  const contextDeps = { services, events: deps.events, pagination: config.pagination };
  const formatError = createErrorFormatter({ exposeStack: config.env === 'development' });
  const app = createFastify(config, log);
  const guard = new OperationGuard(deps.schema, config.limits.query, config.pagination);
  const apollo = await startApollo(app, deps.schema, formatError, log, guard, config.http.executor);
  addRequestHooks(app);
  addHealthRoutes(app, deps.readiness);
  if (config.http.graphiql) registerGraphiql(app);
  registerReviewPage(app, { imageOrigins: imageOrigins(config.objectStore) });
  registerConsolePage(app, log, { imageOrigins: imageOrigins(config.objectStore) });
  registerUploadRoutes(app, services);
  registerReportRoutes(app, services);
  registerExportRoutes(app, services);
  const timeoutMs = config.limits.query.timeoutMs;
  const graphql = fastifyApolloHandler(apollo, {
    context: async (request): Promise<Context> =>
      createContext(
        contextDeps,
        { requestId: request.id, log: request.log as Logger, timeoutMs },
        request.identity ?? (await identifyRequest(request, services)),
      ),
  });
  app.decorateRequest('identity', null);
  app.decorateRequest('admitted', false);
  const rateLimiter = await registerRateLimit(app, config.limits.rateLimit, config.redisUrl);
  app.addHook('onClose', () => rateLimiter.close());
  const admission = admissionHooks(new Admission(config.limits.admission));
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    config: rateLimiter.routeConfig,
    onRequest: [
      admission.onRequest,
      async (request) => {
        request.identity = await identifyRequest(request, services);
      },
    ],
    onResponse: admission.onResponse,
    onRequestAbort: admission.onRequestAbort,
    handler: (request, reply) => {
      if (config.http.graphiql && wantsGraphiql(request.method, request.headers.accept, request.query)) {
        return reply.type('text/html; charset=utf-8').send(GRAPHIQL_PAGE);
      }
      return graphql.call(app, request as never, reply as never);
    },
  });
  const subscriptions = attachSubscriptions(app.server, {
    ...contextDeps,
    schema: deps.schema,
    log,
    formatError,
    maxPayloadBytes: config.http.bodyLimitBytes,
    production: config.env !== 'development',
    guard,
    limits: config.limits.subscriptions,
    sweepMs: Math.max(1000, config.auth.apiKeyCacheMs),
  });
  // Sockets first: the HTTP server only finishes closing once no upgraded connection is left.
  app.addHook('preClose', () => subscriptions.close());
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}; the API is at /graphql` }),
  );
  return app;
}
