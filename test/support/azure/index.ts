// Key Vault and Entra ID test doubles on loopback HTTPS, reached through a CONNECT proxy that
// resolves `*.localtest`, trusted through a CA made for the run. Used by integration tests, the
// demo and the benchmark:
//
//   const azure = await startAzureDoubles({ kubeIssuerCaFile: controlPlane.caFile });
//   const app = azure.entra.registerApp({ federatedCredentials: [{ issuer, subject }] });
//   const vault = azure.keyVault.createVault('payments');
//   vault.setSecret('db-password', 'hunter2');
//   vault.grant(app.clientId);
//   new SecretClient(azure.vaultUrl('payments'), credential, azure.clientOptions);
//
// A separate process needs only `azure.processEnv()` (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, ...).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tokenIssuer } from './access-tokens.ts';
import { azureClientOptions, type AzureClientOptions } from './client-options.ts';
import { startConnectProxy } from './connect-proxy.ts';
import { FakeEntra } from './entra.ts';
import { describeRequest, sendJson } from './http-util.ts';
import { FakeKeyVault } from './key-vault.ts';
import { createTestPki, LOGIN_HOST, VAULT_DNS_SUFFIX } from './tls.ts';
import { startTestIssuer, type TestIssuer } from './test-issuer.ts';
import { TunnelingAgent } from './tunneling-agent.ts';

export { azureClientOptions, type AzureClientOptions } from './client-options.ts';
export {
  serviceAccountSubject,
  TOKEN_EXCHANGE_AUDIENCE,
  type FakeEntra,
  type AppRegistration,
} from './entra.ts';
export type { FakeKeyVault } from './key-vault.ts';
export type { FakeVault, SecretOptions } from './fake-vault.ts';
export type { Fault, FaultScope, ThrottleOptions } from './vault-faults.ts';
export type { GrantOptions } from './vault-access.ts';
export type { RequestCount, CountFilter } from './request-counters.ts';
export type { CertificateSource } from './certificate-import.ts';
export type { TestIssuer, ServiceAccountTokenRequest } from './test-issuer.ts';

export interface AzureDoublesOptions {
  /** CA that signed the assertion issuer's serving certificate (the test API server's caFile). */
  kubeIssuerCaFile?: string;
  /** Default: a fixed, recognisable GUID. */
  tenantId?: string;
  /** One line per request when set (default: silent). Lines never hold values, bodies or tokens. */
  log?: (line: string) => void;
}

export interface AzureDoubles {
  /** The test CA, on disk for NODE_EXTRA_CA_CERTS and in memory. */
  readonly caFile: string;
  readonly caPem: string;
  readonly tenantId: string;
  /** `https://login.localtest`: AZURE_AUTHORITY_HOST. */
  readonly authorityHost: string;
  /** `http://127.0.0.1:<port>`: HTTPS_PROXY for clients in other processes. */
  readonly proxyUrl: string;
  /** CONNECT tunnels the proxy opened (one per TCP connection a client made to a double). */
  readonly proxyStats: { readonly tunnelled: number; readonly refused: number };
  /** `https://vault.localtest`: what the challenge names and tokens are audienced for. */
  readonly keyVaultResource: string;
  /** `vault.localtest`: the DNS suffix to allow for vault URLs. */
  readonly vaultDnsSuffix: string;
  readonly entra: FakeEntra;
  readonly keyVault: FakeKeyVault;
  /** Spread into SecretClient / credential options in this process. */
  readonly clientOptions: AzureClientOptions;
  /** The tunnelling agent behind clientOptions, for other HTTP clients in this process. */
  readonly agent: TunnelingAgent;
  vaultUrl(name: string): string;
  /** A service-account token issuer without an API server (served with the doubles' TLS, so
   * the fake Entra trusts it); closed with the doubles. */
  startTestIssuer(): Promise<TestIssuer>;
  /** Environment for a separate process that should reach the doubles (merge into its env). */
  processEnv(): Record<string, string>;
  close(): Promise<void>;
}

const DEFAULT_TENANT_ID = '72f988bf-0000-4000-8000-00000000cafe';

export async function startAzureDoubles(options: AzureDoublesOptions = {}): Promise<AzureDoubles> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-azure-'));
  const closers: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const log = options.log;
    const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
    const authorityHost = `https://${LOGIN_HOST}`;
    const now = () => new Date();
    const pki = await createTestPki(dir);
    const issuerCaPems = [pki.caPem];
    if (options.kubeIssuerCaFile)
      issuerCaPems.push(await readFile(options.kubeIssuerCaFile, 'utf8'));

    const keyVaultResource = `https://${VAULT_DNS_SUFFIX}`;
    const entra = await FakeEntra.create({
      authorityHost,
      tenantId,
      resources: [keyVaultResource],
      issuerCaPems,
      now,
      log: log ?? (() => {}),
    });
    const keyVault = new FakeKeyVault({
      dnsSuffix: VAULT_DNS_SUFFIX,
      authorityHost,
      tenantId,
      verifyAccessToken: (token) => entra.verifyAccessToken(token),
      tokenIssuer,
      now,
      log,
    });
    const entraServer = await listen(pki.server, (req, res) => entra.handle(req, res), log);
    closers.push(() => stop(entraServer.server));
    const keyVaultServer = await listen(pki.server, (req, res) => keyVault.handle(req, res), log);
    closers.push(() => stop(keyVaultServer.server));

    const proxy = await startConnectProxy((host) => {
      if (host === LOGIN_HOST) return entraServer.port;
      return keyVault.hasVaultHost(host) ? keyVaultServer.port : undefined;
    }, log);
    closers.push(() => proxy.close());
    const agent = new TunnelingAgent(proxy.port, pki.caPem);
    closers.push(() => {
      agent.destroy();
      return Promise.resolve();
    });

    return {
      caFile: pki.caFile,
      caPem: pki.caPem,
      tenantId,
      authorityHost,
      proxyUrl: proxy.url,
      proxyStats: proxy.stats,
      keyVaultResource,
      vaultDnsSuffix: VAULT_DNS_SUFFIX,
      entra,
      keyVault,
      agent,
      clientOptions: azureClientOptions({ agent, authorityHost }),
      vaultUrl: (name) => keyVault.vaultUrl(name),
      startTestIssuer: async () => {
        const issuer = await startTestIssuer(pki.server);
        closers.push(() => issuer.close());
        return issuer;
      },
      processEnv: () => ({
        HTTPS_PROXY: proxy.url,
        // The API server and other loopback services are reached directly, as in a cluster.
        NO_PROXY: '127.0.0.1,localhost',
        NODE_EXTRA_CA_CERTS: pki.caFile,
        AZURE_AUTHORITY_HOST: authorityHost,
        AZURE_TENANT_ID: tenantId,
      }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

async function listen(
  tls: { certPem: string; keyPem: string },
  handler: Handler,
  log: ((line: string) => void) | undefined,
): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      const message = `test double failed on ${describeRequest(req)}: ${(err as Error).message}`;
      log?.(message);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: { code: 'InternalServerError', message } });
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { server, port: (server.address() as AddressInfo).port };
}

function stop(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}
