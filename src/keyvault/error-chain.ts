// Errors arrive wrapped (SDK errors with a `cause`, credential chains with `errors`); classification
// looks through the wrapping, a bounded number of errors deep.

const MAX_ERRORS = 16;

/** The error, its causes and any aggregated errors (breadth first, outermost first). */
export function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && chain.length < MAX_ERRORS) {
    const current = queue.shift();
    if (current === undefined || current === null || chain.includes(current)) continue;
    chain.push(current);
    const nested = (current as { errors?: unknown }).errors;
    if (Array.isArray(nested)) queue.push(...(nested as unknown[]));
    queue.push((current as { cause?: unknown }).cause);
  }
  return chain;
}
