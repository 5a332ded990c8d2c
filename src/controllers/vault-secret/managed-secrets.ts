// The cache of kvsync's own Secrets, for drift detection: watched by their managed-by label and
// kept without their values (the digest of the data stands for them, see secret-digest.ts).
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { secretsWithoutValues, type DigestedSecret } from '../../kube/secret-digest.ts';
import type { Informer, InformerStatus } from '../../runtime/informer.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from './desired-secret.ts';

export function managedSecretsInformer(
  kubeConfig: KubeConfig,
  options: { namespaces: string[]; onStatus?: (status: InformerStatus) => void },
): Informer<V1Secret, DigestedSecret> {
  return secretsWithoutValues(kubeConfig, {
    ...options,
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
  });
}
