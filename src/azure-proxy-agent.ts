// Behind HTTPS_PROXY (AKS's HTTP proxy feature injects it) the Azure SDK builds its proxy agent
// without keep-alive, so every Key Vault request and every queue poll opened a CONNECT tunnel and
// a TLS session of its own. kvsync hands the SDK one keep-alive proxy agent instead, for the hosts
// the proxy applies to; HTTPS_PROXY/ALL_PROXY/HTTP_PROXY and NO_PROXY are read and matched as the
// SDK reads and matches them (a leading dot matches the domain and its subdomains, anything else
// the exact host), so the same requests go through the proxy as before.
import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';

const agents = new Map<string, Agent>();

/**
 * Only ever used for https URLs, and says so: agent-base guesses from the call stack whether a
 * request is https, which fails when Node's pool files a freed socket (the SDK's request options
 * carry no protocol), so the socket went to a pool no request looked in and every request opened
 * a new tunnel. It also saves capturing a stack trace per request.
 */
class HttpsOnlyProxyAgent extends HttpsProxyAgent<string> {
  override isSecureEndpoint(): boolean {
    return true;
  }
}

/** The proxy for an https URL, or undefined when none is configured or NO_PROXY exempts it. */
export function proxyFor(url: string, env: NodeJS.ProcessEnv): string | undefined {
  const proxy =
    variable(env, 'HTTPS_PROXY') ?? variable(env, 'ALL_PROXY') ?? variable(env, 'HTTP_PROXY');
  if (proxy === undefined) return undefined;
  const host = new URL(url).hostname;
  const bypassed = (variable(env, 'NO_PROXY') ?? '')
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern.length > 0)
    .some((pattern) =>
      pattern.startsWith('.')
        ? host.endsWith(pattern) || host === pattern.slice(1)
        : host === pattern,
    );
  return bypassed ? undefined : proxy;
}

/**
 * Client options that send `url`'s requests through the proxy on kept-alive connections, or
 * nothing (the SDK's own keep-alive agent) when no proxy applies. One agent per proxy, shared.
 */
export function proxyAgentOptions(url: string, env: NodeJS.ProcessEnv): { agent?: Agent } {
  const proxy = proxyFor(url, env);
  if (proxy === undefined) return {};
  let agent = agents.get(proxy);
  if (!agent) {
    agent = new HttpsOnlyProxyAgent(proxy, { keepAlive: true });
    agents.set(proxy, agent);
  }
  return { agent };
}

function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name] || env[name.toLowerCase()] || undefined;
}
