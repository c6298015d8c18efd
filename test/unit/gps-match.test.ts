import { decideMatch } from '../../src/surveys/survey.service';

const OPTS = { radiusM: 50, ambiguityM: 5 };

describe('decideMatch', () => {
  it.each([
    ['no candidate', [], { match: 'OUT_OF_RANGE' }],
    ['only candidates beyond the radius', [{ id: 'a', distanceM: 50.01 }], { match: 'OUT_OF_RANGE' }],
    ['one candidate on the radius', [{ id: 'a', distanceM: 50 }], { match: 'MATCHED', deviceId: 'a', distanceM: 50 }],
    [
      'a clear nearest',
      [
        { id: 'a', distanceM: 10 },
        { id: 'b', distanceM: 15 },
      ],
      { match: 'MATCHED', deviceId: 'a', distanceM: 10 },
    ],
    [
      'a runner-up less than 5 m farther',
      [
        { id: 'a', distanceM: 10 },
        { id: 'b', distanceM: 14.99 },
      ],
      { match: 'AMBIGUOUS' },
    ],
    [
      'a tie',
      [
        { id: 'a', distanceM: 20 },
        { id: 'b', distanceM: 20 },
      ],
      { match: 'AMBIGUOUS' },
    ],
    [
      'a close runner-up outside the radius',
      [
        { id: 'a', distanceM: 48 },
        { id: 'b', distanceM: 51 },
      ],
      { match: 'MATCHED', deviceId: 'a', distanceM: 48 },
    ],
  ])('%s', (_name, candidates, expected) => {
    expect(decideMatch(candidates, OPTS)).toEqual(expected);
  });

  it('with no ambiguity margin, the nearest always wins', () => {
    expect(
      decideMatch(
        [
          { id: 'a', distanceM: 20 },
          { id: 'b', distanceM: 20 },
        ],
        { radiusM: 50, ambiguityM: 0 },
      ),
    ).toEqual({ match: 'MATCHED', deviceId: 'a', distanceM: 20 });
  });
});
