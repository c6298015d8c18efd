import fs from 'node:fs';
import path from 'node:path';
import { get_dmmf } from '@prisma/prisma-schema-wasm';

// Raw nested queries (src/common/pagination/nested.ts) turn columns into fields by this rule.
describe('prisma/schema.prisma naming', () => {
  it('maps every field to the snake_case column of its name', () => {
    const schema = fs.readFileSync(path.join(__dirname, '../../prisma/schema.prisma'), 'utf8');
    const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: schema })));
    const offenders: string[] = [];
    for (const model of dmmf.datamodel.models) {
      for (const f of model.fields) {
        if (f.kind === 'object') continue;
        const column = f.dbName ?? f.name;
        if (column !== f.name.replace(/[A-Z]/g, (c: string) => `_${c.toLowerCase()}`))
          offenders.push(`${model.name}.${f.name} → ${column}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
