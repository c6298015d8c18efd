import { Admission } from '../../../src/http/request-limits';

describe('Admission', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('admits up to maxConcurrent at once, lines up maxQueued more and refuses the next at once', async () => {
    const admission = new Admission({ maxConcurrent: 2, maxQueued: 3, maxWaitMs: 1000 });
    expect(await Promise.all([admission.enter(), admission.enter()])).toEqual([true, true]);
    const waiting = [admission.enter(), admission.enter(), admission.enter()];
    expect(await admission.enter()).toBe(false);
    expect(admission.inFlight).toBe(2);
    // Each request that leaves hands its slot to the longest-waiting one.
    admission.leave();
    admission.leave();
    admission.leave();
    expect(await Promise.all(waiting)).toEqual([true, true, true]);
    expect(admission.inFlight).toBe(2);
  });

  it('refuses a request that waited maxWaitMs, and its place in line is freed', async () => {
    const admission = new Admission({ maxConcurrent: 1, maxQueued: 1, maxWaitMs: 500 });
    await admission.enter();
    const late = admission.enter();
    jest.advanceTimersByTime(499);
    expect(await admission.enter()).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await late).toBe(false);
    const next = admission.enter();
    admission.leave();
    expect(await next).toBe(true);
  });

  it('does not line up anyone when the wait is 0', async () => {
    const admission = new Admission({ maxConcurrent: 1, maxQueued: 10, maxWaitMs: 0 });
    expect(await admission.enter()).toBe(true);
    expect(await admission.enter()).toBe(false);
  });
});
