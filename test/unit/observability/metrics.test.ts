// Metric series a user would scrape: bounded, removed with their VaultSecret, expiry opt-out.
import { describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.ts';

async function series(metrics: Metrics, name: string): Promise<Record<string, unknown>[]> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values.map((v) => ({ ...v.labels, value: v.value }));
}

const app = { namespace: 'team', name: 'app' };
const in2030 = new Date('2030-01-01T00:00:00Z');
const in2031 = new Date('2031-01-01T00:00:00Z');

describe('createMetrics', () => {
  it('keeps one expiry series per object the VaultSecret syncs now', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.setObjectExpiries(app, [
      { name: 'a', kind: 'secret', expiresOn: in2030 },
      { name: 'b', kind: 'certificate', expiresOn: in2031 },
      { name: 'c', kind: 'secret' },
    ]);
    expect(await series(metrics, 'kvsync_object_expiry_timestamp_seconds')).toEqual([
      { ...app, object: 'a', kind: 'secret', value: in2030.getTime() / 1000 },
      { ...app, object: 'b', kind: 'certificate', value: in2031.getTime() / 1000 },
    ]);
    // The spec dropped `a`: its series goes.
    metrics.setObjectExpiries(app, [{ name: 'b', kind: 'certificate', expiresOn: in2031 }]);
    expect(await series(metrics, 'kvsync_object_expiry_timestamp_seconds')).toEqual([
      { ...app, object: 'b', kind: 'certificate', value: in2031.getTime() / 1000 },
    ]);
  });

  it('forgets every series of a deleted VaultSecret and only its own', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const other = { namespace: 'team', name: 'other' };
    for (const vs of [app, other]) {
      metrics.vaultSecretReady.set(vs, 1);
      metrics.lastSync.set(vs, 1_700_000_000);
      metrics.setObjectExpiries(vs, [{ name: 'a', kind: 'secret', expiresOn: in2030 }]);
    }
    metrics.forgetVaultSecret(app);
    for (const name of [
      'kvsync_vaultsecret_ready',
      'kvsync_last_sync_timestamp_seconds',
      'kvsync_object_expiry_timestamp_seconds',
    ]) {
      expect((await series(metrics, name)).map((s) => s.name)).toEqual(['other']);
    }
  });

  it('keeps the first maxVaultLabels vault hosts as labels and counts later ones as other', () => {
    const metrics = createMetrics({ defaultMetrics: false, maxVaultLabels: 2 });
    const labels = ['a.vault.azure.net', 'b.vault.azure.net', 'c.vault.azure.net'].map((host) =>
      metrics.vaultLabel(host),
    );
    expect(labels).toEqual(['a.vault.azure.net', 'b.vault.azure.net', 'other']);
    expect(metrics.vaultLabel('a.vault.azure.net')).toBe('a.vault.azure.net');
    expect(metrics.vaultLabel('d.vault.azure.net')).toBe('other');
  });

  it('exports no expiry gauge when opted out', async () => {
    const metrics = createMetrics({ defaultMetrics: false, objectExpiry: false });
    metrics.setObjectExpiries(app, [{ name: 'a', kind: 'secret', expiresOn: in2030 }]);
    expect(await metrics.registry.metrics()).not.toContain(
      'kvsync_object_expiry_timestamp_seconds',
    );
  });

  it('has the leader gauge and, by default, process and Node metrics under their standard names', async () => {
    const metrics = createMetrics();
    metrics.leader.set(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE kvsync_leader gauge\nkvsync_leader 1');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
    // Stock Node.js dashboards look for these names; a prefix would hide kvsync from them.
    expect(text).not.toMatch(/^# TYPE kvsync_(process|nodejs)_/m);
  });
});
