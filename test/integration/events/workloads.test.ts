// The workload client of rollout restarts against the real API server, for each kind it stamps:
// what it reads (paused, the current stamp), the one annotation its merge patch writes, and that a
// stamp whose signal is aborted (leadership lost) sends nothing.
import { AppsV1Api, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutTarget } from '../../../src/api/vault-secret.ts';
import { RESTART_ANNOTATION } from '../../../src/rollout/restart-stamp.ts';
import { kubeWorkloadClient } from '../../../src/rollout/workloads.ts';
import { createTestNamespace, deleteTestNamespace, kubeConfigFrom } from '../../support/kube.ts';

const kc = kubeConfigFrom(inject('controlPlane'));
const apps = kc.makeApiClient(AppsV1Api);
const selector = { matchLabels: { app: 'web' } };
const template: V1PodTemplateSpec = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] },
};

describe('the workload client of rollout restarts', () => {
  let namespace: string;
  const client = kubeWorkloadClient(kc);

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, 'workloads');
    await apps.createNamespacedDeployment({
      namespace,
      body: { metadata: { name: 'web' }, spec: { selector, template } },
    });
    await apps.createNamespacedDeployment({
      namespace,
      body: { metadata: { name: 'paused' }, spec: { selector, template, paused: true } },
    });
    await apps.createNamespacedStatefulSet({
      namespace,
      body: { metadata: { name: 'db' }, spec: { selector, template, serviceName: 'db' } },
    });
    await apps.createNamespacedDaemonSet({
      namespace,
      body: { metadata: { name: 'agent' }, spec: { selector, template } },
    });
  });

  afterAll(async () => {
    if (namespace) await deleteTestNamespace(kc, namespace);
  });

  const stampOf = async ({ kind, name }: RolloutTarget) => {
    const read = {
      Deployment: () => apps.readNamespacedDeployment({ namespace, name }),
      StatefulSet: () => apps.readNamespacedStatefulSet({ namespace, name }),
      DaemonSet: () => apps.readNamespacedDaemonSet({ namespace, name }),
    }[kind as 'Deployment' | 'StatefulSet' | 'DaemonSet'];
    return (await read()).spec?.template.metadata?.annotations?.[RESTART_ANNOTATION];
  };

  it.each<RolloutTarget>([
    { kind: 'Deployment', name: 'web' },
    { kind: 'StatefulSet', name: 'db' },
    { kind: 'DaemonSet', name: 'agent' },
  ])('$kind: reads, stamps the pod template, and sends nothing once aborted', async (target) => {
    expect(await client.read(namespace, target)).toEqual({ paused: false, stamp: undefined });
    await client.stamp(namespace, target, 'first');
    expect(await client.read(namespace, target)).toEqual({ paused: false, stamp: 'first' });

    const lost = new AbortController();
    lost.abort(new Error('lost the Lease'));
    await expect(client.stamp(namespace, target, 'second', lost.signal)).rejects.toThrow();
    expect(await stampOf(target)).toBe('first');
  });

  it('a paused Deployment reads as paused; a missing workload as undefined', async () => {
    expect(await client.read(namespace, { kind: 'Deployment', name: 'paused' })).toEqual({
      paused: true,
      stamp: undefined,
    });
    expect(await client.read(namespace, { kind: 'StatefulSet', name: 'none' })).toBeUndefined();
  });
});
