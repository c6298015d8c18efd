import pino from 'pino';
import { type AnomalyDetectedEvent } from '../../../src/adapters/event-bus/event-bus.port';
import { InProcessEventBus } from '../../../src/adapters/event-bus/in-process.driver';
import { LocalEventTarget } from '../../../src/adapters/event-bus/local-event-target';
import { replayThenLive } from '../../../src/events/replay';

const event = (n: number, status = 'SUSPECTED'): AnomalyDetectedEvent => ({
  anomalyId: `a${n}`,
  deviceId: 'd',
  inspectionId: 'i',
  type: 'crack',
  confidence: 0.9,
  status,
});
/** The bus's event target, asked whether anything still listens. */
class ProbedTarget extends LocalEventTarget {
  listening(type: string) {
    return this.hasListeners(type);
  }
}

const key = (e: AnomalyDetectedEvent) => `${e.anomalyId}:${e.status}`;

async function take<E>(events: AsyncIterable<E>, count: number): Promise<E[]> {
  const out: E[] = [];
  const it = events[Symbol.asyncIterator]();
  while (out.length < count) {
    const next = await it.next();
    if (next.done) break;
    out.push(next.value);
  }
  await it.return?.();
  return out;
}

describe('a subscription that replays what its client missed, then goes live', () => {
  it('gives the missed events, then the live ones, each once, with nothing lost between the read and the listener', async () => {
    const bus = new InProcessEventBus(pino({ level: 'silent' }));
    const stream = await replayThenLive(
      bus.subscribe('ANOMALY_DETECTED'),
      async () => {
        // Published while the database is read: live (already listened to) and also in the rows read back.
        await bus.publish('ANOMALY_DETECTED', event(3));
        await bus.publish('ANOMALY_DETECTED', event(4));
        return [event(1), event(2), event(3)];
      },
      key,
    );
    const got = take(stream, 6);
    // After the replay: a new event, and a status change of a replayed anomaly (a different key).
    setTimeout(() => {
      void bus.publish('ANOMALY_DETECTED', event(5));
      void bus.publish('ANOMALY_DETECTED', event(1, 'CONFIRMED'));
    }, 20);
    expect((await got).map(key)).toEqual(['a1:SUSPECTED', 'a2:SUSPECTED', 'a3:SUSPECTED', 'a4:SUSPECTED', 'a5:SUSPECTED', 'a1:CONFIRMED']);
    await bus.close();
  });

  it('ends when its client leaves while nothing happens, and fails as a whole when the read is refused', async () => {
    const log = pino({ level: 'silent' });
    const target = new ProbedTarget(log);
    const bus = new InProcessEventBus(log, target);
    const idle = (await replayThenLive(bus.subscribe('ANOMALY_DETECTED'), async () => [event(1)], key))[Symbol.asyncIterator]();
    expect((await idle.next()).value).toEqual(event(1));
    const waiting = idle.next();
    await idle.return?.();
    expect(await waiting).toEqual({ done: true, value: undefined });

    // A refused read fails the subscription itself, and the listener it started is let go.
    const refused = replayThenLive(
      bus.subscribe('ANOMALY_DETECTED'),
      async () => {
        throw new Error('too many missed events');
      },
      key,
    );
    await expect(refused).rejects.toThrow('too many missed events');
    expect(target.listening('ANOMALY_DETECTED')).toBe(false);
    await bus.close();
  });
});
