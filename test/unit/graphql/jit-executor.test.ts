import { buildSchema, GraphQLError, getOperationAST, parse } from 'graphql';
import { jitGateway } from '../../../src/graphql/jit-executor';

// Counts how often each resolver runs: once per query when graphql-jit answers, twice when a failure sends it on to graphql-js.
const calls = { greeting: 0, broken: 0, rename: 0 };
const schema = buildSchema('type Query { greeting(name: String!): String! broken: String } type Mutation { rename(to: String!): String! }');
const root = {
  greeting: ({ name }: { name: string }) => {
    calls.greeting++;
    return `hello ${name}`;
  },
  broken: () => {
    calls.broken++;
    throw new GraphQLError('not for you', { extensions: { code: 'FORBIDDEN' } });
  },
  rename: ({ to }: { to: string }) => {
    calls.rename++;
    return to;
  },
};
// buildSchema has no resolvers: the root fields read from the root value, which both executors receive as undefined, so attach them.
for (const type of [schema.getQueryType()!, schema.getMutationType()!])
  for (const field of Object.values(type.getFields()))
    field.resolve = (_source, args) => root[field.name as keyof typeof root](args as never);

async function run(query: string, variables: Record<string, unknown> = {}) {
  const { executor } = await jitGateway(schema).load({ apollo: {} as never });
  const document = parse(query);
  return executor!({ document, request: { query, variables }, operation: getOperationAST(document)!, context: {} } as never);
}

describe('the graphql-jit executor behind Apollo', () => {
  beforeEach(() => Object.keys(calls).forEach((k) => (calls[k as keyof typeof calls] = 0)));

  it('answers a query compiled, running each resolver once', async () => {
    expect(await run('query ($n: String!) { greeting(name: $n) }', { n: 'vigil' })).toEqual({ data: { greeting: 'hello vigil' } });
    expect(calls.greeting).toBe(1);
  });

  it("answers a failing query on graphql-js, so its errors keep their extensions (the interpreter's answer)", async () => {
    const result = await run('{ greeting(name: "x") broken }');
    expect(result.errors?.[0].message).toBe('not for you');
    expect(result.errors?.[0].extensions).toEqual({ code: 'FORBIDDEN' });
    expect(result.data).toEqual({ greeting: 'hello x', broken: null });
    expect([calls.greeting, calls.broken]).toEqual([2, 2]);
  });

  it('runs a mutation once, on graphql-js only', async () => {
    expect(await run('mutation { rename(to: "y") }')).toEqual({ data: { rename: 'y' } });
    expect(calls.rename).toBe(1);
  });
});
