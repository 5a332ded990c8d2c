// A Key Vault the conformance cases run against: how kvsync's reader reaches it, and how the test
// puts objects into it (each backend in its own way; reads always go through kvsync's reader).
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { request as httpsRequest, type Agent } from 'node:https';
import { startLowkeyVault } from './lowkey-vault.ts';

export type CertificateFormat = 'pem' | 'pfx';

export interface SeedSecretOptions {
  readonly contentType?: string;
  readonly tags?: Record<string, string>;
}

export interface ConformanceBackend {
  readonly name: string;
  readonly vaultUrl: string;
  readonly credential: TokenCredential;
  /** How kvsync's reader reaches and trusts this backend. */
  readonly clientOptions: SecretClientOptions;
  /** A new version; returns its version id. */
  setSecret(name: string, value: string, options?: SeedSecretOptions): Promise<string>;
  disableSecret(name: string): Promise<void>;
  /** Imports a certificate whose backing secret is kept in the given format. */
  importCertificate(
    name: string,
    format: CertificateFormat,
    source: { pem: string; pfxBase64: string },
  ): Promise<void>;
  stop(): Promise<void>;
}

/** Lowkey Vault accepts any bearer token; this one is only there to be present. */
const anyToken: TokenCredential = {
  getToken: () =>
    Promise.resolve({
      token: 'lowkey-vault-ignores-tokens',
      expiresOnTimestamp: Date.now() + 3_600_000,
    }),
};

// Lowkey Vault serves API versions 7.2 to 7.6 and 2025-07-01 (v7.3.0+); 7.4 is well inside.
const LOWKEY_API_VERSION = '7.4';

export async function lowkeyBackend(
  jar: string,
): Promise<ConformanceBackend & { startupMs: number }> {
  const lowkey = await startLowkeyVault(jar, ['kvsync']);
  const clientOptions: SecretClientOptions = {
    serviceVersion: LOWKEY_API_VERSION,
    agent: lowkey.agent,
    // Lowkey Vault names itself as the challenge resource, which no real vault host would accept.
    // Only this suite may switch the check off; kvsync never does.
    disableChallengeResourceVerification: true,
  };
  const seeder = new SecretClient(lowkey.vaultUrl, anyToken, clientOptions);
  return {
    name: 'lowkey-vault',
    vaultUrl: lowkey.vaultUrl,
    credential: anyToken,
    clientOptions,
    startupMs: lowkey.startupMs,
    async setSecret(name, value, options = {}) {
      const secret = await seeder.setSecret(name, value, options);
      return secret.properties.version!;
    },
    async disableSecret(name) {
      const latest = await seeder.getSecret(name);
      await seeder.updateSecretProperties(name, latest.properties.version!, { enabled: false });
    },
    async importCertificate(name, format, source) {
      const contentType = format === 'pem' ? 'application/x-pem-file' : 'application/x-pkcs12';
      const body = {
        value: format === 'pem' ? source.pem : source.pfxBase64,
        ...(format === 'pfx' ? { pwd: '' } : {}),
        policy: {
          key_props: { exportable: true, kty: 'RSA', key_size: 2048, reuse_key: false },
          secret_props: { contentType },
        },
      };
      const url = `${lowkey.vaultUrl}/certificates/${name}/import?api-version=${LOWKEY_API_VERSION}`;
      await postJson(url, body, lowkey.agent);
    },
    stop: () => lowkey.stop(),
  };
}

function postJson(url: string, body: unknown, agent: Agent): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: 'Bearer lowkey-vault-ignores-tokens',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) < 300) resolve();
          // The answer is an error body (code and message), never the imported key.
          else
            reject(
              new Error(
                `POST ${new URL(url).pathname} answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`,
              ),
            );
        });
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}
