import { describe, expect, it } from 'vitest';
import { VaultError } from '../../../src/keyvault/errors.ts';
import {
  DEFAULT_VAULT_HOST_SUFFIXES,
  isAllowedVaultHost,
  parseAllowedVaultUrl,
  parseVaultUrl,
  vaultHostSuffixes,
} from '../../../src/keyvault/vault-url.ts';

describe('parseVaultUrl', () => {
  it.each([
    [
      'https://prod-kv.vault.azure.net',
      'https://prod-kv.vault.azure.net/',
      'prod-kv.vault.azure.net',
    ],
    [
      'https://PROD-KV.Vault.Azure.Net/',
      'https://prod-kv.vault.azure.net/',
      'prod-kv.vault.azure.net',
    ],
    ['  https://kv.vault.azure.net:443/ ', 'https://kv.vault.azure.net/', 'kv.vault.azure.net'],
    ['https://kv.localhost:8443', 'https://kv.localhost:8443/', 'kv.localhost:8443'],
  ])('normalises %j', (raw, url, host) => {
    expect(parseVaultUrl(raw)).toMatchObject({ url, host });
  });

  it.each([
    ['http://kv.vault.azure.net/', /must use https/],
    ['kv.vault.azure.net', /not a URL/],
    ['https://user:pw@kv.vault.azure.net/', /user name or password/],
    ['https://kv.vault.azure.net/secrets/x', /vault's address only/],
    ['https://kv.vault.azure.net/?x=1', /vault's address only/],
    ['https://kv.vault.azure.net/#frag', /vault's address only/],
  ])('refuses %j', (raw, message) => {
    const thrown = catchError(() => parseVaultUrl(raw));
    expect(thrown).toBeInstanceOf(VaultError);
    expect((thrown as VaultError).kind).toBe('Invalid');
    expect((thrown as VaultError).message).toMatch(message);
  });
});

describe('isAllowedVaultHost', () => {
  it.each([
    ['kv.vault.azure.net', true],
    ['KV.VAULT.AZURE.NET', true],
    ['kv.vault.azure.net:443', true],
    ['kv.vault.azure.cn', true],
    ['kv.vault.usgovcloudapi.net', true],
    ['kv.vault.microsoftazure.de', true],
    ['hsm.managedhsm.azure.net', true],
    ['evil.vault.azure.net.attacker.com', false],
    ['vault.azure.net', false],
    ['.vault.azure.net', false],
    ['a.b.vault.azure.net', false],
    ['kvvault.azure.net', false],
    ['kv.vault.azure.net.', false],
    ['-kv.vault.azure.net', false],
    ['kv.localhost', false],
    ['127.0.0.1', false],
    ['[::1]:8443', false],
  ])('%s -> %s with the default suffixes', (host, allowed) => {
    expect(isAllowedVaultHost(host)).toBe(allowed);
  });

  it('accepts emulator hosts once their suffix is added, and keeps the defaults', () => {
    const suffixes = vaultHostSuffixes(['vault.localtest', '.Localhost.']);
    expect(suffixes).toEqual([...DEFAULT_VAULT_HOST_SUFFIXES, '.vault.localtest', '.localhost']);
    expect(isAllowedVaultHost('kv1.vault.localtest', suffixes)).toBe(true);
    expect(isAllowedVaultHost('kvsync.localhost:8443', suffixes)).toBe(true);
    expect(isAllowedVaultHost('kv.vault.azure.net', suffixes)).toBe(true);
    expect(isAllowedVaultHost('kv1.vault.localtest.attacker.com', suffixes)).toBe(false);
  });

  it.each(['', '.', 'bad suffix', 'a..b', '-x.com'])('refuses the suffix %j', (suffix) => {
    expect(() => vaultHostSuffixes([suffix])).toThrow(/not a DNS suffix/);
  });
});

describe('parseAllowedVaultUrl', () => {
  it('returns the normalised URL of an allowed vault', () => {
    expect(parseAllowedVaultUrl('https://KV.vault.azure.net').url).toBe(
      'https://kv.vault.azure.net/',
    );
  });

  it('names the host and the allowed suffixes when refusing', () => {
    expect(() => parseAllowedVaultUrl('https://evil.vault.azure.net.attacker.com/')).toThrow(
      /evil\.vault\.azure\.net\.attacker\.com is not a Key Vault host \(allowed: \*\.vault\.azure\.net/,
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
