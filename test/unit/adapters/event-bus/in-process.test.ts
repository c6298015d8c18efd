import pino from 'pino';
import { type DeviceStatusChangedEvent } from '../../../../src/adapters/event-bus/event-bus.port';
import { InProcessEventBus } from '../../../../src/adapters/event-bus/in-process.driver';

const change = (deviceId: string): DeviceStatusChangedEvent => ({ deviceId, status: 'OK', previousStatus: 'UNKNOWN', deviceType: 'pole' });

function quietBus() {
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  return { bus: new InProcessEventBus(log), warnings };
}

describe('the in-process event bus', () => {
  it('delivers every event of a topic to every subscriber, in order, and nothing of other topics', async () => {
    const { bus } = quietBus();
    const first = bus.subscribe('DEVICE_STATUS_CHANGED')[Symbol.asyncIterator]();
    const second = bus.subscribe('DEVICE_STATUS_CHANGED')[Symbol.asyncIterator]();
    // A repeater starts listening on its first next().
    const pending = [first.next(), second.next()];
    await bus.publish('INSPECTION_UPDATED', { inspectionId: 'i', status: 'COMPLETED' });
    await bus.publish('DEVICE_STATUS_CHANGED', change('a'));
    await bus.publish('DEVICE_STATUS_CHANGED', change('b'));
    expect(await Promise.all(pending)).toEqual([
      { done: false, value: change('a') },
      { done: false, value: change('a') },
    ]);
    expect(await first.next()).toEqual({ done: false, value: change('b') });
    expect(await second.next()).toEqual({ done: false, value: change('b') });
    await bus.close();
  });

  it("ends every subscriber's iterator when it closes, also for subscribers that come later", async () => {
    const { bus } = quietBus();
    const waiting = bus.subscribe('ANOMALY_DETECTED')[Symbol.asyncIterator]().next();
    await bus.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(await bus.subscribe('ANOMALY_DETECTED')[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
    await expect(bus.publish('DEVICE_STATUS_CHANGED', change('late'))).resolves.toBeUndefined();
  });

  it('keeps every event for a subscriber far more than 1024 behind, in order', async () => {
    const { bus, warnings } = quietBus();
    const slow = bus.subscribe('DEVICE_STATUS_CHANGED')[Symbol.asyncIterator]();
    const firstRead = slow.next();
    for (let i = 0; i < 3000; i++) await bus.publish('DEVICE_STATUS_CHANGED', change(String(i)));
    const read = [(await firstRead).value];
    for (let i = 1; i < 3000; i++) read.push((await slow.next()).value);
    expect(read).toEqual(Array.from({ length: 3000 }, (_, i) => change(String(i))));
    expect(warnings).toEqual([]);
    await bus.close();
  });

  it('ends the subscription and says so when the events waiting pass its budget, instead of dropping one', async () => {
    const { bus } = quietBus();
    // Room for ten events waiting (ids of two digits are a byte longer).
    const size = JSON.stringify(change('0')).length;
    let exceeded = 0;
    const budget = { queuedBytes: 0, maxBytes: 10 * size + 10, exceeded: () => void exceeded++ };
    const slow = bus.subscribe('DEVICE_STATUS_CHANGED', budget)[Symbol.asyncIterator]();
    const firstRead = slow.next();
    for (let i = 0; i < 20; i++) await bus.publish('DEVICE_STATUS_CHANGED', change(String(i)));
    expect(exceeded).toBe(1);
    // What was queued before is still delivered, in order, then the iterator ends.
    const read = [(await firstRead).value];
    for (let r = await slow.next(); !r.done; r = await slow.next()) read.push(r.value);
    expect(read).toEqual(Array.from({ length: 11 }, (_, i) => change(String(i))));
    expect(budget.queuedBytes).toBe(0);
    await bus.close();
  });
});
