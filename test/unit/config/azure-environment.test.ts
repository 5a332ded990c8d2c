// Credential options from the environment: instance discovery only for Microsoft's login hosts.
import { describe, expect, it } from 'vitest';
import { credentialOptionsFromEnv, isMicrosoftLoginHost } from '../../../src/azure-environment.ts';
import { ConfigError } from '../../../src/config.ts';

describe('credentialOptionsFromEnv', () => {
  it.each([
    [undefined, 'https://login.microsoftonline.com', false],
    ['https://login.microsoftonline.com/', 'https://login.microsoftonline.com', false],
    ['https://login.chinacloudapi.cn', 'https://login.chinacloudapi.cn', false],
    ['https://login.microsoftonline.us', 'https://login.microsoftonline.us', false],
    ['https://login.localtest', 'https://login.localtest', true],
    ['https://adfs.azurestack.example:8443', 'https://adfs.azurestack.example:8443', true],
  ])('AZURE_AUTHORITY_HOST=%s', (host, authorityHost, disableInstanceDiscovery) => {
    const env = host === undefined ? {} : { AZURE_AUTHORITY_HOST: host };
    expect(credentialOptionsFromEnv(env)).toEqual({ authorityHost, disableInstanceDiscovery });
  });

  it.each(['http://login.example', 'login.example', 'ftp://x'])('refuses %s', (host) => {
    expect(() => credentialOptionsFromEnv({ AZURE_AUTHORITY_HOST: host })).toThrow(ConfigError);
  });

  it('matches host names exactly, not by suffix', () => {
    expect(isMicrosoftLoginHost('https://login.microsoftonline.com.attacker.example')).toBe(false);
    expect(isMicrosoftLoginHost('https://LOGIN.MICROSOFTONLINE.COM')).toBe(true);
  });
});
