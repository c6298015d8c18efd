import http from 'node:http';
import { PassThrough } from 'node:stream';
import { ApiClient, ApiError } from '../../src/ingest/api-client';
import { ProgressReporter, renderSummary } from '../../src/ingest/report';
import { type FileResult } from '../../src/ingest/ingest';

describe('ApiClient', () => {
  let server: http.Server;
  let url: string;
  let answers: { status: number; body: string }[];
  let seen: { method?: string; auth?: string; body: string }[];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, auth: req.headers.authorization, body });
        const answer = answers.shift() ?? { status: 500, body: 'no answer left' };
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  beforeEach(() => {
    answers = [];
    seen = [];
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('retries what is transient (503, then 200) and sends the key and the query', async () => {
    answers = [
      { status: 503, body: 'busy' },
      { status: 200, body: '{"data":{"viewer":{"role":"OPERATOR"}}}' },
    ];
    const api = new ApiClient({ url: `${url}/`, apiKey: 'k1', backoffMs: 1 });
    await expect(api.graphql('{ viewer { role } }')).resolves.toEqual({ viewer: { role: 'OPERATOR' } });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual({ method: 'POST', auth: 'Bearer k1', body: JSON.stringify({ query: '{ viewer { role } }', variables: {} }) });
  });

  it('does not retry a refusal, and keeps the server code and message', async () => {
    answers = [{ status: 200, body: '{"errors":[{"message":"unknown or revoked API key","extensions":{"code":"UNAUTHENTICATED"}}]}' }];
    const api = new ApiClient({ url, apiKey: 'bad', backoffMs: 1 });
    const err = await api.graphql('{ viewer { role } }').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', message: 'unknown or revoked API key', transient: false });
    expect(seen).toHaveLength(1);
  });

  it('gives up after the last attempt and says what the server said', async () => {
    answers = [400, 503, 503].map((status) => ({ status, body: '{"message":"nope"}' })).slice(1);
    const api = new ApiClient({ url, apiKey: 'k', attempts: 2, backoffMs: 1 });
    await expect(api.put(`${url}/uploads/x`, { 'content-type': 'image/jpeg' }, Buffer.from('abc'))).rejects.toThrow(
      'upload refused (503): nope',
    );
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['PUT', 'abc'],
      ['PUT', 'abc'],
    ]);
  });
});

describe('ProgressReporter', () => {
  const file = (name: string, bytes: number) => ({ name, absolute: `/x/${name}`, bytes, modifiedAt: new Date() });
  const results: FileResult[] = [
    { file: file('a.jpg', 2 * 1024 * 1024), skipped: false, outcome: { kind: 'accepted', device: 'tower-1', distanceM: 3.2 } },
    { file: file('b.jpg', 1024 * 1024), skipped: false, outcome: { kind: 'rejected', reason: 'CORRUPT', message: 'truncated' } },
  ];

  it('draws a live bar on a terminal and prints problems above it', () => {
    const out = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    let text = '';
    out.on('data', (c) => (text += c));
    const reporter = new ProgressReporter(out as never);
    reporter.start({ target: 'survey S', files: 2, bytes: 3 * 1024 * 1024, ignored: 0 });
    reporter.file(results[0], { files: 1, bytes: 2 * 1024 * 1024 });
    reporter.file(results[1], { files: 2, bytes: 3 * 1024 * 1024 });
    reporter.stop();
    expect(text).toContain('ingesting 2 files (3.0 MB) into survey S');
    expect(text).toMatch(/█+ 100% \| 2\/2 files \| 3\.0\/3\.0 MB \| [\d.]+ files\/s \| ETA 0s/);
    expect(text).toContain('b.jpg: rejected CORRUPT: truncated');
    expect(text).not.toContain('a.jpg');
  });

  it('summarises outcomes in a table and lists each failed file', () => {
    const summary = renderSummary({ target: 'survey S', results, ignored: ['notes.txt'], seconds: 2 });
    expect(summary).toMatch(/│ accepted +│ +1 │ +2\.0 │/);
    expect(summary).toMatch(/│ rejected: CORRUPT +│ +1 │ +1\.0 │/);
    expect(summary).toMatch(/│ total +│ +2 │ +3\.0 │/);
    expect(summary).toContain('2 files in 2.0 s (1.0 files/s) into survey S');
    expect(summary).toContain('1 file(s) failed:\n  b.jpg: rejected CORRUPT: truncated');
    expect(summary).not.toContain('\u001b[');
  });
});
