// Options that make the real, unmodified Azure SDK clients (SecretClient, WorkloadIdentityCredential,
// ClientSecretCredential, ...) reach the doubles from inside the test process: an agent that
// tunnels through the doubles' CONNECT proxy and trusts the test CA (the core pipeline ignores
// `tlsOptions` once a proxy is in play, so trust has to ride on the agent), the fake authority,
// and no instance discovery (which would ask login.microsoftonline.com about it).
import type { Agent } from 'node:https';

export interface AzureClientOptions {
  /** core-rest-pipeline's `agent` option: it takes precedence over HTTPS_PROXY in the environment. */
  agent: Agent;
  authorityHost: string;
  disableInstanceDiscovery: true;
}

export function azureClientOptions(doubles: {
  agent: Agent;
  authorityHost: string;
}): AzureClientOptions {
  return {
    agent: doubles.agent,
    authorityHost: doubles.authorityHost,
    disableInstanceDiscovery: true,
  };
}
