// The informer against a real API server: it caches only the Secrets its label selector names,
// follows their whole life (add, update, label removed, delete) and never stores managedFields.
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeInformer, type Informer } from '../../../src/runtime/informer.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  waitFor,
} from '../../support/kube.ts';

const kc = kubeConfigFrom(inject('controlPlane'));
const core = kc.makeApiClient(CoreV1Api);
const selected = { 'kvsync.io/informer-test': 'yes' };

function secret(namespace: string, name: string, labels: Record<string, string>, value: string) {
  return {
    namespace,
    body: {
      metadata: { name, namespace, labels },
      stringData: { value },
    } satisfies V1Secret,
  };
}

describe('informer on the real API server', () => {
  let namespace: string;
  let other: string;
  let informer: Informer<V1Secret>;
  const changes: string[] = [];

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, 'informer');
    other = await createTestNamespace(kc, 'informer-other');
    // Present before the informer starts: it must come from the initial list.
    await core.createNamespacedSecret(secret(namespace, 'listed', selected, 'one'));
    informer = kubeInformer<V1Secret>(
      kc,
      { apiVersion: 'v1', plural: 'secrets' },
      { namespaces: [namespace], labelSelector: 'kvsync.io/informer-test=yes' },
    );
    informer.onChange((key) => changes.push(key));
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(30_000));
  });

  afterAll(async () => {
    await informer?.stop();
    await deleteTestNamespace(kc, namespace);
    await deleteTestNamespace(kc, other);
  });

  it('lists the selected Secrets and stores them without managedFields', async () => {
    const live = await core.readNamespacedSecret({ name: 'listed', namespace });
    expect(live.metadata?.managedFields?.length).toBeGreaterThan(0);
    const cached = informer.store.get(`${namespace}/listed`);
    expect(cached?.metadata?.uid).toBe(live.metadata?.uid);
    expect(cached?.metadata?.managedFields).toBeUndefined();
    expect(changes).toContain(`${namespace}/listed`);
  });

  it('sees an added Secret only when it carries the label, and only in its namespaces', async () => {
    await core.createNamespacedSecret(secret(namespace, 'unlabelled', {}, 'x'));
    await core.createNamespacedSecret(secret(other, 'elsewhere', selected, 'x'));
    await core.createNamespacedSecret(secret(namespace, 'added', selected, 'x'));
    // Events arrive in resourceVersion order: once `added` is here, the earlier ones would be too.
    await waitFor(() => informer.store.get(`${namespace}/added`), {
      description: 'the labelled Secret in the cache',
    });
    expect(informer.store.get(`${namespace}/unlabelled`)).toBeUndefined();
    expect(informer.store.keys().some((key) => key.startsWith(`${other}/`))).toBe(false);
    expect(changes).not.toContain(`${namespace}/unlabelled`);
    expect(informer.store.get(`${namespace}/added`)?.metadata?.managedFields).toBeUndefined();
  });

  it('follows updates', async () => {
    const before = changes.length;
    await core.replaceNamespacedSecret({
      name: 'listed',
      namespace,
      body: {
        metadata: { name: 'listed', namespace, labels: selected },
        stringData: { value: 'two' },
      },
    });
    const expected = Buffer.from('two').toString('base64');
    await waitFor(() => informer.store.get(`${namespace}/listed`)?.data?.value === expected, {
      description: 'the updated Secret in the cache',
    });
    expect(changes.slice(before)).toContain(`${namespace}/listed`);
    expect(informer.store.get(`${namespace}/listed`)?.metadata?.managedFields).toBeUndefined();
  });

  it('drops a Secret whose label is removed, and one that is deleted', async () => {
    await core.createNamespacedSecret(secret(namespace, 'deleted', selected, 'x'));
    await waitFor(() => informer.store.get(`${namespace}/deleted`), {
      description: 'the Secret to delete in the cache',
    });
    await core.replaceNamespacedSecret({
      name: 'added',
      namespace,
      body: { metadata: { name: 'added', namespace, labels: {} }, stringData: { value: 'x' } },
    });
    await core.deleteNamespacedSecret({ name: 'deleted', namespace });
    await waitFor(
      () =>
        !informer.store.get(`${namespace}/added`) && !informer.store.get(`${namespace}/deleted`),
      { description: 'both Secrets gone from the cache' },
    );
    expect(informer.store.keys()).toEqual([`${namespace}/listed`]);
  });
});
