// Credential options from the pod's environment. The authority host comes from
// AZURE_AUTHORITY_HOST (the workload identity webhook injects it); @azure/identity has no
// variable for instance discovery, and MSAL's discovery asks login.microsoftonline.com to
// vouch for the authority, which fails for any other host (Azure Stack, emulators, test
// doubles). So discovery stays on for Microsoft's own login hosts and is off for the rest.
// Proxy (HTTPS_PROXY/NO_PROXY) and extra CAs (NODE_EXTRA_CA_CERTS) the SDK and Node read
// themselves.
import { ConfigError } from './config.ts';
import { azureOptionsFromEnv, type AzureCredentialOptions } from './identity/azure-options.ts';

const microsoftLoginHosts = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.de',
  'login.microsoft.com',
  'login.windows.net',
  'login-us.microsoftonline.com',
  'sts.windows.net',
]);

export function isMicrosoftLoginHost(authorityHost: string): boolean {
  try {
    return microsoftLoginHosts.has(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** Throws ConfigError when AZURE_AUTHORITY_HOST is not an https URL (MSAL requires https). */
export function credentialOptionsFromEnv(env: NodeJS.ProcessEnv): AzureCredentialOptions {
  const options = azureOptionsFromEnv(env);
  const authorityHost = options.authorityHost ?? '';
  if (!/^https:\/\/[^/?#]+/.test(authorityHost)) {
    throw new ConfigError(
      `AZURE_AUTHORITY_HOST: expected an https URL like https://login.microsoftonline.com, got ${JSON.stringify(authorityHost)}`,
    );
  }
  return { ...options, disableInstanceDiscovery: !isMicrosoftLoginHost(authorityHost) };
}
