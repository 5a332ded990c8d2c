// How much work reading one certificate's backing secret may take. The content is the tenant's:
// a 25 KB PFX holds about 120 encrypted bags, each allowed up to 600,000 PBKDF2 iterations, so a
// cap per key derivation alone lets one file ask for minutes of CPU. The budget counts the whole
// file: items (bags, PEM blocks) and key-derivation work, and refuses before doing more.
import { CertificateError } from './errors.ts';

export interface WorkLimits {
  /** Bags of a PFX (certificates, keys, nested contents) or blocks of a PEM. */
  readonly maxItems: number;
  /** Key-derivation work in PBKDF2-iteration units (see PKCS12_KDF_WEIGHT). */
  readonly maxKdfWork: number;
}

// A certificate with its chain and key is a handful of items; Java, Windows and OpenSSL derive
// keys 2,000-10,000 times per bag. A file at the per-derivation caps (two bags at 600,000 and a
// MAC at 100,000) still fits; about 1 s of CPU on a current core at most.
export const DEFAULT_WORK_LIMITS: WorkLimits = { maxItems: 64, maxKdfWork: 4_000_000 };

/** A PKCS#12 KDF iteration is a JavaScript hash call: about ten PBKDF2 iterations of time. */
export const PKCS12_KDF_WEIGHT = 10;

const REIMPORT =
  'import the certificate again as a PFX with standard settings ' +
  '(e.g. `openssl pkcs12 -export -passout pass:`) or as PEM';

export class WorkBudget {
  readonly #limits: WorkLimits;
  #items = 0;
  #kdfWork = 0;

  constructor(limits: WorkLimits = DEFAULT_WORK_LIMITS) {
    this.#limits = limits;
  }

  /** One more bag or PEM block. */
  item(): void {
    this.#items += 1;
    if (this.#items > this.#limits.maxItems) {
      throw new CertificateError(
        'TooMuchWork',
        `the certificate's secret holds more than ${this.#limits.maxItems} items (bags or PEM ` +
          `blocks); a certificate with its chain and key needs a handful. ${REIMPORT}`,
      );
    }
  }

  /** Before a key derivation of `iterations` rounds over `blocks` hash outputs. */
  derive(kind: 'pbkdf2' | 'pkcs12', iterations: number, blocks: number): void {
    const weight = kind === 'pkcs12' ? PKCS12_KDF_WEIGHT : 1;
    const work = iterations * blocks * weight;
    if (this.#kdfWork + work > this.#limits.maxKdfWork) {
      throw new CertificateError(
        'TooMuchWork',
        `the certificate's secret needs more key-derivation work than kvsync spends on one ` +
          `certificate (over ${grouped(this.#limits.maxKdfWork)} PBKDF2 ` +
          `iterations in all; a PFX from Key Vault, OpenSSL or Windows needs about 10,000). ${REIMPORT}`,
      );
    }
    this.#kdfWork += work;
  }
}

/**
 * 4000000 as "4,000,000". Not toLocaleString: the first number a process formats through ICU
 * loads its locale data, about 7 MiB of RSS, for one error message.
 */
function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+$)/g, ',');
}
