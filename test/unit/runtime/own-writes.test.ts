import { describe, expect, it } from 'vitest';
import { OwnWrites } from '../../../src/runtime/own-writes.ts';

/** A write whose answer (the resourceVersion it made) the test gives when it wants. */
function pendingWrite() {
  let answer!: (version: string) => void;
  let fail!: (error: Error) => void;
  const result = new Promise<string>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { write: () => result, answer, fail };
}

describe('OwnWrites', () => {
  const setup = () => {
    const others: string[] = [];
    return { others, own: new OwnWrites((key) => others.push(key)) };
  };
  const version = (v: string) => v;

  it('takes the echo of a finished write as its own, and the next event as someone else', async () => {
    const { own } = setup();
    await own.track('ns/a', () => Promise.resolve('7'), version);
    expect(own.isOwn('ns/a', '7')).toBe(true);
    expect(own.isOwn('ns/a', '9')).toBe(false);
  });

  it('holds an echo that arrives before the write answers, and drops it once it does', async () => {
    const { own, others } = setup();
    const pending = pendingWrite();
    const tracked = own.track('ns/a', pending.write, version);
    expect(own.isOwn('ns/a', '7')).toBe(true);
    pending.answer('7');
    await tracked;
    expect(others).toEqual([]);
    expect(own.isOwn('ns/a', '8'), 'the echo was used up').toBe(false);
  });

  it('passes on an event held during a write that was not its echo', async () => {
    const { own, others } = setup();
    const pending = pendingWrite();
    const tracked = own.track('ns/a', pending.write, version);
    expect(own.isOwn('ns/a', '6')).toBe(true);
    pending.answer('7');
    await tracked;
    expect(others).toEqual(['ns/a']);
  });

  it('passes on events held during a write that failed, and deletions always', async () => {
    const { own, others } = setup();
    const pending = pendingWrite();
    const tracked = own.track('ns/a', pending.write, version);
    own.isOwn('ns/a', '6');
    pending.fail(new Error('conflict'));
    await expect(tracked).rejects.toThrow('conflict');
    expect(others).toEqual(['ns/a']);
    expect(own.isOwn('ns/b', undefined)).toBe(false);
  });

  it('keeps objects apart', async () => {
    const { own } = setup();
    await own.track('ns/a', () => Promise.resolve('7'), version);
    expect(own.isOwn('ns/b', '7')).toBe(false);
    expect(own.isOwn('ns/a', '7')).toBe(true);
  });
});
