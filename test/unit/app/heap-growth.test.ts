import v8 from 'node:v8';
import { limitHeapGrowth } from '../../../src/app/heap-growth';

describe('limitHeapGrowth', () => {
  afterEach(() => jest.restoreAllMocks());

  it("sets V8's heap growing factor from the percentage", () => {
    const set = jest.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    limitHeapGrowth(100);
    expect(set).toHaveBeenCalledWith('--heap-growing-percent=100');
  });

  it("leaves V8's own rule at 0", () => {
    const set = jest.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    limitHeapGrowth(0);
    expect(set).not.toHaveBeenCalled();
  });
});
