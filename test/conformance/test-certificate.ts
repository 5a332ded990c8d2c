// Certificates for the conformance cases, made with the openssl CLI, and the parser that proves a
// backing secret really holds a certificate and its private key.
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TestCertificate {
  readonly commonName: string;
  /** Private key (PKCS#8) then certificate: what Key Vault imports as application/x-pem-file. */
  readonly pem: string;
  /** PKCS#12 with a blank password, base64: what Key Vault imports as application/x-pkcs12. */
  readonly pfxBase64: string;
}

export async function makeTestCertificate(commonName: string): Promise<TestCertificate> {
  return withTempDir(async (dir) => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const pfx = path.join(dir, 'cert.pfx');
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-subj', `/CN=${commonName}`, '-days', '30',
      '-addext', `subjectAltName=DNS:${commonName}`]); // prettier-ignore
    await openssl([
      'pkcs12',
      '-export',
      '-inkey',
      key,
      '-in',
      cert,
      '-out',
      pfx,
      '-passout',
      'pass:',
    ]);
    const [keyPem, certPem, pfxBytes] = await Promise.all([
      readFile(key, 'utf8'),
      readFile(cert, 'utf8'),
      readFile(pfx),
    ]);
    return {
      commonName,
      pem: `${keyPem.trim()}\n${certPem.trim()}\n`,
      pfxBase64: pfxBytes.toString('base64'),
    };
  });
}

export interface ParsedBackingSecret {
  readonly certificates: readonly X509Certificate[];
  readonly key: KeyObject;
}

/** Parses a certificate's backing secret as kvsync will: PEM text, or a base64 PFX. */
export async function parseBackingSecret(
  value: string,
  contentType: string | undefined,
): Promise<ParsedBackingSecret> {
  const pem = contentType === 'application/x-pkcs12' ? await pfxToPem(value) : value;
  const certificates = (
    pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  ).map((block) => new X509Certificate(block));
  const keyBlock =
    /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(
      pem,
    )?.[0];
  if (!keyBlock) throw new Error('the backing secret holds no private key');
  return { certificates, key: createPrivateKey(keyBlock) };
}

async function pfxToPem(base64: string): Promise<string> {
  return withTempDir(async (dir) => {
    const file = path.join(dir, 'in.pfx');
    await writeFile(file, Buffer.from(base64, 'base64'));
    const args = ['pkcs12', '-in', file, '-nodes', '-passin', 'pass:'];
    try {
      return (await execFileAsync('openssl', args)).stdout;
    } catch {
      return (await execFileAsync('openssl', [...args, '-legacy'])).stdout;
    }
  });
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed: ${(err as { stderr?: string }).stderr ?? ''}`, {
      cause: err,
    });
  }
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-cert-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
