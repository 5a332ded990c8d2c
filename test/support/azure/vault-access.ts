// Who may use a vault, as Azure RBAC would say it: a role assignment per client id, at vault
// scope or on named objects only. Object-scoped identities cannot list (a vault-scope action).
import { OPERATION_INFO, type Operation } from './key-vault-routes.ts';

export interface GrantOptions {
  /** Restrict to these object names (case-insensitive); default: the whole vault. */
  objects?: readonly string[];
  /** Reads and lists only (Key Vault Secrets User); default false (Secrets Officer). */
  readOnly?: boolean;
}

interface Grant {
  objects: ReadonlySet<string> | undefined;
  readOnly: boolean;
}

export class VaultAccess {
  readonly #grants = new Map<string, Grant>();

  grant(clientId: string, options: GrantOptions = {}): void {
    this.#grants.set(clientId, {
      objects: options.objects && new Set(options.objects.map((name) => name.toLowerCase())),
      readOnly: options.readOnly ?? false,
    });
  }

  revoke(clientId: string): void {
    this.#grants.delete(clientId);
  }

  allows(clientId: string, operation: Operation, objectName: string | undefined): boolean {
    const grant = this.#grants.get(clientId);
    if (!grant) return false;
    const { kind } = OPERATION_INFO[operation];
    if (kind === 'write' && grant.readOnly) return false;
    if (!grant.objects) return true;
    if (kind === 'list' || objectName === undefined) return false;
    return grant.objects.has(objectName.toLowerCase());
  }
}
