import { type GatewayExecutor, type GatewayInterface } from '@apollo/server-gateway-interface';
import { type DocumentNode, execute, type GraphQLError, type GraphQLSchema, printSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/**
 * Runs queries with graphql-jit instead of graphql-js's interpreter, behind Apollo's executor hook (the gateway
 * interface): Apollo still parses, validates, runs the plugins and formats errors; only execution changes.
 * Each document is compiled once per operation name and kept while Apollo keeps the parsed document.
 *
 * graphql-jit differs from graphql-js on failures (errors lose their extensions, variables are coerced with
 * other messages), so only an error-free query answer comes from it: a query that fails, and every mutation,
 * runs on graphql-js as before. Queries have no side effects, so running a failed one again is safe.
 */
export function jitGateway(
  schema: GraphQLSchema,
  /** Told of each query that graphql-jit answered with errors, before graphql-js runs it again. */
  onFallback: (errors: readonly GraphQLError[]) => void = () => {},
): GatewayInterface {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  const compile = (document: DocumentNode, operationName: string | null): CompiledQuery | null => {
    let byName = compiled.get(document);
    if (!byName) {
      byName = new Map();
      compiled.set(document, byName);
    }
    const key = operationName ?? '';
    let query = byName.get(key);
    if (query === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
      byName.set(key, query);
    }
    return query;
  };
  const interpret: GatewayExecutor = async (ctx) =>
    execute({
      schema,
      document: ctx.document,
      contextValue: ctx.context,
      variableValues: ctx.request.variables,
      operationName: ctx.request.operationName,
    });
  const executor: GatewayExecutor = async (ctx) => {
    if (ctx.operation.operation !== 'query') return interpret(ctx);
    const query = compile(ctx.document, ctx.request.operationName ?? null);
    if (!query) return interpret(ctx);
    const result = await query.query(undefined, ctx.context, ctx.request.variables ?? {});
    if (!result.errors?.length) return result;
    onFallback(result.errors);
    return interpret(ctx);
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}
