import {
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
} from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { azureOptionsFromEnv, withExchangeCounter } from '../../../src/identity/azure-options.ts';

describe('azureOptionsFromEnv', () => {
  it.each([
    [{}, 'https://login.microsoftonline.com'],
    [{ AZURE_AUTHORITY_HOST: '' }, 'https://login.microsoftonline.com'],
    [
      { AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' },
      'https://login.microsoftonline.us',
    ],
    [{ AZURE_AUTHORITY_HOST: 'https://login.chinacloudapi.cn' }, 'https://login.chinacloudapi.cn'],
  ])('%j -> %s', (env, authorityHost) => {
    expect(azureOptionsFromEnv(env)).toEqual({ authorityHost });
  });
});

describe('withExchangeCounter', () => {
  const answering: HttpClient = {
    sendRequest: (request) =>
      Promise.resolve({ request, status: 200, headers: createHttpHeaders(), bodyAsText: '{}' }),
  };

  it("counts requests to Entra ID's token endpoint and nothing else", async () => {
    let exchanges = 0;
    const options = withExchangeCounter({ authorityHost: 'https://login.test' }, () => exchanges++);
    const pipeline = createPipelineFromOptions({ ...options, retryOptions: { maxRetries: 0 } });
    for (const additional of options.additionalPolicies ?? []) {
      pipeline.addPolicy(additional.policy, { phase: 'Retry' });
    }
    const send = (method: 'GET' | 'POST', url: string) =>
      pipeline.sendRequest(answering, createPipelineRequest({ method, url }));
    await send('GET', 'https://login.test/tenant/v2.0/.well-known/openid-configuration');
    await send('POST', 'https://login.test/tenant/oauth2/v2.0/token');
    await send('POST', 'https://login.test/tenant/oauth2/token');
    expect(exchanges).toBe(2);
  });

  it('leaves the options alone without a callback', () => {
    const options = { authorityHost: 'https://login.test' };
    expect(withExchangeCounter(options, undefined)).toBe(options);
  });
});
