import { preparedStatementNames } from '../../../src/db/prepared-statements';

describe('preparedStatementNames', () => {
  it('names a text the second time it is seen, always with the same name', () => {
    const name = preparedStatementNames(10);
    expect(name({ sql: 'SELECT 1' })).toBeUndefined();
    const second = name({ sql: 'SELECT 1' });
    expect(second).toMatch(/^vigil_[0-9a-f]{24}$/);
    expect(name({ sql: 'SELECT 1' })).toBe(second);
  });

  it('gives different texts different names', () => {
    const name = preparedStatementNames(10);
    for (const sql of ['SELECT 1', 'SELECT 2', 'SELECT 1', 'SELECT 2']) name({ sql });
    expect(name({ sql: 'SELECT 1' })).not.toBe(name({ sql: 'SELECT 2' }));
  });

  it('names at most `limit` texts; the rest run unnamed, and the named keep their names', () => {
    const name = preparedStatementNames(2);
    const texts = ['SELECT 1', 'SELECT 2', 'SELECT 3'];
    for (const sql of [...texts, ...texts]) name({ sql });
    expect(texts.map((sql) => name({ sql }) !== undefined)).toEqual([true, true, false]);
  });

  it('does not name a statement with more than 16 parameters (a list of ids, whose text changes with its length)', () => {
    const name = preparedStatementNames(10);
    const args = Array.from({ length: 17 }, (_, i) => i);
    for (let i = 0; i < 3; i++) expect(name({ sql: 'SELECT * FROM t WHERE id IN (…)', args })).toBeUndefined();
    name({ sql: 'SELECT 1', args: [1] });
    expect(name({ sql: 'SELECT 1', args: [1] })).toBeDefined();
  });

  it('names nothing with a limit of 0', () => {
    const name = preparedStatementNames(0);
    for (let i = 0; i < 3; i++) expect(name({ sql: 'SELECT 1' })).toBeUndefined();
  });

  it('texts seen once do not pile up: after many one-off texts a repeated one is still named on its second sighting', () => {
    const name = preparedStatementNames(5);
    for (let i = 0; i < 5000; i++) name({ sql: `SELECT ${i}` });
    name({ sql: 'SELECT hot' });
    expect(name({ sql: 'SELECT hot' })).toBeDefined();
  });

  it('with `evict`, a text seen twice when the slots are full takes the slot of the one used longest ago', () => {
    const evicted: string[] = [];
    const name = preparedStatementNames(2, (sql) => evicted.push(sql));
    for (const sql of ['SELECT 1', 'SELECT 1', 'SELECT 2', 'SELECT 2']) name({ sql });
    const first = name({ sql: 'SELECT 1' }); // used again: SELECT 2 is now the one used longest ago
    expect(name({ sql: 'SELECT 3' })).toBeUndefined();
    expect(evicted).toEqual([]);
    expect(name({ sql: 'SELECT 3' })).toMatch(/^vigil_/);
    expect(evicted).toEqual(['SELECT 2']);
    expect(['SELECT 1', 'SELECT 2', 'SELECT 3'].map((sql) => name.isNamed(sql))).toEqual([true, false, true]);
    expect(name({ sql: 'SELECT 1' })).toBe(first);
    // Without `evict` the first texts keep their slots (PostgreSQL's pooled connections cannot close them).
    const fixed = preparedStatementNames(2);
    for (const sql of ['SELECT 1', 'SELECT 1', 'SELECT 2', 'SELECT 2', 'SELECT 3', 'SELECT 3']) fixed({ sql });
    expect(['SELECT 1', 'SELECT 2', 'SELECT 3'].map((sql) => fixed.isNamed(sql))).toEqual([true, true, false]);
  });
});
