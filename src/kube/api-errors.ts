// Kubernetes API failures, recognised in one place.
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { KubeApiError } from '../runtime/kube-http.ts';

export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.statusCode;
  return error instanceof ApiException ? error.code : undefined;
}

export const isNotFound = (error: unknown): boolean => statusCodeOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusCodeOf(error) === 409;
