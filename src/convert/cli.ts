// `kvsync convert [FILE...]`: ESO manifests (files, or stdin when none or "-") -> VaultSecret
// YAML on stdout; per object, what was skipped and why, what changed, and the kubectl lines that
// grant consent to take the existing Secrets over, on stderr.
// Exit codes: 0 all converted, 1 some skipped, 2 bad input (not YAML, not an ESO object): then
// nothing is written to stdout.
import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import { parseAllDocuments, stringify } from 'yaml';
import { convertDocuments, type Conversion, type SourceDocument } from './convert.ts';

export const EXIT_CONVERTED = 0;
export const EXIT_SKIPPED = 1;
export const EXIT_BAD_INPUT = 2;

export interface ConvertIo {
  readonly readFile: (path: string) => Promise<string>;
  readonly readStdin: () => Promise<string>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The process's files and standard streams. */
export const processIo: ConvertIo = {
  readFile: (path) => readFile(path, 'utf8'),
  readStdin: () => readStream(process.stdin),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export const convertUsage = [
  'Usage: kvsync convert [FILE...]',
  '',
  'Converts External Secrets Operator manifests of the Azure Key Vault provider (ExternalSecret,',
  'ClusterExternalSecret, SecretStore, ClusterSecretStore; external-secrets.io v1beta1 and v1)',
  'into VaultSecrets and ClusterVaultSecrets.',
  'Reads the files (or stdin when none or "-"), writes YAML to stdout and, on stderr, what was',
  'not converted and why, and the kubectl lines that let kvsync adopt the existing Secrets.',
  'Exit codes: 0 all converted, 1 some objects skipped, 2 bad input.',
].join('\n');

export async function runConvert(args: readonly string[], io: ConvertIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${convertUsage}\n`);
    return EXIT_CONVERTED;
  }
  const documents: SourceDocument[] = [];
  const badInput: string[] = [];
  for (const path of args.length === 0 ? ['-'] : args) {
    const name = path === '-' ? 'stdin' : path;
    let content: string;
    try {
      content = path === '-' ? await io.readStdin() : await io.readFile(path);
    } catch (error) {
      badInput.push(
        `${name}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      continue;
    }
    parseAllDocuments(content).forEach((document, index) => {
      const source = `${name} document ${index + 1}`;
      const [error] = document.errors;
      // The parser's message quotes the line, which may hold a value: give position and code only.
      if (error) {
        const at = error.linePos?.[0];
        badInput.push(
          `${source}: not YAML (${error.code}${at ? ` at line ${at.line}, column ${at.col}` : ''})`,
        );
      } else {
        const value: unknown = document.toJS();
        if (value !== null) documents.push({ source, value });
      }
    });
  }
  const conversion = badInput.length > 0 ? undefined : convertDocuments(documents);
  const bad = [...badInput, ...(conversion?.badInput ?? [])];
  if (!conversion || bad.length > 0) {
    for (const line of bad) io.stderr(`kvsync convert: ${line}\n`);
    return EXIT_BAD_INPUT;
  }
  io.stdout(manifestsYaml(conversion));
  io.stderr(reportText(conversion));
  return conversion.reports.every((report) => report.converted) ? EXIT_CONVERTED : EXIT_SKIPPED;
}

function manifestsYaml(conversion: Conversion): string {
  return conversion.manifests
    .map(({ source, manifest }) => `# converted from ${source}\n${stringify(manifest)}`)
    .join('---\n');
}

function reportText(conversion: Conversion): string {
  const lines: string[] = [];
  for (const report of conversion.reports) {
    lines.push(
      `${report.object} (${report.source}): ${report.converted ? 'converted' : 'skipped'}`,
    );
    for (const problem of report.problems) lines.push(`  not converted: ${problem}`);
    for (const note of report.notes) lines.push(`  note: ${note}`);
  }
  const skipped = conversion.reports.filter((report) => !report.converted).length;
  const clusters = conversion.manifests.filter(({ manifest }) => manifest.kind !== 'VaultSecret');
  const written = `${conversion.manifests.length - clusters.length} VaultSecrets${clusters.length > 0 ? ` and ${clusters.length} ClusterVaultSecrets` : ''}`;
  lines.push(`${written} written; ${skipped} of ${conversion.reports.length} objects skipped`);
  if (conversion.consent.length > 0) {
    lines.push(
      '',
      '# Before applying: consent for kvsync to take over the existing Secrets, granted by someone',
      '# who may edit them (a Secret without it stays as it is and its VaultSecret reports SecretConflict):',
      ...conversion.consent,
    );
  }
  return `${lines.join('\n')}\n`;
}
