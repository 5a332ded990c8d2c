// The HTTP endpoints on loopback: routes, status codes, bodies, one or two listeners.
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { startServers, type Probe, type Servers } from '../../../src/observability/servers.ts';

let servers: Servers | undefined;
afterEach(async () => {
  await servers?.close();
  servers = undefined;
});

async function start(address: { metrics: string; health: string }, ready: () => Probe) {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.leader.set(1);
  servers = await startServers({
    metricsAddress: address.metrics,
    healthAddress: address.health,
    registry: metrics.registry,
    live: () => ({ ok: true, detail: 'event loop delay 3 ms' }),
    ready,
    log: createLogger('silent'),
  });
  return servers;
}

async function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(url, { method });
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get('content-type'),
  };
}

describe('startServers', () => {
  it('serves /metrics on one port and the probes on another', async () => {
    let ready: Probe = { ok: false, detail: 'caches not synced yet' };
    const { metricsAddress, healthAddress } = await start(
      { metrics: '127.0.0.1:0', health: '127.0.0.1:0' },
      () => ready,
    );
    expect(metricsAddress).not.toBe(healthAddress);
    const scrape = await get(`http://${metricsAddress}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toContain('text/plain');
    expect(scrape.body).toContain('kvsync_leader 1');
    expect((await get(`http://${metricsAddress}/healthz`)).status).toBe(404);
    expect((await get(`http://${healthAddress}/metrics`)).status).toBe(404);

    expect(await get(`http://${healthAddress}/healthz`)).toMatchObject({
      status: 200,
      body: 'ok: event loop delay 3 ms\n',
    });
    expect(await get(`http://${healthAddress}/readyz`)).toMatchObject({
      status: 503,
      body: 'not ok: caches not synced yet\n',
    });
    ready = { ok: true, detail: 'standby (leader: a_1)' };
    expect(await get(`http://${healthAddress}/readyz?verbose`)).toMatchObject({
      status: 200,
      body: 'ok: standby (leader: a_1)\n',
    });
    expect((await get(`http://${healthAddress}/readyz`, 'POST')).status).toBe(405);
  });

  it('serves everything from one listener when both addresses are the same', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const shared = await start({ metrics: address, health: address }, () => ({
      ok: true,
      detail: 'leader, caches synced',
    }));
    expect(shared.metricsAddress).toBe(address);
    expect(shared.healthAddress).toBe(address);
    expect((await get(`http://${address}/metrics`)).status).toBe(200);
    expect(await get(`http://${address}/readyz`)).toMatchObject({
      status: 200,
      body: 'ok: leader, caches synced\n',
    });
  });

  it('refuses an address it cannot listen on, with the address in the message', async () => {
    const first = await start({ metrics: '127.0.0.1:0', health: '127.0.0.1:0' }, () => ({
      ok: true,
      detail: '',
    }));
    const taken = first.metricsAddress;
    const metrics = createMetrics({ defaultMetrics: false });
    await expect(
      startServers({
        metricsAddress: '127.0.0.1:0',
        healthAddress: taken,
        registry: metrics.registry,
        live: () => ({ ok: true, detail: '' }),
        ready: () => ({ ok: true, detail: '' }),
        log: createLogger('silent'),
      }),
    ).rejects.toThrow(`cannot listen on ${taken}`);
  });
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
