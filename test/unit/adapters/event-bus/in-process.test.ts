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

  it('drops events for a subscriber more than 1024 behind instead of throwing into the publisher', async () => {
    const { bus, warnings } = quietBus();
    const slow = bus.subscribe('DEVICE_STATUS_CHANGED')[Symbol.asyncIterator]();
    const firstRead = slow.next();
    for (let i = 0; i < 1100; i++) await bus.publish('DEVICE_STATUS_CHANGED', change(String(i)));
    expect(await firstRead).toEqual({ done: false, value: change('0') });
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toContain('dropped');
    await bus.close();
  });
});
