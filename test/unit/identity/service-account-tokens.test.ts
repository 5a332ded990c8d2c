import { describe, expect, it } from 'vitest';
import {
  ServiceAccountTokens,
  TOKEN_EXCHANGE_AUDIENCE,
} from '../../../src/identity/service-account-tokens.ts';
import { IdentityError } from '../../../src/identity/types.ts';
import { FakeKubernetes } from './fake-kubernetes.ts';

const minute = 60_000;

function setup() {
  let now = Date.UTC(2026, 10, 25, 10);
  const kubernetes = new FakeKubernetes();
  kubernetes.now = () => now;
  kubernetes.addServiceAccount('payments', 'app');
  let requests = 0;
  const tokens = new ServiceAccountTokens({
    kubernetes,
    now: () => now,
    onTokenRequest: () => requests++,
  });
  return {
    kubernetes,
    tokens,
    requests: () => requests,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ServiceAccountTokens', () => {
  it('asks for an hour-long token for the token exchange audience', async () => {
    const { kubernetes, tokens } = setup();
    await tokens.get('payments', 'app');
    expect(kubernetes.tokenRequests).toEqual([
      {
        namespace: 'payments',
        name: 'app',
        spec: { audience: TOKEN_EXCHANGE_AUDIENCE, expirationSeconds: 3600 },
      },
    ]);
  });

  it('reuses the token until 80% of its lifetime, then requests a new one', async () => {
    const { tokens, requests, advance } = setup();
    const first = await tokens.get('payments', 'app');
    for (let i = 0; i < 47; i++) {
      advance(minute);
      expect(await tokens.get('payments', 'app')).toBe(first);
    }
    expect(requests()).toBe(1);
    advance(minute + 1); // past 48 of 60 minutes
    const second = await tokens.get('payments', 'app');
    expect(second).not.toBe(first);
    expect(requests()).toBe(2);
  });

  it('follows the lifetime the API server granted when it is shorter than asked', async () => {
    const { kubernetes, tokens, requests, advance } = setup();
    kubernetes.grantedSeconds = 600;
    await tokens.get('payments', 'app');
    advance(7 * minute);
    await tokens.get('payments', 'app');
    expect(requests()).toBe(1);
    advance(2 * minute); // 9 of 10 minutes
    await tokens.get('payments', 'app');
    expect(requests()).toBe(2);
  });

  it('sends one TokenRequest for many concurrent callers', async () => {
    const { tokens, requests } = setup();
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.get('payments', 'app')));
    expect(new Set(all).size).toBe(1);
    expect(requests()).toBe(1);
  });

  it('keeps tokens per ServiceAccount', async () => {
    const { kubernetes, tokens, requests } = setup();
    kubernetes.addServiceAccount('orders', 'app');
    const a = await tokens.get('payments', 'app');
    const b = await tokens.get('orders', 'app');
    expect(a).not.toBe(b);
    expect(requests()).toBe(2);
  });

  it('uses a still-valid token when the API server is unreachable at refresh time', async () => {
    const { kubernetes, tokens, advance } = setup();
    const first = await tokens.get('payments', 'app');
    advance(50 * minute);
    kubernetes.failTokenRequests = true;
    expect(await tokens.get('payments', 'app')).toBe(first);
    advance(11 * minute); // expired
    await expect(tokens.get('payments', 'app')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('does not fall back to a cached token once the ServiceAccount is gone', async () => {
    const { kubernetes, tokens, advance } = setup();
    await tokens.get('payments', 'app');
    advance(50 * minute);
    kubernetes.serviceAccounts.delete('payments/app');
    const failure = tokens.get('payments', 'app');
    await expect(failure).rejects.toBeInstanceOf(IdentityError);
    await expect(failure).rejects.toThrow('ServiceAccount app not found in namespace payments');
  });

  it('knows the issuer of the token it holds, for error messages', async () => {
    const { tokens } = setup();
    expect(tokens.issuerOf('payments', 'app')).toBeUndefined();
    await tokens.get('payments', 'app');
    expect(tokens.issuerOf('payments', 'app')).toBe('https://issuer.test');
  });
});
