// A certificate's backing secret -> the material of a kubernetes.io/tls Secret.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { readBackingSecret, type BackingSecret } from './backing-secret.ts';
import { buildChain, describeName } from './chain.ts';
import { CertificateError } from './errors.ts';
import { toPem } from './pem.ts';
import { writePkcs12 } from './pkcs12-write.ts';
import {
  checkUsableKey,
  describeKey,
  exportPrivateKey,
  keyBelongsTo,
  type KeyFormat,
} from './private-key.ts';
import { DEFAULT_WORK_LIMITS, WorkBudget, type WorkLimits } from './work-budget.ts';

export interface TlsOptions {
  /** Append the self-signed root to tls.crt. Default false: clients must already trust it. */
  readonly includeRoot?: boolean;
  /** tls.key encoding. Default pkcs8 ("PRIVATE KEY"); pkcs1 ("RSA PRIVATE KEY") for RSA only. */
  readonly keyFormat?: KeyFormat;
  /** 'pfx' also returns a PFX: the vault's own file unchanged, or one built from PEM. */
  readonly format?: 'pem' | 'pfx';
}

export interface LeafInfo {
  /** "CN=www.example.com, O=Example" */
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex SHA-1, as the Azure portal and Windows show it. */
  readonly thumbprintSha1Hex: string;
  /** e.g. "RSA 2048", "EC P-256". */
  readonly keyType: string;
}

export interface TlsMaterial {
  /** tls.crt: the leaf, then intermediates in issuing order (the root only with includeRoot). */
  readonly certificateChainPem: string;
  /** tls.key */
  readonly privateKeyPem: string;
  /** ca.crt: the self-signed root only (a trust anchor; intermediates are sent in tls.crt).
   * Undefined when the vault does not hold the root. For a self-signed leaf, the leaf itself. */
  readonly caPem: string | undefined;
  /** With format 'pfx': the vault's PFX unchanged, or (for PEM) a PFX with an empty password. */
  readonly pfx: Buffer | undefined;
  readonly leaf: LeafInfo;
  /** Subjects of certificates in the secret that are not part of the chain and were left out. */
  readonly ignoredCertificates: readonly string[];
}

const REIMPORT = 'import the certificate again';

function onlyPrivateKey(keys: readonly KeyObject[]): KeyObject {
  const [key, ...others] = keys;
  if (!key) {
    throw new CertificateError(
      'NonExportableKey',
      "the certificate's secret has no private key: its policy has exportable=false. Set " +
        'keyProperties.exportable=true in the certificate policy and create a new version',
    );
  }
  const distinct = others.filter((k) => !k.equals(key));
  if (distinct.length > 0) {
    throw new CertificateError(
      'Malformed',
      `the certificate's secret holds ${distinct.length + 1} different private keys; ${REIMPORT} with only the key of its certificate`,
    );
  }
  return key;
}

function pickLeaf(key: KeyObject, certificates: readonly X509Certificate[]): X509Certificate {
  const matching = certificates.filter((c) => keyBelongsTo(key, c));
  const leaf = matching.find((c) => !c.ca) ?? matching[0];
  if (!leaf) {
    throw new CertificateError(
      'KeyMismatch',
      `the private key does not belong to any of the ${certificates.length} certificate(s) in the secret; ${REIMPORT} with the key that was issued with it`,
    );
  }
  return leaf;
}

function pem(certificates: readonly X509Certificate[]): string {
  return certificates.map((c) => toPem('CERTIFICATE', c.raw)).join('');
}

/**
 * Converts a certificate's backing secret (PEM or base64 PFX with an empty password, in any
 * certificate order) into TLS material. Throws CertificateError with a message for the user.
 */
export function certificateToTls(
  backing: BackingSecret,
  options: TlsOptions = {},
  limits: WorkLimits = DEFAULT_WORK_LIMITS,
): TlsMaterial {
  const keyFormat = options.keyFormat ?? 'pkcs8';
  const contents = readBackingSecret(backing, new WorkBudget(limits));
  if (contents.certificates.length === 0) {
    throw new CertificateError(
      'Malformed',
      `the certificate's secret (${contents.format.toUpperCase()}) contains no certificate; ${REIMPORT}`,
    );
  }
  const key = onlyPrivateKey(contents.privateKeys);
  checkUsableKey(key, keyFormat);
  const leaf = pickLeaf(key, contents.certificates);
  const chain = buildChain(leaf, contents.certificates);
  const withRoot = options.includeRoot && chain.root && chain.root !== leaf;
  const tlsCertificates = withRoot && chain.root ? [...chain.path, chain.root] : chain.path;
  const privateKeyPem = exportPrivateKey(key, keyFormat);
  return {
    certificateChainPem: pem(tlsCertificates),
    privateKeyPem,
    caPem: chain.root ? pem([chain.root]) : undefined,
    pfx:
      options.format === 'pfx'
        ? (contents.pfx ??
          writePkcs12(
            tlsCertificates.map((c) => c.raw),
            key.export({ type: 'pkcs8', format: 'der' }),
          ))
        : undefined,
    leaf: {
      subject: describeName(leaf.subject),
      issuer: describeName(leaf.issuer),
      notBefore: leaf.validFromDate,
      notAfter: leaf.validToDate,
      thumbprintSha1Hex: leaf.fingerprint.replaceAll(':', '').toUpperCase(),
      keyType: describeKey(key),
    },
    ignoredCertificates: chain.unrelated.map((c) => describeName(c.subject)),
  };
}
