/**
 * A client of vigil's public HTTP API, for `vigil ingest`: it works the same against this
 * machine and a remote deployment, and never touches the database or the object store.
 */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** Worth trying again: the network or the server hiccuped, nothing was refused. */
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  url: string;
  apiKey: string;
  /** Attempts for a transient failure, the first included. */
  attempts?: number;
  /** Waits between attempts grow from this, doubling. */
  backoffMs?: number;
  fetch?: typeof fetch;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ApiClient {
  private readonly base: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.fetch = options.fetch ?? fetch;
  }

  /** Runs a GraphQL operation; GraphQL errors become an ApiError with the server's code and message. */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const body = JSON.stringify({ query, variables });
    return this.retrying(async () => {
      const res = await this.send(`${this.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
        body,
      });
      const text = await res.text();
      let json: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
      try {
        json = JSON.parse(text);
      } catch {
        throw new ApiError(
          `${this.base}/graphql answered ${res.status} with something other than JSON: ${text.slice(0, 200)}`,
          `HTTP_${res.status}`,
          res.status >= 500 || res.status === 429,
        );
      }
      if (json.errors?.length) {
        const [first] = json.errors;
        const code = first.extensions?.code ?? `HTTP_${res.status}`;
        throw new ApiError(first.message, code, code === 'INTERNAL_SERVER_ERROR' || res.status >= 502 || res.status === 429);
      }
      if (!res.ok || json.data === undefined)
        throw new ApiError(`${this.base}/graphql answered ${res.status}`, `HTTP_${res.status}`, res.status >= 500 || res.status === 429);
      return json.data as T;
    });
  }

  /** PUTs bytes to an upload link exactly as the ticket says. */
  async put(url: string, headers: Record<string, string>, body: Buffer): Promise<void> {
    await this.retrying(async () => {
      const res = await this.send(url, { method: 'PUT', headers, body });
      if (res.ok) return;
      const text = (await res.text()).slice(0, 300);
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // S3 answers in XML; keep it as it is.
      }
      throw new ApiError(`upload refused (${res.status}): ${message}`, `HTTP_${res.status}`, res.status >= 500 || res.status === 429);
    });
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(
        `cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        'NETWORK',
        true,
      );
    }
  }

  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof ApiError) || !err.transient || i >= this.attempts) throw err;
        await sleep(this.backoffMs * 2 ** (i - 1));
      }
    }
  }
}
