import { fromGlobalId, parseGlobalId, toGlobalId } from '../../src/common/global-id';

const ID = '019aaaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa';

describe('global ids', () => {
  it('are opaque and round-trip', () => {
    const g = toGlobalId('Device', ID);
    expect(g).not.toContain(ID);
    expect(parseGlobalId(g)).toEqual({ type: 'Device', id: ID });
    expect(fromGlobalId('Device', g, 'id')).toBe(ID);
  });

  it.each(['', '!!', toGlobalId('Device', 'not-a-uuid'), Buffer.from(`Pipe:${ID}`).toString('base64url'), 'x'.repeat(200)])(
    'reject %s',
    (g) => {
      expect(parseGlobalId(g)).toBeNull();
      expect(() => fromGlobalId('Device', g, 'deviceId')).toThrow(/^deviceId: .* is not a Device id$/);
    },
  );

  it('reject an id of another type where a Device id is expected', () => {
    expect(() => fromGlobalId('Device', toGlobalId('Anomaly', ID), 'id')).toThrow('is not a Device id');
  });
});
