import 'reflect-metadata';
import { getOperationAST, graphql, type GraphQLObjectType, parse } from 'graphql';
import {
  Authorized,
  buildSchemaSync,
  Field,
  FieldResolver,
  type MiddlewareFn,
  ObjectType,
  Query,
  Resolver,
  Root,
  UseMiddleware,
} from 'type-graphql';
import { buildVigilSchema } from '../../../src/app/schema';
import { readPlainFieldsDirectly } from '../../../src/graphql/plain-fields';
import { jitGateway } from '../../../src/graphql/jit-executor';
import { ConnectionType, makeConnection } from '../../../src/common/pagination/connection.type';

const shout: MiddlewareFn = async (_data, next) => String(await next()).toUpperCase();

@ObjectType()
class Thing {
  @Field()
  name: string;

  @Authorized('ADMIN')
  @Field()
  secret: string;

  @Field({ name: 'label' })
  title: string;

  @UseMiddleware(shout)
  @Field()
  loud: string;
}

@Resolver(() => Thing)
class ThingResolver {
  @Authorized()
  @Query(() => Thing)
  thing(): Thing {
    return { name: 'a', secret: 's', title: 't', loud: 'l' };
  }

  @FieldResolver(() => String)
  twice(@Root() thing: Thing): string {
    return thing.name + thing.name;
  }
}

@ObjectType()
class Part {
  @Field()
  name: string;
}

@ObjectType()
class PartConnection extends ConnectionType(Part, 'Part') {}

let counts = 0;

@Resolver()
class PartResolver {
  @Authorized()
  @Query(() => PartConnection)
  parts() {
    const edges = ['bolt', 'nut'].map((name) => ({ cursor: name, node: { name } }));
    return makeConnection(edges, { hasNextPage: true, hasPreviousPage: false, startCursor: 'bolt', endCursor: 'nut' }, async () => {
      counts++;
      return 17;
    });
  }
}

function thingSchema() {
  const schema = buildSchemaSync({
    resolvers: [ThingResolver],
    authChecker: ({ context }, roles) => roles.length === 0 || (context as { admin: boolean }).admin,
  });
  const changed = readPlainFieldsDirectly(schema);
  return { schema, changed, fields: (schema.getType('Thing') as GraphQLObjectType).getFields() };
}

describe('readPlainFieldsDirectly', () => {
  it('leaves a plain field to the default resolver and keeps every other resolver', () => {
    const { changed, fields } = thingSchema();
    expect(fields.name.resolve).toBeUndefined();
    for (const kept of ['secret', 'label', 'loud', 'twice']) expect(fields[kept].resolve).toBeDefined();
    expect(changed).toBe(1);
  });

  it('answers as before: auth rules, renamed fields, middlewares and field resolvers still apply', async () => {
    const { schema } = thingSchema();
    const asUser = await graphql({ schema, source: '{ thing { name label loud twice secret } }', contextValue: { admin: false } });
    expect(asUser.errors?.map((e) => e.path)).toEqual([['thing', 'secret']]);
    expect(asUser.data).toEqual(null);
    const asAdmin = await graphql({ schema, source: '{ thing { name label loud twice secret } }', contextValue: { admin: true } });
    expect(asAdmin).toEqual({ data: { thing: { name: 'a', label: 't', loud: 'L', twice: 'aa', secret: 's' } } });
  });

  it("is applied to vigil's schema: plain columns are read directly, the global id keeps its resolver", () => {
    const anomaly = (buildVigilSchema().getType('Anomaly') as GraphQLObjectType).getFields();
    expect(anomaly.type.resolve).toBeUndefined();
    expect(anomaly.confidence.resolve).toBeUndefined();
    expect(anomaly.id.resolve).toBeDefined();
    expect(anomaly.box.resolve).toBeDefined();
  });

  it("keeps the resolver of a connection's totalCount, so graphql-jit awaits the count instead of answering it with a promise", async () => {
    const schema = buildSchemaSync({ resolvers: [PartResolver], authChecker: () => true });
    readPlainFieldsDirectly(schema);
    const fields = (schema.getType('PartConnection') as GraphQLObjectType).getFields();
    expect(fields.totalCount.resolve).toBeDefined();
    expect(fields.nodes.resolve).toBeUndefined();

    const fallbacks: string[] = [];
    const { executor } = await jitGateway(schema, (errors) => fallbacks.push(errors[0].message)).load({ apollo: {} as never });
    const query = '{ parts { totalCount nodes { name } } }';
    const document = parse(query);
    counts = 0;
    const result = await executor!({ document, request: { query }, operation: getOperationAST(document)!, context: {} } as never);
    expect(result).toEqual({ data: { parts: { totalCount: 17, nodes: [{ name: 'bolt' }, { name: 'nut' }] } } });
    expect(fallbacks).toEqual([]);
    expect(counts).toBe(1);
  });

  it("keeps the resolver of every totalCount in vigil's schema", () => {
    const schema = buildVigilSchema();
    const connections = Object.values(schema.getTypeMap()).filter((t) => t.name.endsWith('Connection')) as GraphQLObjectType[];
    expect(connections.length).toBeGreaterThan(5);
    for (const type of connections) expect([type.name, typeof type.getFields().totalCount?.resolve]).toEqual([type.name, 'function']);
  });
});
