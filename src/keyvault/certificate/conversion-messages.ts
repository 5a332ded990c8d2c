// What the main thread and the conversion worker send each other.
import type { BackingSecret } from './backing-secret.ts';
import type { TlsMaterial, TlsOptions } from './certificate-to-tls.ts';
import type { CertificateErrorCode } from './errors.ts';
import type { WorkLimits } from './work-budget.ts';

export interface ConversionRequest {
  readonly backing: BackingSecret;
  readonly options: TlsOptions;
  readonly limits: WorkLimits;
}

export type ConversionReply =
  | { readonly ok: true; readonly material: TlsMaterial }
  /** code undefined: not a CertificateError but a fault of kvsync's own. */
  | {
      readonly ok: false;
      readonly code: CertificateErrorCode | undefined;
      readonly message: string;
    };
