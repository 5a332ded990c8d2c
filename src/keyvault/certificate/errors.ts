// Every way a certificate's backing secret can fail to become a TLS Secret. Messages say what the
// user should change in Key Vault; they never quote the secret, a key or a password.

export type CertificateErrorCode =
  | 'NonExportableKey' // the backing secret carries no private key
  | 'PasswordProtected' // the PFX (or PEM key) needs a password kvsync does not have
  | 'BrokenChain' // certificates are present that should connect to the leaf but do not
  | 'UnsupportedKeyType' // not RSA or EC on a TLS curve, or pkcs1 requested for a non-RSA key
  | 'KeyMismatch' // the private key belongs to none of the certificates
  | 'TooMuchWork' // more bags or key-derivation work than one certificate may cost
  | 'Malformed'; // neither PEM nor PKCS#12, or damaged content

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  readonly code: CertificateErrorCode;

  constructor(code: CertificateErrorCode, message: string) {
    // No `cause`: underlying parser errors may quote input bytes, and causes end up in logs.
    super(message);
    this.code = code;
  }
}
