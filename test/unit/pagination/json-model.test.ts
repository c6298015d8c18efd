import { jsonModel, projectModel, toRow } from '../../../src/common/pagination/json-model';

const MODEL = jsonModel('things', { id: 'id', name: 'name', createdAt: 'createdAt', weight: 'weight' }, ['createdAt']);

describe('projectModel', () => {
  it('reads the fields asked and those always needed, in the model order, and maps rows back to them', () => {
    const p = projectModel(MODEL, ['weight', 'createdAt'], ['id']);
    expect(p.fields).toEqual(['id', 'createdAt', 'weight']);
    expect(p.select).toBe('json_build_array(t."id", t."created_at", t."weight")');
    expect(toRow(['a', '2026-01-02T03:04:05.678+00:00', 2.5], p)).toEqual({
      id: 'a',
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      weight: 2.5,
    });
  });

  it('reads whole rows without fields, and ignores names that are not the model’s', () => {
    expect(projectModel(MODEL, undefined, ['id'])).toBe(MODEL);
    expect(projectModel(MODEL, ['name', 'notAColumn'], ['id']).fields).toEqual(['id', 'name']);
  });

  it('keeps a bounded number of projections: a client choosing ever new field sets does not grow memory', () => {
    const many = jsonModel('wide', Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, `f${i}`])), []);
    const first = projectModel(many, ['f1'], []);
    expect(projectModel(many, ['f1'], [])).toBe(first);
    // 2^12 subsets: past the cap new ones are made each time and not kept.
    for (let mask = 1; mask < 4096; mask++)
      projectModel(many, Array.from({ length: 12 }, (_, i) => (mask & (1 << i) ? `f${i}` : '')).filter(Boolean), []);
    const late = ['f0', 'f3', 'f7', 'f11'];
    expect(projectModel(many, late, [])).not.toBe(projectModel(many, late, []));
    expect(projectModel(many, late, []).fields).toEqual(late);
    expect(projectModel(many, ['f1'], [])).toBe(first);
  });
});
