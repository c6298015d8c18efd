import crypto from 'node:crypto';
import pino from 'pino';
import { Role } from '../../src/auth/roles';
import { toGlobalId } from '../../src/common/global-id';
import { QUERIES } from '../../bench/compare/queries';
import { startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';
import { describeOnPostgres } from '../support/database';

// Queries run compiled by graphql-jit; GRAPHQL_EXECUTOR=graphql-js runs them on graphql-js's interpreter. Two apps on
// one database, one per executor, must answer every read alike: the data, and the errors with their codes.

describeOnPostgres(
  'graphql-jit answers as graphql-js',
  'two instances need one shared database, which needs PostgreSQL (DATABASE_URL)',
  () => {
    let jit: TestApp;
    let js: TestApp;
    let deviceId: string;
    // The jit app logs at debug, where each query graphql-jit failed and graphql-js answered again is told.
    const lines: string[] = [];
    const answeredAgain = () => lines.filter((l) => l.includes('answered again by graphql-js'));
    beforeAll(async () => {
      jit = await startTestApp({}, { log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }) });
      js = await startTestApp({ GRAPHQL_EXECUTOR: 'graphql-js' }, {}, jit.db);
      const [device] = await seedFleet(jit.app.db.prisma, {
        devices: 3,
        inspectionsPerDevice: 2,
        anomaliesPerInspection: 2,
        prefix: `jit-${crypto.randomUUID().slice(0, 8)}`,
      });
      deviceId = device.id;
    });
    afterAll(async () => {
      await js?.stop();
      await jit?.stop();
    });

    it.each(QUERIES.map((q) => [q.name, q] as const))('answers %s alike, for an ADMIN and an INTEGRATOR', async (_name, q) => {
      const variables = q.needsDeviceId ? { id: toGlobalId('Device', deviceId) } : undefined;
      for (const role of [Role.ADMIN, Role.INTEGRATOR]) {
        const [a, b] = [
          await jit.gql(q.text.vigil, variables, await jit.keyFor(role)),
          await js.gql(q.text.vigil, variables, await js.keyFor(role)),
        ];
        expect(a.errors).toBeUndefined();
        expect(JSON.stringify(a.data).length).toBeGreaterThan(50);
        expect(a).toEqual(b);
      }
      expect(answeredAgain()).toEqual([]);
    });

    it('answers a totalCount compiled, without running the query a second time', async () => {
      lines.length = 0;
      const query = '{ devices(first: 2, filter: { status: [OK, UNKNOWN, NEEDS_ATTENTION] }) { totalCount nodes { id } } }';
      const [a, b] = [await jit.gql(query), await js.gql(query)];
      expect(a.data?.devices.totalCount).toBeGreaterThanOrEqual(3);
      expect(a).toEqual(b);
      expect(lines.some((l) => l.includes('"url":"/graphql"') || l.includes('request'))).toBe(true);
      expect(answeredAgain()).toEqual([]);
    });

    it.each([
      ['a field the role may not read', '{ apiKeys(first: 5) { nodes { id } } }', {}, Role.INTEGRATOR],
      ['a device id that is not one', 'query ($id: ID!) { device(id: $id) { id } }', { id: 'bm9wZQ' }, Role.ADMIN],
      ['a variable of the wrong type', 'query ($n: Int) { devices(first: $n) { totalCount } }', { n: 'many' }, Role.ADMIN],
    ])('fails on %s with the same errors and codes', async (_name, query, variables, role) => {
      const [a, b] = [await jit.gql(query, variables, await jit.keyFor(role)), await js.gql(query, variables, await js.keyFor(role))];
      expect(a.errors?.length).toBeGreaterThan(0);
      expect(a.errors?.[0].extensions?.code).toBeDefined();
      expect(a).toEqual(b);
    });
  },
);
