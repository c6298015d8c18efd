import 'reflect-metadata';
import { type GraphQLSchema, isObjectType } from 'graphql';
import { buildVigilSchema } from '../../../src/app/schema';
import { callFieldResolversDirectly } from '../../../src/graphql/direct-resolvers';

// vigil's schema without the pass (no container), then the pass with instances that record their calls.
describe('callFieldResolversDirectly on vigil schema', () => {
  let schema: GraphQLSchema;
  const calls: { method: string; args: unknown[] }[] = [];
  let before: Map<string, unknown>;
  beforeAll(() => {
    schema = buildVigilSchema();
    before = new Map(
      Object.values(schema.getTypeMap())
        .filter(isObjectType)
        .flatMap((t) => Object.values(t.getFields()).map((f) => [`${t.name}.${f.name}`, f.resolve] as const)),
    );
    const container = {
      get: (cls: new () => object) => {
        const instance = Object.create(cls.prototype) as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(cls.prototype)) {
          if (name === 'constructor') continue;
          instance[name] = (...args: unknown[]) => {
            calls.push({ method: `${cls.name}.${name}`, args });
            return `${cls.name}.${name}`;
          };
        }
        return instance;
      },
    };
    expect(callFieldResolversDirectly(schema, container as never)).toBeGreaterThan(20);
  });

  const field = (path: string) => {
    const [type, name] = path.split('.');
    const t = schema.getType(type);
    if (!isObjectType(t)) throw new Error(type);
    return t.getFields()[name];
  };
  const changed = (path: string) => field(path).resolve !== before.get(path);

  it('calls a resolver of the row alone with the row', () => {
    expect(changed('Anomaly.box')).toBe(true);
    const row = { boxX: 1 };
    expect(field('Anomaly.box').resolve!(row, {}, {}, {} as never)).toBe('AnomalyResolver.box');
    expect(calls.at(-1)).toEqual({ method: 'AnomalyResolver.box', args: [row] });
  });

  it('an interface field resolver serves every type implementing it, with the row and the info', () => {
    expect(changed('Device.id') && changed('Anomaly.id')).toBe(true);
    const info = { parentType: 'x' };
    field('Device.id').resolve!({ id: 'd' }, {}, {}, info as never);
    expect(calls.at(-1)).toEqual({ method: 'NodeResolver.id', args: [{ id: 'd' }, info] });
  });

  it('passes unvalidated page arguments and an enum list argument as GraphQL gives them, in parameter order', () => {
    expect(changed('Device.anomalies')).toBe(true);
    const args = { first: 2, status: ['SUSPECTED'] };
    const context = { loaders: {} };
    const info = {};
    field('Device.anomalies').resolve!({ id: 'd' }, args, context, info as never);
    expect(calls.at(-1)).toEqual({ method: 'DeviceResolver.anomalies', args: [{ id: 'd' }, args, context, info, ['SUSPECTED']] });
  });

  it('keeps the wrapper of a field with roles or a validated input-class argument', () => {
    expect(changed('ReviewTask.answers')).toBe(false); // @Authorized
    expect(changed('Dataset.entries')).toBe(false); // filter: DatasetEntryFilter, validated
  });

  it('a type with its own resolver for a field gets that one', () => {
    field('Defect.id').resolve!({ id: 'x' }, {}, {}, {} as never);
    expect(calls.at(-1)?.method).toBe('DefectResolver.id');
  });

  it('changes nothing when the schema has a global middleware or validation function, which every call must pass', () => {
    const other = buildVigilSchema();
    const get = () => ({});
    expect(callFieldResolversDirectly(other, { get } as never, { globalMiddlewares: [() => undefined] })).toBe(0);
    expect(callFieldResolversDirectly(other, { get } as never, { validateFn: () => undefined })).toBe(0);
  });

  it('leaves root fields alone', () => {
    expect(changed('Query.devices')).toBe(false);
  });
});
