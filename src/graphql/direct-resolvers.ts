import { type GraphQLFieldResolver, type GraphQLSchema, isInterfaceType, isObjectType } from 'graphql';
import { type ContainerType, getMetadataStorage } from 'type-graphql';

// type-graphql's storage, as far as this pass reads it (its typings keep these lists internal).
interface ParamMeta {
  kind: string;
  index: number;
  /** An `@Arg`'s name. */
  name?: string;
  propertyName?: string;
  getType?: () => unknown;
  validateSettings?: unknown;
  validateFn?: unknown;
}
interface FieldResolverMeta {
  kind: string;
  methodName: string;
  schemaName: string;
  target: object;
  roles?: unknown[];
  middlewares?: unknown[];
  params?: ParamMeta[];
  getObjectType?: () => object;
}
interface Storage {
  objectTypes: { name: string; target: object }[];
  inputTypes: { target: unknown }[];
  argumentTypes: { target: unknown }[];
  interfaceTypes: { name: string; target: object }[];
  fieldResolvers: FieldResolverMeta[];
  authorizedResolver: { target: object }[];
  resolverMiddlewares: { target: object }[];
}

type Param = (root: Record<string, unknown>, args: Record<string, unknown>, context: Record<string, unknown>, info: unknown) => unknown;

/** A class of data only: no methods or accessors, and no field set by its constructor; a plain object reads the same. */
function dataOnly(type: unknown): boolean {
  if (typeof type !== 'function') return false;
  const own = Object.getOwnPropertyNames(type.prototype).filter((k) => k !== 'constructor');
  if (own.length || Object.getPrototypeOf(type.prototype) !== Object.prototype) return false;
  return Object.values(new (type as new () => object)()).every((v) => v === undefined);
}

/**
 * How each parameter is read, when each is the row, the context, the info, an argument of a scalar or enum type,
 * or unvalidated arguments of a data-only class (which type-graphql would copy into an instance); undefined otherwise.
 */
function plainParams(params: ParamMeta[], storage: Storage): Param[] | undefined {
  const sorted = [...params].sort((a, b) => a.index - b.index);
  if (sorted.some((p, i) => p.index !== i)) return undefined;
  const isInputClass = (t: unknown) => [...storage.inputTypes, ...storage.argumentTypes].some((c) => c.target === t);
  const read: Param[] = [];
  for (const p of sorted) {
    const prop = p.propertyName;
    const name = p.name;
    if (p.kind === 'root' && !p.getType) read.push(prop ? (root) => root[prop] : (root) => root);
    else if (p.kind === 'context') read.push(prop ? (_r, _a, context) => context[prop] : (_r, _a, context) => context);
    else if (p.kind === 'info') read.push((_r, _a, _c, info) => info);
    else if (p.kind === 'arg' && name && !p.validateFn && !isInputClass(p.getType?.())) read.push((_r, args) => args[name]);
    else if (p.kind === 'args' && !p.validateFn && p.validateSettings === false && dataOnly(p.getType?.())) read.push((_r, args) => args);
    else return undefined;
  }
  return read;
}

/** The schema types a field resolver serves: its object type's, or those of every object type implementing its interface. */
function typesServed(schema: GraphQLSchema, storage: Storage, r: FieldResolverMeta): string[] {
  const target = r.getObjectType?.();
  const object = storage.objectTypes.find((t) => t.target === target);
  if (object) return [object.name];
  const iface = storage.interfaceTypes.find((t) => t.target === target);
  const type = iface && schema.getType(iface.name);
  return isInterfaceType(type) ? schema.getImplementations(type).objects.map((o) => o.name) : [];
}

/**
 * Calls the `@FieldResolver` methods that take only the row, the context, the info and plain arguments straight from the schema.
 * type-graphql's wrapper builds a resolver-data object, asks the container for the resolver instance, sorts and maps
 * the parameters and runs the middleware chain on every call: for `id` and `box` that was most of what each row of a
 * list cost (and with arguments, a promise per call). A resolver with validated or converted arguments, roles (on it or its class) or middleware keeps the wrapper, and so does a
 * field more than one resolver method could serve. Returns how many fields it changed.
 */
export function callFieldResolversDirectly(
  schema: GraphQLSchema,
  container: ContainerType,
  /** The schema's build options: a global middleware or validation function applies to every call, so then nothing changes. */
  built: { globalMiddlewares?: unknown[]; validateFn?: unknown } = {},
): number {
  if (built.globalMiddlewares?.length || built.validateFn) return 0;
  const storage = getMetadataStorage() as unknown as Storage;
  const guarded = new Set([...storage.authorizedResolver, ...storage.resolverMiddlewares].map((r) => r.target));
  const candidates = new Map<string, FieldResolverMeta[]>();
  for (const r of storage.fieldResolvers) {
    for (const type of typesServed(schema, storage, r)) {
      const key = `${type}.${r.schemaName}`;
      candidates.set(key, [...(candidates.get(key) ?? []), r]);
    }
  }
  let changed = 0;
  for (const [key, [r, ...others]] of candidates) {
    if (others.length || r.kind !== 'external' || r.roles || r.middlewares?.length || guarded.has(r.target)) continue;
    const params = plainParams(r.params ?? [], storage);
    const [typeName, fieldName] = key.split('.');
    const type = schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (!params || !field?.resolve) continue;
    const instance = container.get(r.target as new () => unknown, {} as never) as Record<string, (...a: unknown[]) => unknown>;
    const method = instance[r.methodName];
    if (typeof method !== 'function') continue;
    const resolve: GraphQLFieldResolver<Record<string, unknown>, Record<string, unknown>> = (root, args, context, info) =>
      method.apply(
        instance,
        params.map((p) => p(root, args, context, info)),
      );
    field.resolve = resolve as typeof field.resolve;
    changed++;
  }
  return changed;
}
