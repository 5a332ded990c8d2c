// The transport under an informer: one list page, or one watch stream, per call. The informer owns
// the loop (relist, backoff, stall detection); this file only speaks the API server's protocol.

import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { collectionPath, kubeFetch, kubeJson } from './kube-http.ts';

export interface ListOptions {
  /** Absent: all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
  signal: AbortSignal;
}

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continueToken?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  /** The server ends the stream after this long; the informer then watches again. */
  timeoutSeconds: number;
  signal: AbortSignal;
}

/** metav1.Status, as sent in a watch ERROR event. */
export interface WatchStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: WatchStatus };

export interface ListWatchSource<T> {
  list(options: ListOptions): Promise<ListPage<T>>;
  /**
   * Streams events until the server ends the stream (resolves) or it fails (rejects, e.g. with a
   * KubeApiError of status 410 when the resourceVersion is too old). Bookmarks are requested.
   */
  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<void>;
}

export interface ResourceType {
  /** `v1` for the core group, else `group/version`. */
  apiVersion: string;
  /** The lower-case plural, e.g. `secrets`. */
  plural: string;
}

interface ListBody<T> {
  items?: T[] | null;
  metadata?: { resourceVersion?: string; continue?: string };
}

export function kubeListWatch<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  resource: ResourceType,
): ListWatchSource<T> {
  return {
    async list(options) {
      const body = await kubeJson<ListBody<T>>(
        kubeConfig,
        collectionPath(resource, options.namespace),
        {
          query: {
            labelSelector: options.labelSelector,
            fieldSelector: options.fieldSelector,
            limit: options.limit,
            continue: options.continueToken,
          },
          signal: options.signal,
        },
      );
      return {
        items: body.items ?? [],
        resourceVersion: body.metadata?.resourceVersion ?? '',
        continueToken: body.metadata?.continue || undefined,
      };
    },

    async watch(options, onEvent) {
      const response = await kubeFetch(kubeConfig, collectionPath(resource, options.namespace), {
        query: {
          watch: true,
          allowWatchBookmarks: true,
          resourceVersion: options.resourceVersion,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          timeoutSeconds: options.timeoutSeconds,
        },
        signal: options.signal,
      });
      await readLines(response.body, (line) => onEvent(JSON.parse(line) as WatchEvent<T>));
    },
  };
}

/** Calls `onLine` for each non-empty line of a newline-delimited stream. */
export async function readLines(
  body: AsyncIterable<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(line);
      newline = buffered.indexOf('\n');
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) onLine(rest);
}
