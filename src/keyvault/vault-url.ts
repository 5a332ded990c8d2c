// Where kvsync may send a Key Vault access token. A VaultSecret names its vault by URL; before any
// token leaves the process the URL is normalised and its host checked against an allow-list of
// Key Vault DNS suffixes, so a user cannot point kvsync (and its token) at a host they control.
import { VaultError } from './errors.ts';

/** The Key Vault and Managed HSM DNS suffixes of the Azure clouds. */
export const DEFAULT_VAULT_HOST_SUFFIXES: readonly string[] = Object.freeze([
  '.vault.azure.net',
  '.vault.azure.cn',
  '.vault.usgovcloudapi.net',
  '.vault.microsoftazure.de',
  '.managedhsm.azure.net',
]);

export interface VaultUrl {
  /** `https://<host>/`: lower-case host, default port dropped, always one trailing slash. */
  readonly url: string;
  /** Host name and, when not 443, `:port`. Bounded by the set of vaults: the metrics label. */
  readonly host: string;
  /** Host name alone, as the allow-list sees it. */
  readonly hostname: string;
}

// One DNS label: what comes before the suffix (Key Vault names are 3-24 chars; emulators differ).
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Parses and normalises a vault URL; anything but a bare `https://host[:port][/]` is refused. */
export function parseVaultUrl(raw: string): VaultUrl {
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw invalid(`vault URL ${JSON.stringify(raw)} is not a URL`);
  }
  if (parsed.protocol !== 'https:') {
    throw invalid(`vault URL ${JSON.stringify(raw)} must use https`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw invalid('vault URL must not carry a user name or password');
  }
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash) {
    throw invalid(
      `vault URL ${JSON.stringify(raw)} must be the vault's address only, like https://<name>.vault.azure.net/`,
    );
  }
  // URL already lower-cases and punycodes the host and drops the default port.
  const hostname = parsed.hostname;
  const host = parsed.port === '' ? hostname : `${hostname}:${parsed.port}`;
  return { url: `https://${host}/`, host, hostname };
}

/**
 * Normalises suffixes for {@link isAllowedVaultHost}: lower-case, one leading dot. Pass the
 * defaults plus the operator's extra suffixes (emulators, tests) to extend the list.
 */
export function vaultHostSuffixes(
  extra: readonly string[] = [],
  base: readonly string[] = DEFAULT_VAULT_HOST_SUFFIXES,
): readonly string[] {
  const out = new Set<string>();
  for (const raw of [...base, ...extra]) {
    const name = raw
      .trim()
      .toLowerCase()
      .replace(/^\.+|\.+$/g, '');
    if (name === '' || !name.split('.').every((label) => DNS_LABEL.test(label))) {
      throw invalid(`vault host suffix ${JSON.stringify(raw)} is not a DNS suffix`);
    }
    out.add(`.${name}`);
  }
  return [...out];
}

/**
 * True when `host` (a host name, optionally with `:port`) is exactly one DNS label followed by
 * one of `suffixes`: `kv.vault.azure.net` yes; `vault.azure.net`, `a.b.vault.azure.net` and
 * `kv.vault.azure.net.attacker.com` no.
 */
export function isAllowedVaultHost(
  host: string,
  suffixes: readonly string[] = DEFAULT_VAULT_HOST_SUFFIXES,
): boolean {
  const hostname = stripPort(host.toLowerCase());
  return suffixes.some((rawSuffix) => {
    const suffix = rawSuffix.toLowerCase();
    if (!suffix.startsWith('.') || !hostname.endsWith(suffix)) return false;
    return DNS_LABEL.test(hostname.slice(0, -suffix.length));
  });
}

/** Parses `raw` and refuses it unless its host is allowed; the one check before any request. */
export function parseAllowedVaultUrl(
  raw: string,
  suffixes: readonly string[] = DEFAULT_VAULT_HOST_SUFFIXES,
): VaultUrl {
  const vaultUrl = parseVaultUrl(raw);
  if (!isAllowedVaultHost(vaultUrl.hostname, suffixes)) {
    throw invalid(
      `vault host ${vaultUrl.hostname} is not a Key Vault host (allowed: *${suffixes.join(', *')}); ` +
        'an operator can allow more suffixes for emulators',
    );
  }
  return vaultUrl;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host; // IPv6 literal: never a vault host
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function invalid(message: string): VaultError {
  return new VaultError('Invalid', message);
}
