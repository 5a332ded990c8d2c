import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Controller,
  errorPolicy,
  TerminalError,
  type QueueAction,
  type ReconcileEvent,
  type ReconcileOutcome,
  type Reconciler,
} from '../../../src/runtime/controller.ts';

describe('errorPolicy', () => {
  const cases: Array<[string, ReconcileOutcome, QueueAction]> = [
    ['success without result', { result: undefined }, { type: 'forget' }],
    ['success with empty result', { result: {} }, { type: 'forget' }],
    [
      'success asking to look again',
      { result: { requeueAfterMs: 60_000 } },
      { type: 'forget-and-requeue-after', delayMs: 60_000 },
    ],
    ['a zero requeue means none', { result: { requeueAfterMs: 0 } }, { type: 'forget' }],
    ['a negative requeue means none', { result: { requeueAfterMs: -5 } }, { type: 'forget' }],
    ['a transient error', { error: new Error('503') }, { type: 'retry-with-backoff' }],
    ['a thrown string', { error: 'boom' }, { type: 'retry-with-backoff' }],
    ['a terminal error', { error: new TerminalError('bad spec') }, { type: 'forget' }],
  ];
  it.each(cases)('%s', (_name, outcome, action) => {
    expect(errorPolicy(outcome)).toEqual(action);
  });

  it('treats subclasses of TerminalError as terminal', () => {
    class InvalidSpec extends TerminalError {}
    expect(errorPolicy({ error: new InvalidSpec('x') })).toEqual({ type: 'forget' });
  });
});

function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets workers pick up keys and finish synchronous reconciles. */
const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

