// Orders certificates from the leaf up to the root, whatever order the vault returned them in
// (Key Vault keeps upload order, and uploads are often reversed).
import type { X509Certificate } from 'node:crypto';
import { CertificateError } from './errors.ts';

export interface Chain {
  /** Leaf, then each issuer in turn; the self-signed root is not included unless it is the leaf. */
  readonly path: readonly X509Certificate[];
  /** The self-signed certificate the path ends at, when the input contains it. */
  readonly root: X509Certificate | undefined;
  /** Certificates that have nothing to do with this chain (the chain itself is complete). */
  readonly unrelated: readonly X509Certificate[];
}

export function describeName(name: string): string {
  return name.split('\n').join(', ');
}

/** X509_check_issued compares the issuer name with the subject and, when present, the
 * authority key identifier with the subject key identifier (and key usage); the signature check
 * settles look-alikes (two CAs with the same name and no key identifiers). */
export function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

export function isSelfSigned(certificate: X509Certificate): boolean {
  try {
    return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

function distinct(certificates: readonly X509Certificate[]): X509Certificate[] {
  const seen = new Set<string>();
  return certificates.filter((c) => !seen.has(c.fingerprint256) && seen.add(c.fingerprint256));
}

/**
 * Builds the path from `leaf`. Extra certificates are tolerated when the path reaches a root
 * (they cannot be part of it); when the path stops short of a root while other certificates
 * remain, an intermediate is missing between them, and writing a half chain would only move the
 * failure to every client, so that is a BrokenChain error.
 */
export function buildChain(leaf: X509Certificate, certificates: readonly X509Certificate[]): Chain {
  const pool = distinct(certificates).filter((c) => c.fingerprint256 !== leaf.fingerprint256);
  const path = [leaf];
  let current = leaf;
  while (!isSelfSigned(current)) {
    const issuers = pool.filter((candidate) => issuedBy(current, candidate));
    // A cross-signed copy and the self-signed original share a name and key: end at the root.
    const next = issuers.find(isSelfSigned) ?? issuers[0];
    if (!next) break;
    pool.splice(pool.indexOf(next), 1);
    path.push(next);
    current = next;
  }
  const root = isSelfSigned(current) ? current : undefined;
  if (!root && pool.length > 0) {
    const others = pool.map((c) => `"${describeName(c.subject)}"`).join(', ');
    throw new CertificateError(
      'BrokenChain',
      `the certificate chain stops at "${describeName(current.subject)}": its issuer ` +
        `"${describeName(current.issuer)}" is not included, so ${others} cannot be connected ` +
        `to it. Import the certificate again with the complete chain (add "${describeName(current.issuer)}")`,
    );
  }
  return {
    path: root && path.length > 1 ? path.slice(0, -1) : path,
    root,
    unrelated: pool,
  };
}
