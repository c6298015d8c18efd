import 'reflect-metadata';
import { graphql, type GraphQLObjectType } from 'graphql';
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
});
