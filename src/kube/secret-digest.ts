// kvsync's Secrets as its informer keeps them: the values replaced by one digest of the data.
// Deciding whether a Secret holds what kvsync would write needs no more than that, and keeping
// every managed Secret's values (certificate chains and keys, several KiB each) would cost heap
// and keep secret material in the process for nothing. The digest stays in memory; it is never
// written anywhere (the rollout stamps written to workloads are an HMAC of it, restart-stamp.ts).
import { createHash } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { kubeInformer, type Informer, type InformerOptions } from '../runtime/informer.ts';

/** A Secret without its values: what may be read from it without holding them. */
export type SecretWithoutData = Omit<V1Secret, 'data' | 'stringData'>;

/** A Secret whose `data` is replaced by `dataDigest(data)`. */
export type DigestedSecret = SecretWithoutData & { readonly dataDigest: string };

/** SHA-256 of the data (base64 values, as in the Secret) in a canonical order, base64. */
export function dataDigest(data: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) {
    const value = data[key] ?? '';
    // Length-prefixed, so no two different maps serialise alike.
    hash.update(`${key.length}:${key}${value.length}:${value}`);
  }
  return hash.digest('base64');
}

/**
 * `secret` with its data replaced by their digest: of all of it, or only of `keys` (the part of a
 * Merge target that kvsync writes; a key the Secret lacks is left out, so the digest differs).
 */
export function digestSecret(secret: V1Secret, keys?: Iterable<string>): DigestedSecret {
  const rest: V1Secret = { ...secret };
  const data = rest.data ?? {};
  delete rest.data;
  delete rest.stringData;
  const digested =
    keys === undefined
      ? data
      : // fromEntries defines each key as an own property: an assignment would drop "__proto__".
        Object.fromEntries(
          [...keys].filter((key) => Object.hasOwn(data, key)).map((key) => [key, data[key]!]),
        );
  return { ...rest, dataDigest: dataDigest(digested) };
}

/** Secrets watched and cached without their values: each kept as `digestSecret` makes it. */
export function secretsWithoutValues(
  kubeConfig: KubeConfig,
  options: Omit<InformerOptions<V1Secret>, 'source' | 'transform'>,
): Informer<V1Secret, DigestedSecret> {
  return kubeInformer<V1Secret, DigestedSecret>(
    kubeConfig,
    { apiVersion: 'v1', plural: 'secrets' },
    { ...options, transform: (secret) => digestSecret(secret) },
  );
}
