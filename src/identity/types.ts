// Which Azure identity reads a VaultSecret's vault. Resolution never calls Key Vault; it may ask
// the API server for a ServiceAccount token and Entra ID for an access token, both cached.
import type { VaultSecret } from '../api/vault-secret.ts';
import type { VaultIdentity } from '../keyvault/types.ts';

export type IdentityReason = 'IdentityNotAllowed' | 'IdentityError';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly reason: IdentityReason;

  constructor(reason: IdentityReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface IdentityResolver {
  resolve(vaultSecret: VaultSecret): Promise<VaultIdentity>;
}
