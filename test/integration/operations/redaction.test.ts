// No value leaves kvsync except into the Secret it writes. A separate kvsync process (trace
// logging, leader election on) runs full syncs with known values — plain secrets, a JSON
// property, dataFrom find, a certificate with its private key, a template — and failures that
// handle values (a property of a non-JSON secret, a template function refusing its input, a
// missing property, a missing secret). Then no value, nor any 10-character piece of one, nor its
// base64 form may appear in the process output (JSON logs, then text logs from a second process
// that syncs everything again), the namespace's events, the VaultSecrets'
// status, labels and annotations, the Secrets' labels and annotations, or /metrics.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { group, plural, version } from '../../../src/api/vault-secret.ts';
import { makeChain, toPemBundle } from '../../support/certs.ts';
import { waitFor } from '../../support/kube.ts';
import { applyVaultSecret, decoded, readSecret, waitForReady } from '../../support/kvsync.ts';
import { parseMetrics, type KvsyncProcess } from '../../support/kvsync-process.ts';
import { startOperationsEnvironment, type OperationsEnvironment } from './environment.ts';

/** Random, so no name, id or log text can contain a piece of one by chance. */
const value = (): string => `v${randomBytes(12).toString('hex')}`;

const values = {
  plain: value(),
  jsonUser: value(),
  jsonPassword: value(),
  foundA: value(),
  foundB: value(),
  notJson: value(),
  notBase64: `${value()}!`,
};

