import http from 'node:http';
import { type AddressInfo } from 'node:net';

/** What a service answers when it fails: status, headers and body, as AWS sends them. */
export interface FaultAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** S3's answer when asked to slow down, and its own 500 (REST-XML errors). */
export const S3_SLOW_DOWN: FaultAnswer = s3Error(503, 'SlowDown', 'Please reduce your request rate.');
export const S3_INTERNAL_ERROR: FaultAnswer = s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');

/** SageMaker Runtime's throttling and 503 (JSON errors named by x-amzn-ErrorType). */
export const SAGEMAKER_THROTTLED: FaultAnswer = jsonError(400, 'ThrottlingException', 'Rate exceeded');
export const SAGEMAKER_UNAVAILABLE: FaultAnswer = jsonError(503, 'ServiceUnavailable', 'Service is unavailable, try again later');

function s3Error(status: number, code: string, message: string): FaultAnswer {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>bench-faults</RequestId></Error>`,
  };
}

function jsonError(status: number, type: string, message: string): FaultAnswer {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': type }, body: JSON.stringify({ message }) };
}

/**
 * A loopback forwarder in front of one HTTP service. Normally it passes every request on; while a fault
 * is on, it answers every `every`-th request itself with the fault's error instead (every = 1: the
 * service is down). Counts what it forwarded and what it injected.
 */
export class FaultProxy {
  private fault: { answer: FaultAnswer; every: number; seen: number; left: number } | null = null;
  forwarded = 0;
  injected = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, new URL(target));
    server.on('request', (req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** From now on, every `every`-th request gets `answer`, `times` times at most (then the fault clears). */
  inject(answer: FaultAnswer, every = 1, times = Number.POSITIVE_INFINITY): void {
    this.fault = { answer, every, seen: 0, left: times };
  }

  clear(): void {
    this.fault = null;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fault = this.fault;
    if (fault && ++fault.seen % fault.every === 0) {
      this.injected++;
      if (--fault.left === 0) this.fault = null;
      req.resume();
      res.writeHead(fault.answer.status, fault.answer.headers).end(fault.answer.body);
      return;
    }
    this.forwarded++;
    // The Host header stays as the client signed it (SigV4 covers it).
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  }
}
