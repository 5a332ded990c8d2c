// /healthz's event loop check notices a stalled loop; informer failures are logged by message.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { monitorEventLoop } from '../../../src/observability/event-loop.ts';
import { informerStatusLogger } from '../../../src/observability/informer-log.ts';
import { createLogger } from '../../../src/observability/logger.ts';

describe('monitorEventLoop', () => {
  it('is healthy while the loop turns, unhealthy after a stall longer than the limit', async () => {
    const monitor = monitorEventLoop({ maxDelayMs: 300, windowMs: 60_000 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(monitor.health().healthy).toBe(true);
      const until = Date.now() + 1_000;
      while (Date.now() < until) {
        // A synchronous stall, as CPU-bound work on the loop would cause.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const health = monitor.health();
      expect(health.healthy).toBe(false);
      expect(health.maxDelayMs).toBeGreaterThan(300);
    } finally {
      monitor.stop();
    }
  });
});

describe('informerStatusLogger', () => {
  it('warns about failed lists with the message only; routine restarts are debug', () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const onStatus = informerStatusLogger(createLogger('debug', stream), 'vaultsecrets');
    const error = Object.assign(new Error('vaultsecrets.kvsync.io is forbidden'), {
      response: { body: 'not for logs' },
    });
    onStatus({ phase: 'restarting', namespace: 'team', reason: 'error', delayMs: 812.4, error });
    onStatus({ phase: 'restarting', namespace: undefined, reason: 'closed', delayMs: 0 });
    onStatus({ phase: 'listed', namespace: 'team', objects: 3 });
    expect(lines).toMatchObject([
      {
        level: 'warn',
        resource: 'vaultsecrets',
        namespace: 'team',
        reason: 'error',
        retryInMs: 812,
        err: 'vaultsecrets.kvsync.io is forbidden',
        msg: 'list/watch failed; retrying',
      },
      { level: 'debug', namespace: '*', reason: 'closed', msg: 'watch restarting' },
      { level: 'debug', objects: 3, msg: 'listed' },
    ]);
    expect(JSON.stringify(lines)).not.toContain('not for logs');
  });
});
