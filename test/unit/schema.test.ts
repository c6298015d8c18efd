import fs from 'node:fs';
import path from 'node:path';
import { printVigilSchema } from '../../src/app/schema';

describe('graphql/schema.graphql', () => {
  it('is exactly what the code emits (run `npm run schema:emit` after changing the API)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '../../graphql/schema.graphql'), 'utf8');
    expect(committed).toBe(printVigilSchema());
  });

  it('follows the Relay conventions', () => {
    const schema = printVigilSchema();
    expect(schema).toContain('interface Node {\n');
    expect(schema).toMatch(/node\(id: ID!\): Node/);
    for (const type of ['Device', 'Inspection', 'Image', 'Anomaly', 'ApiKey']) {
      expect(schema).toContain(`type ${type}Connection {`);
      expect(schema).toMatch(new RegExp(`type ${type} implements Node`));
    }
  });
});
