// Which private keys become tls.key, in which encoding, and proof that a key belongs to a
// certificate.
import { randomBytes, sign, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { CertificateError } from './errors.ts';

export type KeyFormat = 'pkcs8' | 'pkcs1';

const TLS_CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** "RSA 2048", "EC P-256", or the raw type for anything else; never key material. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? '?';
    return `EC ${TLS_CURVES[curve] ?? curve}`;
  }
  return key.asymmetricKeyType ?? 'unknown';
}

/** RSA of at least 2048 bits, or EC on a curve TLS clients accept — what Key Vault can issue. */
export function checkUsableKey(key: KeyObject, format: KeyFormat): void {
  const kind = describeKey(key);
  const supported = 'kvsync supports RSA (2048 bits or more) and EC P-256, P-384 and P-521 keys';
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new CertificateError(
        'UnsupportedKeyType',
        `the certificate has an ${kind} key, too short for TLS; ${supported}: create the certificate with keyProperties.keySize 2048 or more`,
      );
    }
    return;
  }
  if (key.asymmetricKeyType === 'ec' && TLS_CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']) {
    if (format === 'pkcs1') {
      throw new CertificateError(
        'UnsupportedKeyType',
        `keyFormat pkcs1 exists only for RSA keys and this certificate has an ${kind} key; use keyFormat pkcs8`,
      );
    }
    return;
  }
  throw new CertificateError(
    'UnsupportedKeyType',
    `the certificate has a ${kind} key; ${supported}`,
  );
}

export function exportPrivateKey(key: KeyObject, format: KeyFormat): string {
  return key.export({ type: format, format: 'pem' }).toString();
}

/** Compares the public halves, then proves possession with a signature: a key whose embedded
 * public key was tampered with passes the first check alone. */
export function keyBelongsTo(key: KeyObject, certificate: X509Certificate): boolean {
  try {
    if (!certificate.checkPrivateKey(key)) return false;
    const challenge = randomBytes(32);
    const signature = sign('sha256', challenge, key);
    return verify('sha256', challenge, certificate.publicKey, signature);
  } catch {
    return false;
  }
}
