// aws-local-stepfunctions calls Promise.withResolvers (ES2024), which Node 20 lacks. This is the one
// place vigil adds it; the local engine imports this module before the library.

type WithResolvers = <T>() => { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };

const PromiseConstructor = Promise as unknown as { withResolvers?: WithResolvers };

if (typeof PromiseConstructor.withResolvers !== 'function') {
  PromiseConstructor.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
