import { describe, expect, it } from 'vitest';
import { proxyAgentOptions, proxyFor } from '../../src/azure-proxy-agent.ts';

const vault = 'https://payments.vault.azure.net/';
const proxy = 'http://proxy.internal:3128';

describe('proxyFor: the proxy the Azure SDK itself would use', () => {
  it('none without a proxy variable', () => {
    expect(proxyFor(vault, {})).toBeUndefined();
  });

  it('HTTPS_PROXY first, then ALL_PROXY, then HTTP_PROXY, upper or lower case', () => {
    expect(proxyFor(vault, { HTTPS_PROXY: proxy, HTTP_PROXY: 'http://other:1' })).toBe(proxy);
    expect(proxyFor(vault, { https_proxy: proxy })).toBe(proxy);
    expect(proxyFor(vault, { ALL_PROXY: proxy, HTTP_PROXY: 'http://other:1' })).toBe(proxy);
    expect(proxyFor(vault, { HTTP_PROXY: proxy })).toBe(proxy);
  });

  it('NO_PROXY: a leading dot exempts the domain and its subdomains, anything else one host', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: proxy, NO_PROXY: noProxy });
    expect(proxyFor(vault, env('.vault.azure.net'))).toBeUndefined();
    expect(proxyFor('https://vault.azure.net/', env('.vault.azure.net'))).toBeUndefined();
    expect(proxyFor(vault, env(' localhost , payments.vault.azure.net'))).toBeUndefined();
    expect(proxyFor(vault, env('vault.azure.net'))).toBe(proxy);
    expect(proxyFor(vault, env('.azure.com,127.0.0.1'))).toBe(proxy);
    expect(proxyFor(vault, { HTTPS_PROXY: proxy, no_proxy: '.azure.net' })).toBeUndefined();
  });
});

describe('proxyAgentOptions', () => {
  it('one kept-alive agent per proxy, shared; nothing when no proxy applies', () => {
    const a = proxyAgentOptions(vault, { HTTPS_PROXY: proxy }).agent;
    const b = proxyAgentOptions('https://other.vault.azure.net/', { HTTPS_PROXY: proxy }).agent;
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect((a as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    expect(proxyAgentOptions(vault, {})).toEqual({});
  });
});
