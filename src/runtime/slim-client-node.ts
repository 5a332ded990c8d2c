// Preloaded by the container's entrypoint (`node --import ./dist/runtime/slim-client-node.js`):
// client-node's KubeConfig imports its generated index, which loads every API group and model
// (about 14 MiB of source, 40 MiB of RSS) although kvsync calls the API through kube-http.ts and
// needs only the configuration factory from it. This hands config.js a module with just that.
// Without the preload everything still works, with the full index loaded.
import { registerHooks } from 'node:module';

const slim = new URL(
  `./client-node-configuration${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      specifier === './gen/index.js' &&
      context.parentURL?.endsWith('/@kubernetes/client-node/dist/config.js')
    ) {
      return nextResolve(slim, context);
    }
    return nextResolve(specifier, context);
  },
});
