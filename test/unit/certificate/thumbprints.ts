import { X509Certificate } from 'node:crypto';

/** SHA-1 thumbprints (upper-case hex) of the certificates in a PEM text, in order. */
export function thumbprints(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b).fingerprint.replaceAll(':', ''));
}