describe('Controller', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function recording(reconcile: Reconciler, workers = 4) {
    const events: ReconcileEvent[] = [];
    const controller = new Controller({
      reconcile,
      workers,
      onReconcile: (event) => events.push(event),
    });
    return { controller, events };
  }

  it('starts workers only after every cache has synced', async () => {
    const cacheA = deferred();
    const cacheB = deferred();
    const reconcile = vi.fn<Reconciler>(() => Promise.resolve(undefined));
    const controller = new Controller({
      reconcile,
      waitFor: [{ waitForSync: () => cacheA.promise }, { waitForSync: () => cacheB.promise }],
    });
    controller.enqueue('ns/a');
    const started = controller.start();
    cacheA.resolve();
    await settle();
    expect(reconcile).not.toHaveBeenCalled();
    cacheB.resolve();
    await started;
    await settle();
    expect(reconcile).toHaveBeenCalledWith('ns/a', expect.anything());
    await controller.stop();
  });

  it('requeues after the asked delay, and not before', async () => {
    const { controller, events } = recording(() => Promise.resolve({ requeueAfterMs: 60_000 }));
    await controller.start();
    controller.enqueue('ns/a');
    await settle();
    expect(events.map((e) => e.result)).toEqual(['requeue_after']);
    expect(events[0]!.requeueAfterMs).toBe(60_000);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(events).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toHaveLength(2);
    await controller.stop();
  });

  it('retries a failing key with growing backoff until it succeeds', async () => {
    let calls = 0;
    const { controller, events } = recording(() => {
      calls++;
      return calls <= 3 ? Promise.reject(new Error('vault unavailable')) : Promise.resolve({});
    });
    await controller.start();
    controller.enqueue('ns/a');
    await settle();
    expect(events.map((e) => [e.result, e.retries])).toEqual([['error', 1]]);
    await vi.advanceTimersByTimeAsync(5);
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(20);
    expect(events.map((e) => [e.result, e.retries])).toEqual([
      ['error', 1],
      ['error', 2],
      ['error', 3],
      ['success', 0],
    ]);
    expect(controller.queue.retries('ns/a')).toBe(0); // forgotten after success
    await vi.advanceTimersByTimeAsync(600_000);
    expect(events).toHaveLength(4);
    await controller.stop();
  });

  it('does not retry a terminal error', async () => {
    const { controller, events } = recording(() =>
      Promise.reject(new TerminalError('spec.vault.url must be https')),
    );
    await controller.start();
    controller.enqueue('ns/a');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(events.map((e) => e.result)).toEqual(['terminal_error']);
    expect((events[0]!.error as Error).message).toBe('spec.vault.url must be https');
    await controller.stop();
  });

  it('never reconciles one key twice at once, but runs the change made meanwhile', async () => {
    const gates = [deferred(), deferred()];
    let running = 0;
    let mostAtOnce = 0;
    let calls = 0;
    const { controller, events } = recording(async () => {
      const gate = gates[calls++]!;
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await gate.promise;
      running--;
      return undefined;
    });
    await controller.start();
    controller.enqueue('ns/a');
    await settle();
    controller.enqueue('ns/a');
    await settle();
    expect(calls).toBe(1);
    gates[0]!.resolve();
    await settle();
    expect(calls).toBe(2);
    gates[1]!.resolve();
    await settle();
    expect(mostAtOnce).toBe(1);
    expect(events).toHaveLength(2);
    await controller.stop();
  });

  it('runs at most `workers` reconciles at once', async () => {
    const gate = deferred();
    let running = 0;
    let mostAtOnce = 0;
    const { controller } = recording(async () => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await gate.promise;
      running--;
      return undefined;
    }, 2);
    await controller.start();
    for (const name of ['a', 'b', 'c', 'd', 'e']) controller.enqueue(`ns/${name}`);
    await settle();
    expect(running).toBe(2);
    expect(controller.queue.depth).toBe(3);
    gate.resolve();
    await settle();
    expect(mostAtOnce).toBe(2);
    expect(controller.queue.depth).toBe(0);
    await controller.stop();
  });

  it('stop waits for in-flight reconciles and takes no new work', async () => {
    const gate = deferred();
    const reconcile = vi.fn<Reconciler>(async () => {
      await gate.promise;
      return undefined;
    });
    const controller = new Controller({ reconcile });
    await controller.start();
    controller.enqueue('ns/a');
    await settle();
    let stopped: boolean | undefined;
    const stopping = controller.stop(30_000).then((inTime) => (stopped = inTime));
    controller.enqueue('ns/b');
    await settle();
    expect(stopped).toBeUndefined();
    gate.resolve();
    await stopping;
    expect(stopped).toBe(true);
    expect(reconcile).toHaveBeenCalledTimes(1);
  });

  it('stop gives up at the deadline and aborts the reconciles still running', async () => {
    let signal: AbortSignal | undefined;
    const controller = new Controller({
      reconcile: (_key, context) => {
        signal = context.signal;
        return new Promise((_resolve, reject) =>
          context.signal.addEventListener('abort', () => reject(context.signal.reason as Error)),
        );
      },
    });
    await controller.start();
    controller.enqueue('ns/a');
    await settle();
    const stopping = controller.stop(5_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await stopping).toBe(false);
    expect(signal?.aborted).toBe(true);
  });

  it('abort cancels the reconciles still running at once and hands out no more keys', async () => {
    const signals: AbortSignal[] = [];
    const reconcile = vi.fn<Reconciler>(
      (_key, context) =>
        new Promise((_resolve, reject) => {
          signals.push(context.signal);
          context.signal.addEventListener('abort', () => reject(context.signal.reason as Error));
        }),
    );
    const controller = new Controller({ reconcile, workers: 1 });
    await controller.start();
    controller.enqueue('ns/a');
    controller.enqueue('ns/b');
    await settle();
    controller.abort(new Error('lost the Lease'));
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
    expect(controller.signal.reason).toEqual(new Error('lost the Lease'));
    await settle();
    expect(reconcile).toHaveBeenCalledTimes(1);
  });

  it('stop before the caches sync never starts workers', async () => {
    const reconcile = vi.fn<Reconciler>(() => Promise.resolve(undefined));
    const controller = new Controller({
      reconcile,
      waitFor: [
        {
          waitForSync: (signal) =>
            new Promise((_r, reject) =>
              signal?.addEventListener('abort', () => reject(signal.reason as Error)),
            ),
        },
      ],
    });
    controller.enqueue('ns/a');
    const started = controller.start();
    expect(await controller.stop()).toBe(true);
    await started;
    await settle();
    expect(reconcile).not.toHaveBeenCalled();
  });

  it('keeps working when the reconcile hook throws', async () => {
    const reconcile = vi.fn<Reconciler>(() => Promise.resolve(undefined));
    const controller = new Controller({
      reconcile,
      onReconcile: () => {
        throw new Error('metrics broke');
      },
    });
    await controller.start();
    controller.enqueue('ns/a');
    await settle();
    controller.enqueue('ns/b');
    await settle();
    expect(reconcile).toHaveBeenCalledTimes(2);
    await controller.stop();
  });
});
