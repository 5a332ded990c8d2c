// The benchmark's population: a vault of N secrets and N VaultSecrets with two references each
// (secret i is read by VaultSecrets i and i-1, so each secret is referenced twice).
import { randomBytes } from 'node:crypto';
import type { VaultSecretSpec } from '../src/api/vault-secret.ts';
import type { FakeVault } from '../test/support/azure/index.ts';

export const REFERENCES = 2;

export function seedVault(vault: FakeVault, n: number): string[] {
  const names = Array.from({ length: n }, (_, i) => `s-${pad(i, n)}`);
  for (const name of names) vault.setSecret(name, newValue());
  return names;
}

export function specFor(
  url: string,
  refreshInterval: string,
  a: string,
  b: string,
): VaultSecretSpec {
  return {
    vault: { url },
    refreshInterval,
    data: [
      { key: 'a', secret: { name: a } },
      { key: 'b', secret: { name: b } },
    ],
  };
}

export function vaultSecretName(i: number, n: number): string {
  return `vs-${pad(i, n)}`;
}

function pad(i: number, n: number): string {
  return String(i).padStart(String(n - 1).length, '0');
}

/** Random, never printed: the benchmark only needs values to differ. */
export function newValue(): string {
  return randomBytes(24).toString('base64url');
}
