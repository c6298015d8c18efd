import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/common/paths';
import { printVigilSchema } from '../src/app/schema';

// npm run schema:emit writes graphql/schema.graphql; npm run schema:check fails when it is stale.
const file = path.join(PROJECT_ROOT, 'graphql', 'schema.graphql');
const emitted = printVigilSchema();
if (process.argv.includes('--check')) {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (committed !== emitted) {
    console.error('graphql/schema.graphql differs from the schema the code emits; run `npm run schema:emit` and commit it.');
    process.exit(1);
  }
  console.log('graphql/schema.graphql is up to date.');
} else {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, emitted);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
