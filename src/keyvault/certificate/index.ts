// Certificate conversion: the only entry points the rest of kvsync uses. The conversion itself
// (certificate-to-tls.ts and its PKCS#12/ASN.1 libraries) is loaded by the worker thread only.
export { CertificateConverter } from './converter.ts';
export type { CertificateConverterOptions, ConversionKey } from './converter.ts';
export type { LeafInfo, TlsMaterial, TlsOptions } from './certificate-to-tls.ts';
export type { BackingSecret } from './backing-secret.ts';
export { CertificateError } from './errors.ts';
export type { CertificateErrorCode } from './errors.ts';
export type { KeyFormat } from './private-key.ts';
