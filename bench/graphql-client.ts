// The benches' one GraphQL-over-HTTP client: POST { query, variables } to <server>/graphql with a
// bearer API key, return `data`, throw a GraphQLRequestError naming every GraphQL error.

export type Variables = Record<string, unknown>;

export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** The server answered with GraphQL errors; the message lists them as `CODE: message; …`. */
export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: GraphQLErrorEntry[],
    readonly query: string,
    readonly variables: Variables,
  ) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
    this.name = 'GraphQLRequestError';
  }

  /** The first error's `extensions.code` (GATE_REFUSED, FORBIDDEN, …). */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export interface GraphQLClientOptions {
  /** How many times a read is sent when the request fails before any response; a mutation is sent once. */
  readAttempts?: number;
  /** Pause between those attempts. */
  retryDelayMs?: number;
}

const isMutation = (query: string) => /^\s*mutation\b/.test(query);
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export class GraphQLClient {
  readonly endpoint: string;

  /** `serverUrl` is the server's base URL (`http://127.0.0.1:4000`); requests go to `<serverUrl>/graphql`. */
  constructor(
    readonly serverUrl: string,
    readonly apiKey: string,
    private readonly options: GraphQLClientOptions = {},
  ) {
    this.endpoint = `${serverUrl.replace(/\/+$/, '')}/graphql`;
  }

  /** The headers of every request (also for load generators that send their own). */
  get headers(): Record<string, string> {
    return { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` };
  }

  /** The same server under another API key (a reviewer's, say). */
  withApiKey(apiKey: string): GraphQLClient {
    return new GraphQLClient(this.serverUrl, apiKey, this.options);
  }

  /** Runs one operation and returns its `data`; throws GraphQLRequestError when the response has errors. */
  async request<T = any>(query: string, variables: Variables = {}): Promise<T> {
    const res = await this.post(query, variables);
    const text = await res.text();
    let body: { data?: T | null; errors?: GraphQLErrorEntry[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`POST ${this.endpoint}: HTTP ${res.status}, not a GraphQL response: ${text.slice(0, 300)}`);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors, query, variables);
    if (body.data === undefined || body.data === null) throw new Error(`POST ${this.endpoint}: HTTP ${res.status}, no data and no errors`);
    return body.data;
  }

  private async post(query: string, variables: Variables): Promise<Response> {
    const init = { method: 'POST', headers: this.headers, body: JSON.stringify({ query, variables }) };
    // A kept-alive socket the server closed while something (a training, say) held its event loop
    // resets once in a while: a read is safe to send again, a mutation is not.
    const attempts = isMutation(query) ? 1 : (this.options.readAttempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(this.endpoint, init);
      } catch (err) {
        if (attempt >= attempts) throw err;
        await sleep(this.options.retryDelayMs ?? 500);
      }
    }
  }
}
