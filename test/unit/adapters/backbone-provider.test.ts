import { type Backbone } from '../../../src/adapters/backbone/backbone.port';
import { backboneProvider } from '../../../src/adapters/backbone/backbone.factory';

const fake = (closed: string[], name: string): Backbone => ({
  identity: { name, version: '1', weightsSha256: '0'.repeat(64), taps: ['t'] },
  sizing: { fixed: { width: 32, height: 32 } },
  inputSize: () => ({ width: 32, height: 32 }),
  extract: async () => [],
  close: async () => void closed.push(name),
});

describe('the process backbone provider', () => {
  it('opens the backbone once however many callers ask at the same time, and closes it once', async () => {
    const closed: string[] = [];
    let opened = 0;
    const provider = backboneProvider(async () => fake(closed, `b${++opened}`));
    const [a, b] = await Promise.all([provider.get(), provider.get()]);
    expect(a).toBe(b);
    expect(opened).toBe(1);
    await provider.close();
    await provider.close();
    expect(closed).toEqual(['b1']);
  });

  it('tries again on the next call after a failed open, and closes nothing it never opened', async () => {
    const closed: string[] = [];
    let calls = 0;
    const provider = backboneProvider(async () => {
      if (++calls === 1) throw new Error('the ONNX file cannot be read');
      return fake(closed, 'second');
    });
    await expect(provider.get()).rejects.toThrow('the ONNX file cannot be read');
    expect((await provider.get()).identity.name).toBe('second');
    await provider.close();
    expect(closed).toEqual(['second']);
    await backboneProvider(async () => fake(closed, 'never')).close();
    expect(closed).toEqual(['second']);
  });
});
