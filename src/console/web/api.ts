import { Client, type CombinedError, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';

// The console talks to its own origin only: POST /graphql for queries and mutations, ws(s)://<origin>/graphql for subscriptions.
export type Role = 'ADMIN' | 'OPERATOR' | 'REVIEWER' | 'INTEGRATOR';
export interface Viewer {
  name: string;
  role: Role;
}
export interface Session {
  key: string;
  viewer: Viewer;
  client: Client;
  close(): void;
}

export const KEY_STORAGE = 'vigil.console.key';

/** The message and code of a GraphQL error, for people. */
export function describeError(err: unknown): string {
  const combined = err as CombinedError | undefined;
  const gqlError = combined?.graphQLErrors?.[0];
  if (gqlError) return `${gqlError.message}${gqlError.extensions?.code ? ` [${gqlError.extensions.code}]` : ''}`;
  if (combined?.networkError) return `network error: ${combined.networkError.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Checks the key with `{ viewer }` over plain HTTP; throws a readable error when it will not do. */
export async function checkKey(key: string): Promise<Viewer> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ viewer { name role } }' }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    data?: { viewer?: Viewer };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = body.errors?.[0];
  if (error) throw new Error(`${error.message}${error.extensions?.code ? ` [${error.extensions.code}]` : ''}`);
  if (!body.data?.viewer) throw new Error(`the server answered ${res.status}`);
  return body.data.viewer;
}

export function openSession(key: string, viewer: Viewer): Session {
  const ws = createWsClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: { authorization: `Bearer ${key}` },
    lazy: true,
    retryAttempts: 5,
  });
  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${key}` } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });
  return { key, viewer, client, close: () => void ws.dispose() };
}

/** One query or mutation as a promise of its data; throws a readable error. */
export async function request<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  mutation = false,
): Promise<T> {
  const op = mutation ? client.mutation(query, variables) : client.query(query, variables, { requestPolicy: 'network-only' });
  const result = await op.toPromise();
  if (result.error) throw new Error(describeError(result.error));
  return result.data as T;
}

/** Follows a connection's pages (`first` at a time) until the end, handing each page to `onPage`. */
export async function allPages<T>(
  client: Client,
  query: string,
  field: string,
  variables: Record<string, unknown>,
  onPage: (nodes: T[]) => void,
): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const data: any = await request(client, query, { ...variables, after });
    const page = data[field];
    onPage(page.nodes as T[]);
    if (!page.pageInfo.hasNextPage) return;
    after = page.pageInfo.endCursor;
  }
}

/** Starts a same-origin download of a signed link (export or report). */
export function download(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}
