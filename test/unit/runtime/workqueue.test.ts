import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExponentialRateLimiter } from '../../../src/runtime/rate-limiter.ts';
import { WorkQueue } from '../../../src/runtime/workqueue.ts';

/** Resolves to the value, or to 'pending' when the promise has not settled after a flush. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const pending = Symbol('pending');
  const result = await Promise.race([
    promise,
    new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending))),
  ]);
  return result === pending ? 'pending' : result;
}

describe('WorkQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out each key once however often it was added', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(await peek(queue.get())).toBe('pending');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue();
    const next = queue.get();
    expect(await peek(next)).toBe('pending');
    queue.add('ns/a');
    expect(await next).toBe('ns/a');
  });

  it('never hands a key to two workers at once and re-queues it after done', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    const first = await queue.get();
    queue.add('ns/a'); // changed while being processed
    queue.add('ns/a');
    const second = queue.get();
    expect(await peek(second)).toBe('pending');
    queue.done(first!);
    expect(await second).toBe('ns/a');
    queue.done('ns/a');
    expect(await peek(queue.get())).toBe('pending'); // the two adds ran once
  });

  it('lets other keys through while one is in flight', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    await queue.get();
    queue.add('ns/a');
    queue.add('ns/b');
    expect(await queue.get()).toBe('ns/b');
  });

  it('keeps the earliest of several delayed adds', async () => {
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 10_000);
    queue.addAfter('ns/a', 1_000);
    queue.addAfter('ns/a', 5_000);
    const next = queue.get();
    await vi.advanceTimersByTimeAsync(999);
    expect(await peek(next)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await next).toBe('ns/a');
    queue.done('ns/a');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(queue.depth).toBe(0); // the later delays did not fire separately
  });

  it('lets an immediate add supersede a delayed one', async () => {
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 60_000);
    queue.add('ns/a');
    expect(await queue.get()).toBe('ns/a');
    queue.done('ns/a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queue.depth).toBe(0);
  });

  it('reaches delays longer than the 24.8-day timer limit without firing early', async () => {
    const queue = new WorkQueue();
    const day = 24 * 3_600_000;
    queue.addAfter('ns/a', 30 * day);
    await vi.advanceTimersByTimeAsync(29 * day);
    expect(queue.depth).toBe(0);
    await vi.advanceTimersByTimeAsync(day);
    expect(queue.depth).toBe(1);
  });

  it('backs a failing key off exponentially and starts over after forget', async () => {
    const queue = new WorkQueue();
    const readyAfter = async (): Promise<number> => {
      queue.addRateLimited('ns/a');
      let waited = 0;
      while (queue.depth === 0) {
        await vi.advanceTimersByTimeAsync(1);
        waited++;
      }
      await queue.get();
      queue.done('ns/a');
      return waited;
    };
    expect([await readyAfter(), await readyAfter(), await readyAfter()]).toEqual([5, 10, 20]);
    expect(queue.retries('ns/a')).toBe(3);
    queue.forget('ns/a');
    expect(await readyAfter()).toBe(5);
  });

  it('stops handing out work on shutDown', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('ns/a');
    await waiting;
    queue.add('ns/b');
    queue.addAfter('ns/c', 100);
    expect(await queue.get()).toBe('ns/b');
    const blocked = queue.get();
    queue.shutDown();
    expect(await blocked).toBeUndefined();
    queue.add('ns/d');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await queue.get()).toBeUndefined();
    expect(queue.depth).toBe(0);
  });

  it('drops queued keys on shutdown and does not re-queue in-flight ones', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    await queue.get();
    queue.add('ns/a');
    queue.shutDown();
    queue.done('ns/a');
    expect(queue.depth).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('shutDownWithDrain resolves once every in-flight key is done', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    const a = await queue.get();
    const b = await queue.get();
    const drained = queue.shutDownWithDrain();
    queue.done(a!);
    expect(await peek(drained)).toBe('pending');
    queue.done(b!);
    expect(await peek(drained)).toBeUndefined();
  });

  it('shutDownWithDrain resolves at once when nothing is in flight', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    expect(await peek(queue.shutDownWithDrain())).toBeUndefined();
  });
});

describe('ExponentialRateLimiter', () => {
  it('doubles from 5 ms and caps at 5 min', () => {
    const limiter = new ExponentialRateLimiter();
    const delays = Array.from({ length: 20 }, () => limiter.when('k'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays[15]).toBe(163_840);
    expect(delays[16]).toBe(300_000);
    expect(delays[19]).toBe(300_000);
    expect(limiter.when('other')).toBe(5); // per key
  });

  it('stays capped after very many failures', () => {
    const limiter = new ExponentialRateLimiter({ baseMs: 1, maxMs: 1_000 });
    for (let i = 0; i < 2_000; i++) limiter.when('k');
    expect(limiter.when('k')).toBe(1_000);
  });
});
