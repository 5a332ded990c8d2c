// Turns what a user would import into Key Vault (PEM with key and chain, or a PFX with a blank
// password) into what the fake needs to serve it: the leaf certificate (the one the private key
// belongs to), its thumbprint and validity, and the backing secret's value.
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CertificateInput } from './vault-store.ts';

const execFileAsync = promisify(execFile);

export const PEM_CONTENT_TYPE = 'application/x-pem-file';
export const PFX_CONTENT_TYPE = 'application/x-pkcs12';

export type CertificateSource = ({ pem: string } | { pfxBase64: string }) & {
  /** Default: the source's format. Key Vault stores the backing secret in this format. */
  contentType?: typeof PEM_CONTENT_TYPE | typeof PFX_CONTENT_TYPE;
  /** False: the backing secret carries no private key (PEM sources only). Default true. */
  exportable?: boolean;
  tags?: Record<string, string>;
  enabled?: boolean;
};

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/g;

export async function certificateInput(source: CertificateSource): Promise<CertificateInput> {
  const isPem = 'pem' in source;
  const contentType = source.contentType ?? (isPem ? PEM_CONTENT_TYPE : PFX_CONTENT_TYPE);
  if (contentType !== (isPem ? PEM_CONTENT_TYPE : PFX_CONTENT_TYPE)) {
    throw new Error(
      `importCertificate: the double stores ${contentType} only from a source in that format`,
    );
  }
  const exportable = source.exportable ?? true;
  if (!exportable && !isPem)
    throw new Error('importCertificate: a non-exportable import must come as PEM');
  const pem = isPem ? source.pem : await pfxToPem(source.pfxBase64);
  const leaf = findLeaf(pem);
  return {
    cer: leaf.raw,
    x5t: createHash('sha1').update(leaf.raw).digest('base64url'),
    subject: leaf.subject.split('\n').join(', '),
    notBefore: Math.floor(new Date(leaf.validFrom).getTime() / 1000),
    expires: Math.floor(new Date(leaf.validTo).getTime() / 1000),
    contentType,
    exportable,
    tags: source.tags ?? {},
    enabled: source.enabled ?? true,
    backingSecretValue: isPem
      ? exportable
        ? source.pem
        : source.pem.replace(KEY_BLOCK, '').trim() + '\n'
      : source.pfxBase64,
  };
}

/** The certificate the private key belongs to; without a key, the one that issued no other. */
function findLeaf(pem: string): X509Certificate {
  const certificates = (pem.match(CERTIFICATE_BLOCK) ?? []).map(
    (block) => new X509Certificate(block),
  );
  if (certificates.length === 0) throw new Error('importCertificate: no certificate in the source');
  const keyBlock = pem.match(KEY_BLOCK)?.[0];
  if (keyBlock) {
    const key = createPrivateKey(keyBlock);
    const leaf = certificates.find((cert) => cert.checkPrivateKey(key));
    if (!leaf)
      throw new Error('importCertificate: the private key matches none of the certificates');
    return leaf;
  }
  return (
    certificates.find(
      (cert) => !certificates.some((other) => other !== cert && other.checkIssued(cert)),
    ) ?? certificates[0]!
  );
}

/** PFX (blank password) to PEM through the openssl CLI; `-legacy` reads RC2/3DES-era files. */
async function pfxToPem(pfxBase64: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-pfx-'));
  try {
    const file = path.join(dir, 'in.pfx');
    await writeFile(file, Buffer.from(pfxBase64, 'base64'), { mode: 0o600 });
    const args = ['pkcs12', '-in', file, '-passin', 'pass:', '-nodes'];
    try {
      return (await execFileAsync('openssl', args)).stdout;
    } catch {
      return (await execFileAsync('openssl', [...args, '-legacy'])).stdout;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
