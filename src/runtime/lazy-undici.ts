// What client-node imports from undici (see slim-client-node.ts), loaded only when client-node
// first uses it: kvsync never does (kube-http.ts talks node:https), and undici's module graph
// costs about 25 MiB of RSS.
import { createRequire } from 'node:module';
import type * as UndiciModule from 'undici';

type Undici = typeof UndiciModule;

const undici = (): Undici => createRequire(import.meta.url)('undici') as Undici;

export class Agent {
  constructor(...args: ConstructorParameters<Undici['Agent']>) {
    // A constructor may return another object: callers get the real undici Agent.
    return new (undici().Agent)(...args);
  }
}

export class ProxyAgent {
  constructor(...args: ConstructorParameters<Undici['ProxyAgent']>) {
    return new (undici().ProxyAgent)(...args);
  }
}

export function fetch(...args: Parameters<Undici['fetch']>): ReturnType<Undici['fetch']> {
  return undici().fetch(...args);
}
