// Pure: what a VaultSecret asks for, as a list of Key Vault reads and the keys they become.
// Everything the API server's schema cannot check (regular expressions, templates) is checked
// here, before any call to Key Vault.
import { createRequire } from 'node:module';
import type * as Re2js from 're2js';
import type { KeyRewrite, VaultSecret } from '../../api/vault-secret.ts';
import { certificateOutputKeys } from '../../api/vault-secret.ts';
import type { FindSelector, NamePattern } from '../../keyvault/vault-mirror.ts';
import { targetMetadataProblem } from './target-metadata.ts';
import { parseTemplate } from './template.ts';

export interface ObjectRead {
  readonly kind: 'secret' | 'certificate';
  readonly name: string;
  /** Undefined: the latest version. */
  readonly version: string | undefined;
}

export interface CertificateOutput {
  readonly includeRoot: boolean;
  readonly keyFormat: 'pkcs8' | 'pkcs1';
  readonly format: 'pem' | 'pfx';
  readonly certificateKey: string;
  readonly privateKeyKey: string;
  readonly caKey: string | undefined;
}

export type Source =
  | {
      readonly type: 'value';
      readonly key: string;
      readonly read: ObjectRead;
      readonly property: string | undefined;
    }
  | { readonly type: 'certificate'; readonly read: ObjectRead; readonly output: CertificateOutput }
  | { readonly type: 'json'; readonly read: ObjectRead; readonly rewrite: KeyRewrite | undefined }
  | {
      readonly type: 'find';
      readonly selector: FindSelector;
      readonly rewrite: KeyRewrite | undefined;
    };

export interface SyncPlan {
  /** `data` first, then `dataFrom` in order: a later source never overrides an explicit key. */
  readonly sources: readonly Source[];
  readonly templates: ReadonlyMap<string, string>;
}

export class InvalidSpecError extends Error {
  override readonly name = 'InvalidSpecError';
}

export function planSync(vaultSecret: VaultSecret): SyncPlan {
  const { spec } = vaultSecret;
  const sources: Source[] = [];
  for (const [index, item] of (spec.data ?? []).entries()) {
    if (item.secret) {
      const { name, version, property } = item.secret;
      if (!item.key) throw new InvalidSpecError(`data[${index}]: key is required with secret`);
      sources.push({ type: 'value', key: item.key, read: read('secret', name, version), property });
    } else if (item.certificate) {
      const certificate = item.certificate;
      const format = certificate.format ?? 'pem';
      const keys = certificateOutputKeys(certificate);
      if (format === 'pfx' && !item.key) {
        throw new InvalidSpecError(`data[${index}]: key is required with certificate format pfx`);
      }
      sources.push({
        type: 'certificate',
        read: read('certificate', certificate.name, certificate.version),
        output: {
          includeRoot: certificate.includeRoot ?? false,
          keyFormat: certificate.keyFormat ?? 'pkcs8',
          format,
          certificateKey: format === 'pfx' ? (item.key as string) : keys.certificate,
          privateKeyKey: keys.privateKey,
          caKey: keys.ca,
        },
      });
    } else {
      throw new InvalidSpecError(
        `data[${index}]: exactly one of secret or certificate is required`,
      );
    }
  }
  for (const [index, item] of (spec.dataFrom ?? []).entries()) {
    const { rewrite } = item;
    if (item.find) {
      sources.push({
        type: 'find',
        selector: { nameRegex: compileRegex(item.find.nameRegex, index), tags: item.find.tags },
        rewrite,
      });
    } else if (item.secret) {
      sources.push({
        type: 'json',
        read: read('secret', item.secret.name, item.secret.version),
        rewrite,
      });
    } else {
      throw new InvalidSpecError(`dataFrom[${index}]: exactly one of find or secret is required`);
    }
  }
  const metadataProblem = targetMetadataProblem(spec.target ?? {});
  if (metadataProblem !== undefined) throw new InvalidSpecError(metadataProblem);
  const templates = new Map(Object.entries(spec.target?.template?.data ?? {}));
  for (const [key, source] of templates) parseTemplate(source, key);
  return { sources, templates };
}

/** Reads whose version is known up front; `find` sources add theirs once the listing is known. */
export function fixedReads(plan: SyncPlan): ObjectRead[] {
  const reads: ObjectRead[] = [];
  for (const source of plan.sources) if (source.type !== 'find') reads.push(source.read);
  return reads;
}

export function readId(read: ObjectRead): string {
  return `${read.name}@${read.version ?? 'latest'}`;
}

function read(kind: ObjectRead['kind'], name: string, version: string | undefined): ObjectRead {
  return { kind, name, version: version || undefined };
}

let loadedRe2js: typeof Re2js | undefined;

/** re2js (about 1 MiB of heap) is loaded by the first VaultSecret that uses a nameRegex. */
function re2js(): typeof Re2js {
  return (loadedRe2js ??= createRequire(import.meta.url)('re2js') as typeof Re2js);
}

/**
 * RE2 syntax (as Go, External Secrets and the CRD's description use), matched in linear time:
 * a VaultSecret's pattern runs in kvsync against every name in the vault, so JavaScript's
 * backtracking RegExp would let one spec stall the operator (`(a+)+$`).
 */
function compileRegex(source: string | undefined, index: number): NamePattern | undefined {
  if (source === undefined || source === '') return undefined;
  try {
    return re2js().RE2JS.compile(source);
  } catch (error) {
    throw new InvalidSpecError(
      `dataFrom[${index}].find.nameRegex is not a valid regular expression: ${(error as Error).message}`,
    );
  }
}
