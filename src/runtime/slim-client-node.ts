// Preloaded by the container's entrypoint (`node --import ./dist/runtime/slim-client-node.js`):
// client-node's KubeConfig imports its generated index, which loads every API group and model
// (about 14 MiB of source, 40 MiB of RSS) although kvsync calls the API through kube-http.ts and
// needs only the configuration factory from it. This hands config.js a module with just that,
// and client-node an undici that loads only when client-node first uses it (kvsync does not).
// Without the preload everything still works, with the full index loaded.
import { registerHooks } from 'node:module';

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const slim = new URL(`./client-node-configuration${extension}`, import.meta.url).href;
const lazyUndici = new URL(`./lazy-undici${extension}`, import.meta.url).href;
const clientNode = '/@kubernetes/client-node/dist/';

registerHooks({
  resolve(specifier, context, nextResolve) {
    const parent = context.parentURL ?? '';
    if (specifier === 'undici' && parent.includes(clientNode)) {
      return nextResolve(lazyUndici, context);
    }
    if (specifier === './gen/index.js' && parent.endsWith(`${clientNode}config.js`)) {
      return nextResolve(slim, context);
    }
    return nextResolve(specifier, context);
  },
});
