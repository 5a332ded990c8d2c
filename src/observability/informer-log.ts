// Informer lists and restarts as log lines. Watches end routinely (server timeouts, 410 Gone,
// periodic relists): those are debug. A failed list or watch (RBAC, network, API server down)
// is what an operator must see, with the message only.
import type { Logger } from 'pino';
import type { InformerStatus } from '../runtime/informer.ts';
import { errorMessage } from './logger.ts';

export function informerStatusLogger(
  log: Logger,
  resource: string,
): (status: InformerStatus) => void {
  return (status) => {
    const scope = { resource, namespace: status.namespace ?? '*' };
    if (status.phase === 'listed') {
      log.debug({ ...scope, objects: status.objects }, 'listed');
      return;
    }
    const fields = { ...scope, reason: status.reason, retryInMs: Math.round(status.delayMs) };
    if (status.reason === 'error' || status.reason === 'stalled') {
      const err = status.error === undefined ? undefined : errorMessage(status.error);
      log.warn({ ...fields, ...(err === undefined ? {} : { err }) }, 'list/watch failed; retrying');
    } else {
      log.debug(fields, 'watch restarting');
    }
  };
}
