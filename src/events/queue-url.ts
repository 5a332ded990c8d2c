// Pure: the Storage Queue kvsync reads events from, as the operator names it. Checked at start
// so a typo fails with the flag's name rather than as a stream of 404s. Separate from the
// source so the CLI's configuration does not load the Storage SDK.
export interface QueueAddress {
  /** The queue URL without the queue name. */
  readonly serviceUrl: string;
  readonly queueName: string;
}

const queueName = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

/** Splits and checks a queue URL; throws a TypeError naming what is wrong. */
export function parseQueueUrl(raw: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new TypeError('not a URL');
  }
  if (url.protocol !== 'https:') throw new TypeError('the queue URL must use https');
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError('the queue URL must carry no credentials, query (SAS) or fragment');
  }
  const segments = url.pathname.split('/').filter(Boolean);
  const name = segments.at(-1);
  if (name === undefined || !queueName.test(name)) {
    throw new TypeError(
      'the queue URL must end with a queue name (3-63 lower-case letters, digits, dashes)',
    );
  }
  const base = segments.slice(0, -1).join('/');
  return { serviceUrl: `${url.origin}${base ? `/${base}` : ''}`, queueName: name };
}

export function checkQueueName(name: string): void {
  if (!queueName.test(name)) {
    throw new TypeError('a queue name has 3-63 lower-case letters, digits and single dashes');
  }
}
