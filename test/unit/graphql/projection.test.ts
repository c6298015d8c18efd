import {
  execute,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLResolveInfo,
  GraphQLSchema,
  GraphQLString,
  parse,
} from 'graphql';
import { READS, readFields } from '../../../src/graphql/projection';

// A row type as vigil's schema makes them: plain fields without resolvers, a computed field that declares what it
// reads, and one that does not.
const Box = new GraphQLObjectType({ name: 'Box', fields: { x: { type: GraphQLFloat }, y: { type: GraphQLFloat } } });
const Row = new GraphQLObjectType({
  name: 'Row',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID), resolve: (r) => `Row:${r.id}`, extensions: { [READS]: ['id'] } },
    type: { type: GraphQLString },
    confidence: { type: GraphQLFloat },
    box: { type: Box, resolve: (r) => ({ x: r.boxX, y: r.boxY }), extensions: { [READS]: ['boxX', 'boxY'] } },
    mystery: { type: GraphQLString, resolve: () => 'computed from who knows what' },
  },
});
const PageInfo = new GraphQLObjectType({ name: 'PageInfo', fields: { hasNextPage: { type: GraphQLString } } });
const Edge = new GraphQLObjectType({ name: 'RowEdge', fields: { cursor: { type: GraphQLString }, node: { type: Row } } });
const RowConnection = new GraphQLObjectType({
  name: 'RowConnection',
  fields: {
    edges: { type: new GraphQLList(Edge) },
    nodes: { type: new GraphQLList(Row) },
    pageInfo: { type: PageInfo },
    totalCount: { type: GraphQLInt },
  },
});

/** What readFields says for the `rows` (a connection) or `row` field of `query`. */
function fieldsOf(query: string): readonly string[] | undefined | 'not called' {
  let seen: readonly string[] | undefined | 'not called' = 'not called';
  const capture = (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) => {
    seen = readFields(info);
    return null;
  };
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: { rows: { type: RowConnection, resolve: capture }, row: { type: Row, resolve: capture } },
    }),
  });
  const result = execute({ schema, document: parse(query) }) as { errors?: unknown[] };
  expect(result.errors).toBeUndefined();
  return seen;
}

describe('readFields: the row fields a query reads below a list or row field', () => {
  it('names the plain fields and what computed fields declare, under nodes and edges.node', () => {
    expect(fieldsOf('{ rows { nodes { id type box { x } } } }')).toEqual(['boxX', 'boxY', 'id', 'type']);
    expect(fieldsOf('{ rows { edges { cursor node { confidence } } pageInfo { hasNextPage } totalCount } }')).toEqual(['confidence']);
    expect(fieldsOf('{ rows { nodes { type } edges { node { confidence } } } }')).toEqual(['confidence', 'type']);
  });

  it('follows fragments and inline fragments, and ignores __typename', () => {
    expect(fieldsOf('{ rows { nodes { ...F ... on Row { type } __typename } } } fragment F on Row { confidence }')).toEqual([
      'confidence',
      'type',
    ]);
  });

  it('reads a single row field the same way', () => {
    expect(fieldsOf('{ row { id box { y } } }')).toEqual(['boxX', 'boxY', 'id']);
  });

  it('is undefined (read whole rows) when a field has a resolver that does not say what it reads', () => {
    expect(fieldsOf('{ rows { nodes { id mystery } } }')).toBeUndefined();
    expect(fieldsOf('{ row { mystery } }')).toBeUndefined();
  });

  it('a field that may be skipped is read anyway', () => {
    expect(fieldsOf('{ rows { nodes { type confidence @skip(if: true) } } }')).toEqual(['confidence', 'type']);
  });

  it('a connection asked only for its count reads no row field', () => {
    expect(fieldsOf('{ rows { totalCount } }')).toEqual([]);
  });
});
