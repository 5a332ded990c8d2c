// The operator's own workload identity, as the Azure Workload Identity webhook injects it.
import type { TokenCredential } from '@azure/core-auth';
import type { IdentityResolver } from './types.ts';

export function defaultIdentityResolver(credential: TokenCredential): IdentityResolver {
  const identity = { key: 'default', credential };
  return { resolve: () => Promise.resolve(identity) };
}
