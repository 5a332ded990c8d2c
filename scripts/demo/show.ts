// How the demo prints a synced VaultSecret: its Ready condition, the Secret's keys with their
// sizes (never values), the objects and versions it came from, and expiry. Certificates are
// public, so the subjects of tls.crt are shown in the order the Secret holds them.
import { X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/api/vault-secret.ts';

export function describeSynced(vs: VaultSecret, secret: V1Secret | undefined): string[] {
  const ready = vs.status?.conditions?.find((c) => c.type === 'Ready');
  const lines = [`Ready=${ready?.status ?? '?'} ${ready?.reason ?? ''}: ${ready?.message ?? ''}`];
  if (!secret) return [...lines, 'no Secret written'];
  lines.push(`Secret ${secret.metadata?.namespace}/${secret.metadata?.name}, type ${secret.type}`);
  for (const [key, base64] of Object.entries(secret.data ?? {}).sort()) {
    lines.push(`  ${key.padEnd(10)} ${describeValue(key, Buffer.from(base64, 'base64'))}`);
  }
  for (const object of vs.status?.objects ?? []) {
    const expires = object.expiresOn ? `, expires ${object.expiresOn}` : ', no expiry set';
    lines.push(`  from ${object.kind} ${object.name}, version ${short(object.version)}${expires}`);
  }
  return lines;
}

function describeValue(key: string, value: Buffer): string {
  const text = value.toString('utf8');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const subjects = certificates(text).map((c) => commonName(c.subject));
    return `${value.length} bytes: ${subjects.length} certificate(s), ${subjects.join(' -> ')}`;
  }
  if (/-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(text)) {
    return `${value.length} bytes: a private key (value not shown)`;
  }
  return `${value.length} bytes (value not shown)`;
}

export function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

function commonName(subject: string): string {
  return /CN=([^\n,]+)/.exec(subject)?.[1] ?? subject;
}

export function short(version: string | undefined): string {
  return version ? `${version.slice(0, 8)}…` : '?';
}
