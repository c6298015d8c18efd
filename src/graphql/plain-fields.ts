import { type GraphQLSchema, isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { AWAITED_FIELD } from '../common/pagination/connection.type';

// type-graphql's storage, as far as this pass reads it (its typings keep these lists internal).
interface Storage {
  objectTypes: { name: string; target: object }[];
  fields: { target: object; name: string; schemaName: string }[];
  fieldResolvers: { methodName: string }[];
  authorizedFields: { fieldName: string }[];
  authorizedResolver: { target: object }[];
  middlewares: { fieldName: string }[];
  resolverMiddlewares: { target: object }[];
}

/** `base` is `target` or a class it extends. */
const within = (target: object, base: object) => target === base || Object.prototype.isPrototypeOf.call(base, target);

/**
 * Lets a plain `@Field` (no `@FieldResolver`, no `@Authorized`, no middleware, no arguments, the
 * property's own name) be read by GraphQL's default resolver. type-graphql wraps every such field in a
 * resolver that builds a resolver-data object and returns `root[name]`: the same value, but one call per
 * field of every row, which also keeps graphql-jit from reading the property inline. Anything this pass
 * cannot prove plain (a name used by any field resolver, auth rule or middleware anywhere) keeps its resolver, and
 * so does a field marked AWAITED_FIELD.
 * Returns how many fields it changed.
 */
export function readPlainFieldsDirectly(schema: GraphQLSchema): number {
  const storage = getMetadataStorage() as unknown as Storage;
  const guarded = new Set([
    ...storage.fieldResolvers.map((r) => r.methodName),
    ...storage.authorizedFields.map((a) => a.fieldName),
    ...storage.middlewares.map((m) => m.fieldName),
  ]);
  const guardedClasses = [...storage.authorizedResolver, ...storage.resolverMiddlewares].map((r) => r.target);
  let changed = 0;
  for (const meta of storage.objectTypes) {
    const type = schema.getType(meta.name);
    if (!isObjectType(type) || guardedClasses.some((c) => within(meta.target, c))) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.resolve || field.args.length > 0 || guarded.has(field.name) || field.extensions[AWAITED_FIELD]) continue;
      const defs = storage.fields.filter((f) => f.schemaName === field.name && within(meta.target, f.target));
      if (defs.length !== 1 || defs[0].name !== field.name || guardedClasses.some((c) => within(defs[0].target, c))) continue;
      field.resolve = undefined;
      changed++;
    }
  }
  return changed;
}
