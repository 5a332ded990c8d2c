// A certificate in the vault becomes a kubernetes.io/tls Secret that a real TLS client accepts,
// whatever order Key Vault returns the chain in; rotation, expiry, failures and templates.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { makeChain, makeKey, tlsHandshake, toPemBundle, toPfxBase64 } from '../../support/certs.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  eventsFor,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const dbPassword = 'certs-template-password-9d8c';

describe('certificates to TLS Secrets', () => {
  let env: SyncEnvironment;
  let vault: FakeVault;
  let url: string;

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), { prefix: 'certs' });
    vault = env.azure.keyVault.createVault('certs');
    vault.grant(env.clientId);
    url = env.azure.vaultUrl('certs');
    vault.setSecret('db-password', dbPassword);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('writes leaf then intermediates and the key from a PEM chain stored in reverse order', async () => {
    const chain = await makeChain({ keyType: 'ec-p256', length: 4 });
    await vault.importCertificate('web-tls', {
      pem: toPemBundle(chain, { order: 'reverse', key: 'last' }),
    });
    await applyVaultSecret(env.kc, env.namespace, 'web', {
      vault: { url },
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name: 'web-tls', keys: { ca: 'ca.crt' } } }],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'web', { status: 'True' });
    const secret = await readSecret(env.kc, env.namespace, 'web');
    const data = decoded(secret);
    expect(secret?.type).toBe('kubernetes.io/tls');
    expect(data['tls.crt']).toBe([chain.leaf, ...chain.intermediates].map((c) => c.pem).join(''));
    expect(data['tls.key']).toContain('-----BEGIN PRIVATE KEY-----');
    expect(data['ca.crt']).toBe(chain.root.pem);
    const handshake = await tlsHandshake(
      { key: data['tls.key']!, cert: data['tls.crt']! },
      chain.root.pem,
    );
    expect(handshake).toMatchObject({ authorized: true });
    expect(vs.status?.objects?.[0]).toMatchObject({
      name: 'web-tls',
      kind: 'certificate',
      expiresOn: chain.leaf.notAfter.toISOString(),
    });
    expect(vs.status?.expiresOn).toBe(chain.leaf.notAfter.toISOString());
  });

  it('reads a PFX backing secret with its chain, and emits PKCS#1 on request', async () => {
    const chain = await makeChain({ keyType: 'rsa-2048', length: 3 });
    await vault.importCertificate('api-tls', { pfxBase64: await toPfxBase64(chain) });
    await applyVaultSecret(env.kc, env.namespace, 'api', {
      vault: { url },
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name: 'api-tls', keyFormat: 'pkcs1' } }],
    });
    await waitForReady(env.kc, env.namespace, 'api', { status: 'True' });
    const data = decoded(await readSecret(env.kc, env.namespace, 'api'));
    expect(data['tls.key']).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(
      await tlsHandshake({ key: data['tls.key']!, cert: data['tls.crt']! }, chain.root.pem),
    ).toMatchObject({ authorized: true });
  });

  it('rotates the Secret when a new certificate version is imported', async () => {
    const first = await makeChain({ keyType: 'ec-p384', length: 2 });
    await vault.importCertificate('rotating-tls', { pem: toPemBundle(first) });
    await applyVaultSecret(env.kc, env.namespace, 'rotating', {
      vault: { url },
      refreshInterval: '10s',
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name: 'rotating-tls' } }],
    });
    await waitForReady(env.kc, env.namespace, 'rotating', { status: 'True' });
    const second = await makeChain({
      keyType: 'ec-p384',
      length: 2,
      leafKey: await makeKey('ec-p384'),
    });
    await vault.importCertificate('rotating-tls', { pem: toPemBundle(second) });
    await waitFor(
      async () =>
        decoded(await readSecret(env.kc, env.namespace, 'rotating'))['tls.crt'] === second.leaf.pem,
      {
        description: 'the new certificate in the Secret',
        timeoutMs: 40_000,
      },
    );
    const data = decoded(await readSecret(env.kc, env.namespace, 'rotating'));
    expect(
      await tlsHandshake({ key: data['tls.key']!, cert: data['tls.crt']! }, second.root.pem),
    ).toMatchObject({ authorized: true });
  });

  it('warns before expiry with a condition and an event', async () => {
    const soon = new Date(Date.now() + 10 * 24 * 3_600_000);
    const chain = await makeChain({ keyType: 'ec-p256', length: 1, notAfter: soon });
    await vault.importCertificate('expiring-tls', { pem: toPemBundle(chain) });
    await applyVaultSecret(env.kc, env.namespace, 'expiring', {
      vault: { url },
      data: [{ certificate: { name: 'expiring-tls' } }],
    });
    const vs = await waitForReady(env.kc, env.namespace, 'expiring', { status: 'True' });
    expect(vs.status?.conditions?.find((c) => c.type === 'ExpiringSoon')).toMatchObject({
      status: 'True',
    });
    await waitFor(
      async () =>
        (await eventsFor(env.kc, env.namespace, 'expiring')).some(
          (e) => e.reason === 'ExpiringSoon' && e.type === 'Warning',
        ),
      {
        description: 'an ExpiringSoon warning event',
      },
    );
  });

  it('reports a non-exportable key clearly and keeps the last good Secret', async () => {
    const chain = await makeChain({ keyType: 'rsa-2048', length: 2 });
    await vault.importCertificate('locked-tls', { pem: toPemBundle(chain) });
    await applyVaultSecret(env.kc, env.namespace, 'locked', {
      vault: { url },
      refreshInterval: '10s',
      data: [{ certificate: { name: 'locked-tls' } }],
    });
    await waitForReady(env.kc, env.namespace, 'locked', { status: 'True' });
    const good = decoded(await readSecret(env.kc, env.namespace, 'locked'));

    const next = await makeChain({
      keyType: 'rsa-2048',
      length: 2,
      leafKey: await makeKey('rsa-2048'),
    });
    await vault.importCertificate('locked-tls', { pem: toPemBundle(next), exportable: false });
    const vs = await waitForReady(
      env.kc,
      env.namespace,
      'locked',
      { status: 'False', reason: 'CertificateError' },
      40_000,
    );
    expect(vs.status?.conditions?.[0]?.message).toMatch(/exportable/i);
    expect(decoded(await readSecret(env.kc, env.namespace, 'locked'))).toEqual(good);
  });

  it('computes keys with a template from fetched values', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'templated', {
      vault: { url },
      target: {
        template: { data: { url: 'postgres://app:{{ .password | urlencode }}@db:5432/app' } },
      },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(env.kc, env.namespace, 'templated', { status: 'True' });
    const data = decoded(await readSecret(env.kc, env.namespace, 'templated'));
    expect(data.url).toBe(`postgres://app:${encodeURIComponent(dbPassword)}@db:5432/app`);
    expect(data.password).toBe(dbPassword);
  });

  it('never writes a key or value into logs', () => {
    expect(env.logs.text).not.toContain('PRIVATE KEY');
    expect(env.logs.text).not.toContain(dbPassword);
  });
});