describe('no secret value in anything kvsync writes besides the Secret', () => {
  let env: OperationsEnvironment;
  let kvsync: KvsyncProcess;
  /** Every string that must stay inside Secrets (values, the key, the client secret). */
  let secrets: string[];
  let keyLines: string[];

  beforeAll(async () => {
    env = await startOperationsEnvironment(inject('controlPlane'), 'ops-redact');
    const vault = env.azure.keyVault.createVault('ops-redact');
    vault.grant(env.clientId);
    const json = JSON.stringify({ user: values.jsonUser, password: values.jsonPassword });
    vault.setSecret('plain', values.plain);
    vault.setSecret('config', json, { contentType: 'application/json' });
    vault.setSecret('found-a', values.foundA, { tags: { team: 'redact' } });
    vault.setSecret('found-b', values.foundB, { tags: { team: 'redact' } });
    vault.setSecret('not-json', values.notJson);
    vault.setSecret('not-base64', values.notBase64);
    const chain = await makeChain({ keyType: 'ec-p256' });
    await vault.importCertificate('web', { pem: toPemBundle(chain) });
    // The key's base64 lines: any one of them in a log would be a leak.
    keyLines = chain.leafKeyPem
      .split('\n')
      .filter((line) => line.length > 0 && !line.startsWith('-----'));
    secrets = [...Object.values(values), json, env.clientSecret];

    kvsync = await env.start('redact', { args: ['--log-level=trace'] });
    await kvsync.waitForReadyz(/^ok: leader/);
    const url = env.azure.vaultUrl('ops-redact');
    const specs = {
      plain: { vault: { url }, data: [{ key: 'plain', secret: { name: 'plain' } }] },
      json: {
        vault: { url },
        data: [
          { key: 'user', secret: { name: 'config', property: 'user' } },
          { key: 'password', secret: { name: 'config', property: 'password' } },
        ],
        target: {
          template: { data: { url: 'postgres://{{ .user }}:{{ .password }}@db:5432/app' } },
        },
      },
      found: {
        vault: { url },
        dataFrom: [{ find: { nameRegex: '^found-', tags: { team: 'redact' } } }],
      },
      cert: { vault: { url }, data: [{ certificate: { name: 'web' } }] },
      'bad-property': {
        vault: { url },
        data: [{ key: 'x', secret: { name: 'not-json', property: 'x' } }],
      },
      'bad-template': {
        vault: { url },
        data: [{ key: 'raw', secret: { name: 'not-base64' } }],
        target: { template: { data: { decoded: '{{ .raw | b64dec }}' } } },
      },
      'missing-property': {
        vault: { url },
        data: [{ key: 'x', secret: { name: 'config', property: 'nope' } }],
      },
      'missing-secret': {
        vault: { url },
        data: [{ key: 'x', secret: { name: 'does-not-exist' } }],
      },
    };
    for (const [name, spec] of Object.entries(specs)) {
      await applyVaultSecret(env.kc, env.namespace, name, spec);
    }
    for (const name of ['plain', 'json', 'found', 'cert']) {
      await waitForReady(env.kc, env.namespace, name, { status: 'True' });
    }
    const failures = {
      'bad-property': 'InvalidContent',
      'bad-template': 'TemplateError',
      'missing-property': 'InvalidContent',
      'missing-secret': 'ObjectNotFound',
    };
    for (const [name, reason] of Object.entries(failures)) {
      await waitForReady(env.kc, env.namespace, name, { status: 'False', reason });
    }
    // Failures are retried and recorded as events; wait until each has one.
    await waitFor(
      async () => {
        const events = await env.kc
          .makeApiClient(CoreV1Api)
          .listNamespacedEvent({ namespace: env.namespace });
        const named = new Set(events.items.map((e) => e.involvedObject.name));
        return ['bad-property', 'bad-template', 'missing-property', 'missing-secret'].every((n) =>
          named.has(n),
        );
      },
      { description: 'an event for every failing VaultSecret' },
    );
  });

  afterAll(async () => {
    await env?.close();
  });

  /** What leaked: a value, a 10-character piece of one, its base64, or a line of the key. */
  function leaks(text: string): string[] {
    const found: string[] = [];
    for (const secret of secrets) {
      const pieces = [secret, Buffer.from(secret).toString('base64')];
      for (let i = 0; i + 10 <= secret.length; i++) pieces.push(secret.slice(i, i + 10));
      if (pieces.some((piece) => text.includes(piece)))
        found.push(`a value of ${secret.length} characters`);
    }
    for (const line of keyLines) if (text.includes(line)) found.push('a line of the private key');
    return [...new Set(found)];
  }

  it('synced the values (so the process handled every one of them)', async () => {
    const data = async (name: string) => decoded(await readSecret(env.kc, env.namespace, name));
    expect(await data('plain')).toEqual({ plain: values.plain });
    expect(await data('json')).toEqual({
      user: values.jsonUser,
      password: values.jsonPassword,
      url: `postgres://${values.jsonUser}:${values.jsonPassword}@db:5432/app`,
    });
    expect(await data('found')).toEqual({ 'found-a': values.foundA, 'found-b': values.foundB });
    expect(Object.keys(await data('cert')).sort()).toEqual(['tls.crt', 'tls.key']);
    // The detector itself: it finds the values where they belong.
    const plain = await readSecret(env.kc, env.namespace, 'plain');
    expect(leaks(JSON.stringify(plain?.data))).toHaveLength(1);
    expect(leaks(JSON.stringify(await data('cert')))).toEqual(['a line of the private key']);
  });

  it('logs none', async () => {
    const output = await kvsync.output();
    expect(output.split('\n').length).toBeGreaterThan(10);
    expect(output).toContain('reconcileId');
    expect(leaks(output)).toEqual([]);
  });

  it('records none in events', async () => {
    const events = await env.kc
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: env.namespace });
    expect(events.items.length).toBeGreaterThan(0);
    expect(leaks(JSON.stringify(events.items))).toEqual([]);
  });

  it('puts none in VaultSecret status, labels or annotations', async () => {
    const list = (await env.kc
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group, version, namespace: env.namespace, plural })) as {
      items: { metadata: { labels?: object; annotations?: object }; status?: object }[];
    };
    expect(list.items).toHaveLength(8);
    const visible = list.items.map((vs) => [
      vs.status,
      vs.metadata.labels,
      vs.metadata.annotations,
    ]);
    expect(leaks(JSON.stringify(visible))).toEqual([]);
  });

  it("puts none in the Secrets' labels or annotations", async () => {
    const secrets = await env.kc
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: env.namespace });
    const metadata = secrets.items.map((s) => [s.metadata?.labels, s.metadata?.annotations]);
    expect(secrets.items.length).toBeGreaterThanOrEqual(4);
    expect(leaks(JSON.stringify(metadata))).toEqual([]);
  });

  it('exports none in /metrics', async () => {
    const metrics = await kvsync.scrape();
    expect(metrics).toContain('kvsync_vaultsecret_ready');
    expect(leaks(metrics)).toEqual([]);
  });

  it('logs none in text format either (--log-format=text)', async () => {
    expect((await kvsync.stop()).code).toBe(0);
    const text = await env.start('redact-text', {
      args: ['--log-level=trace', '--log-format=text'],
    });
    await text.waitForReadyz(/^ok: leader/);
    // A fresh process has no cache: it reads every value again and meets every failure again.
    await waitFor(
      async () => {
        const { samples } = parseMetrics(await text.scrape());
        return samples.filter((s) => s.name === 'kvsync_vaultsecret_ready').length === 8;
      },
      { description: 'the text-format process to reconcile all 8 VaultSecrets' },
    );
    const output = await text.output();
    expect(output).toMatch(/^\S+Z INFO {2}kvsync starting /m);
    expect(output).toMatch(/ reconcileId=\S+/);
    expect(output).not.toMatch(/^\{/m);
    expect(leaks(output)).toEqual([]);
  });
});
