// Certificate conversion: the only entry points the rest of kvsync uses. The conversion itself
// (certificate-to-tls.ts, with pkijs and asn1js) is loaded by the conversion worker alone, not
// through here: the main thread would otherwise carry those modules, about 3 MiB of heap and more
// of RSS, for nothing.
export { CertificateConverter } from './converter.ts';
export type { CertificateConverterOptions, ConversionKey } from './converter.ts';
export type { LeafInfo, TlsMaterial, TlsOptions } from './certificate-to-tls.ts';
export type { BackingSecret } from './backing-secret.ts';
export { CertificateError } from './errors.ts';
export type { CertificateErrorCode } from './errors.ts';
export type { KeyFormat } from './private-key.ts';
