// An in-memory KubernetesPort: ServiceAccounts, Secrets and TokenRequests, with call counts.
import type {
  KubernetesPort,
  ServiceAccountInfo,
  TokenRequestSpec,
} from '../../../src/identity/kubernetes-port.ts';
import { serviceAccountNotFound } from '../../../src/identity/kubernetes-port.ts';

export class FakeKubernetes implements KubernetesPort {
  readonly serviceAccounts = new Map<string, ServiceAccountInfo>();
  readonly secrets = new Map<string, Record<string, string>>();
  readonly tokenRequests: { namespace: string; name: string; spec: TokenRequestSpec }[] = [];
  /** What the API server grants, in seconds (it may shorten what was asked). */
  grantedSeconds: number | undefined;
  /** Makes the next TokenRequests fail like an unreachable API server. */
  failTokenRequests = false;
  now: () => number = Date.now;
  #serial = 0;

  addServiceAccount(
    namespace: string,
    name: string,
    annotations: Record<string, string> = {},
  ): void {
    this.serviceAccounts.set(`${namespace}/${name}`, { annotations });
  }

  // As the real port: nothing is sent once the signal is aborted.
  async getServiceAccount(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<ServiceAccountInfo | undefined> {
    await Promise.resolve();
    signal?.throwIfAborted();
    return this.serviceAccounts.get(`${namespace}/${name}`);
  }

  async createToken(namespace: string, name: string, spec: TokenRequestSpec, signal?: AbortSignal) {
    signal?.throwIfAborted();
    this.tokenRequests.push({ namespace, name, spec });
    // A real API server answers after a round trip; concurrent callers overlap meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failTokenRequests) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    if (!this.serviceAccounts.has(`${namespace}/${name}`))
      throw serviceAccountNotFound(namespace, name);
    const seconds = this.grantedSeconds ?? spec.expirationSeconds;
    return {
      token: fakeJwt({
        iss: 'https://issuer.test',
        sub: `system:serviceaccount:${namespace}:${name}`,
        n: ++this.#serial,
      }),
      expiresAt: new Date(this.now() + seconds * 1000),
    };
  }

  async getSecret(namespace: string, name: string, signal?: AbortSignal) {
    await Promise.resolve();
    signal?.throwIfAborted();
    return this.secrets.get(`${namespace}/${name}`);
  }
}

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.`;
}
