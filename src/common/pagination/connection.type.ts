import { type ClassType, Extensions, Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.type';

export interface Edge<T> {
  cursor: string;
  node: T;
}

/**
 * A field extension (`@Extensions({ [AWAITED_FIELD]: true })`) for a property whose value may be a promise, such
 * as a connection's lazily counted totalCount: it keeps its resolver, because graphql-jit reads a field without one
 * inline and would answer the promise itself ("Int cannot represent non-integer value: {}"), sending the whole
 * query to graphql-js a second time.
 */
export const AWAITED_FIELD = 'vigil.awaited';

/** The runtime shape behind every *Connection type; totalCount is counted only when asked for. */
export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: Promise<number> | number;
}

export function makeConnection<T>(edges: Edge<T>[], pageInfo: PageInfo, count: () => Promise<number>): Connection<T> {
  const connection = { edges, nodes: edges.map((e) => e.node), pageInfo } as Connection<T>;
  let counted: Promise<number> | undefined;
  Object.defineProperty(connection, 'totalCount', { get: () => (counted ??= count()), enumerable: true });
  return connection;
}

/** Builds the `<Node>Connection` and `<Node>Edge` object types for a node class. */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: 'Opaque cursor for `after`/`before`.' })
    cursor: string;

    @Field(() => node)
    node: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionTypeClass {
    @Field(() => [EdgeType])
    edges: EdgeType[];

    @Field(() => [node], { description: 'The nodes of `edges`, for clients that need no cursors.' })
    nodes: T[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Extensions({ [AWAITED_FIELD]: true })
    @Field(() => Int, { description: 'How many nodes match the filter, on all pages.' })
    totalCount: number;
  }
  return ConnectionTypeClass;
}
