// An experiment, not part of kvsync: `npm run bench -- --kvsync-import=bench/experiments/shared-kube-dispatcher.ts`
// preloads this into kvsync. client-node's KubeConfig builds a new undici Agent on every request
// (applySecurityAuthentication -> createDispatcher), so each Secret and status write opens a new
// TLS connection with a new SecureContext. This keeps the headers it computes (tokens may rotate)
// and pins the first dispatcher per KubeConfig, to measure what sharing one would save.
import { KubeConfig } from '@kubernetes/client-node';

type Context = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = ReturnType<Context['getDispatcher']>;

// eslint-disable-next-line @typescript-eslint/unbound-method -- called below with its own `this`
const original = KubeConfig.prototype.applySecurityAuthentication;
const pinned = new WeakMap<KubeConfig, Dispatcher>();

KubeConfig.prototype.applySecurityAuthentication = async function (
  this: KubeConfig,
  context: Context,
): Promise<void> {
  await original.call(this, context);
  const dispatcher = pinned.get(this) ?? context.getDispatcher();
  pinned.set(this, dispatcher);
  if (dispatcher) context.setDispatcher(dispatcher);
};
