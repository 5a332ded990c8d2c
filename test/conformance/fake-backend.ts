// The fake Key Vault (test/support/azure) as a conformance backend. It checks real tokens: the
// reader authenticates as an app registered in the fake Entra ID with a client secret and granted
// read access (Key Vault Secrets User), and challenge resource verification stays on.
import { ClientSecretCredential } from '@azure/identity';
import { randomUUID } from 'node:crypto';
import { startAzureDoubles } from '../support/azure/index.ts';
import type { ConformanceBackend } from './backends.ts';

export async function fakeBackend(): Promise<ConformanceBackend> {
  const azure = await startAzureDoubles();
  try {
    const vault = azure.keyVault.createVault('conformance');
    const clientSecret = randomUUID();
    const app = azure.entra.registerApp({ clientSecret });
    vault.grant(app.clientId, { readOnly: true });
    const credential = new ClientSecretCredential(
      azure.tenantId,
      app.clientId,
      clientSecret,
      azure.clientOptions,
    );
    return {
      name: 'fake-key-vault',
      vaultUrl: vault.url,
      credential,
      clientOptions: { agent: azure.agent },
      setSecret: (name, value, options = {}) =>
        Promise.resolve(vault.setSecret(name, value, options).version),
      disableSecret: (name) => Promise.resolve(vault.updateSecret(name, { enabled: false })),
      async importCertificate(name, format, source) {
        await vault.importCertificate(
          name,
          format === 'pem' ? { pem: source.pem } : { pfxBase64: source.pfxBase64 },
        );
      },
      stop: () => azure.close(),
    };
  } catch (err) {
    await azure.close();
    throw err;
  }
}
