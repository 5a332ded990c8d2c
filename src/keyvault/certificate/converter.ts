// Certificate conversion off the event loop, once per version. Reading a tenant's PFX may cost up
// to the WorkBudget's bound (about a second of CPU); on the event loop that would stall health
// probes, Lease renewals and every other VaultSecret. So conversions run on one worker thread,
// one at a time, and each outcome (the material or the CertificateError) is cached by vault,
// identity, name, version and output options: a version is converted once, not per reconcile,
// and a version that failed is not tried again. The worker is a second V8 isolate and Node
// environment (about 15-30 MiB of RSS): it starts with the first conversion and ends after a while
// without one, since conversions come only with new versions.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LruCache } from '../../runtime/lru-cache.ts';
import type { BackingSecret } from './backing-secret.ts';
import type { TlsMaterial, TlsOptions } from './certificate-to-tls.ts';
import type { ConversionReply, ConversionRequest } from './conversion-messages.ts';
import { CertificateError } from './errors.ts';
import { DEFAULT_WORK_LIMITS, type WorkLimits } from './work-budget.ts';

/** Which version of which object, read by whom: `mirror` is the (identity, vault) key. */
export interface ConversionKey {
  readonly mirror: string;
  readonly name: string;
  readonly version: string;
}

export interface CertificateConverterOptions {
  readonly limits?: WorkLimits;
  /** Bound of the outcome cache, in estimated bytes. Default 16 MiB (thousands of certificates). */
  readonly cacheBytes?: number;
  /** Heap one conversion may use; a file that needs more is refused. Default 64 MiB. */
  readonly workerHeapMb?: number;
  /** How long the worker stays without a conversion before it ends. Default 30 s. */
  readonly workerIdleMs?: number;
}

type Outcome = { readonly material: TlsMaterial } | { readonly error: CertificateError };

interface Job {
  readonly request: ConversionRequest;
  readonly settle: (outcome: Outcome | Error) => void;
}

const ENTRY_OVERHEAD_BYTES = 512;
// Node runs the .ts source directly, and dist/ holds the compiled .js next to this file's .js.
const WORKER_URL = new URL(
  `./conversion-worker${path.extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

export class CertificateConverter {
  readonly #limits: WorkLimits;
  readonly #heapMb: number;
  readonly #idleMs: number;
  readonly #cache: LruCache<string, Outcome>;
  readonly #inflight = new Map<string, Promise<Outcome>>();
  readonly #queue: Job[] = [];
  #running: Job | undefined;
  #worker: Worker | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: CertificateConverterOptions = {}) {
    this.#limits = options.limits ?? DEFAULT_WORK_LIMITS;
    this.#heapMb = options.workerHeapMb ?? 64;
    this.#idleMs = options.workerIdleMs ?? 30_000;
    this.#cache = new LruCache(options.cacheBytes ?? 16 * 1024 * 1024, outcomeBytes);
  }

  /** The TLS material of this version; throws its CertificateError. */
  async convert(
    key: ConversionKey,
    backing: BackingSecret,
    options: TlsOptions,
  ): Promise<TlsMaterial> {
    const id = [key.mirror, key.name, key.version, options.includeRoot ?? false]
      .concat([options.keyFormat ?? 'pkcs8', options.format ?? 'pem'])
      .join('|');
    let outcome = this.#cache.get(id);
    if (!outcome) {
      let pending = this.#inflight.get(id);
      if (!pending) {
        pending = this.#run({ backing, options, limits: this.#limits });
        this.#inflight.set(id, pending);
      }
      try {
        outcome = await pending;
      } finally {
        this.#inflight.delete(id);
      }
      this.#cache.set(id, outcome);
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.material;
  }

  /** Conversions done and cached (outcomes, failures included), and their estimated bytes. */
  get cached(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#cache.size, bytes: this.#cache.weight };
  }

  /** Stops the worker; conversions not finished fail (the caller's reconcile retries). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    clearTimeout(this.#idleTimer);
    const stopped = new Error('the certificate converter was closed');
    for (const job of [this.#running, ...this.#queue.splice(0)]) job?.settle(stopped);
    this.#running = undefined;
    await worker?.terminate();
  }

  #run(request: ConversionRequest): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({
        request,
        settle: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)),
      });
      this.#next();
    });
  }

  #next(): void {
    if (this.#running) return;
    clearTimeout(this.#idleTimer);
    const job = this.#queue.shift();
    if (!job) {
      this.#idle();
      return;
    }
    this.#running = job;
    const worker = this.#worker ?? this.#start();
    worker.ref();
    worker.postMessage(job.request);
  }

  /** Nothing to convert: the worker may end after the idle period. */
  #idle(): void {
    const worker = this.#worker;
    if (!worker) return;
    worker.unref();
    this.#idleTimer = setTimeout(() => {
      // Detached before it ends: a conversion that comes meanwhile starts a new worker, and this
      // one's exit is not taken for a crash.
      this.#worker = undefined;
      void worker.terminate();
    }, this.#idleMs).unref();
  }

  #start(): Worker {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
    });
    worker.on('message', (reply: ConversionReply) => this.#finish(fromReply(reply)));
    worker.on('error', (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#finish(crashOutcome(error));
    });
    worker.on('exit', () => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#finish(new Error('the certificate conversion worker exited'));
    });
    this.#worker = worker;
    return worker;
  }

  #finish(outcome: Outcome | Error): void {
    const job = this.#running;
    this.#running = undefined;
    job?.settle(outcome);
    this.#next();
  }
}

function fromReply(reply: ConversionReply): Outcome | Error {
  if (!reply.ok) {
    if (reply.code === undefined)
      return new Error(`certificate conversion failed: ${reply.message}`);
    return { error: new CertificateError(reply.code, reply.message) };
  }
  // Buffers arrive as plain Uint8Arrays.
  const { pfx } = reply.material;
  return {
    material: {
      ...reply.material,
      pfx: pfx && Buffer.from(pfx.buffer, pfx.byteOffset, pfx.byteLength),
    },
  };
}

/** A conversion that ran the worker out of memory is the file's fault; anything else is ours. */
function crashOutcome(error: Error): Outcome | Error {
  if ((error as { code?: string }).code !== 'ERR_WORKER_OUT_OF_MEMORY') return error;
  return {
    error: new CertificateError(
      'TooMuchWork',
      "reading the certificate's secret needs more memory than kvsync spends on one " +
        'certificate; import the certificate again as a PFX with standard settings or as PEM',
    ),
  };
}

function outcomeBytes(outcome: Outcome): number {
  if ('error' in outcome) return 2 * outcome.error.message.length + ENTRY_OVERHEAD_BYTES;
  const { material } = outcome;
  const chars =
    material.certificateChainPem.length +
    material.privateKeyPem.length +
    (material.caPem?.length ?? 0) +
    material.leaf.subject.length +
    material.leaf.issuer.length +
    material.ignoredCertificates.reduce((sum, subject) => sum + subject.length, 0);
  return 2 * chars + (material.pfx?.length ?? 0) + ENTRY_OVERHEAD_BYTES;
}
