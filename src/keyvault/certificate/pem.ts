// PEM armour (RFC 7468), lenient on input the way OpenSSL is: any text between blocks is ignored.

export interface PemBlock {
  /** The label, e.g. "CERTIFICATE", "PRIVATE KEY". */
  readonly type: string;
  /** RFC 1421 headers such as "Proc-Type: 4,ENCRYPTED" (legacy encrypted keys). */
  readonly headers: ReadonlyMap<string, string>;
  readonly der: Buffer;
  /** The block exactly as it appeared, BEGIN to END line inclusive. */
  readonly text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEADER_NAME = /^[A-Za-z0-9-]+$/;

export function looksLikePem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/**
 * An RFC 1421 header line, split without a regular expression over the whole line: a pattern
 * like /^([A-Za-z0-9-]+):\s*(.*)$/ backtracks quadratically on a long run of spaces before a
 * line separator, and the line is the tenant's. (BLOCK costs at most the text's length per
 * BEGIN line: about 10 ms for a 25 KB secret made only of BEGIN lines.)
 */
function headerOf(line: string): { name: string; value: string } | undefined {
  const colon = line.indexOf(':');
  if (colon < 1) return undefined;
  const name = line.slice(0, colon);
  if (!HEADER_NAME.test(name)) return undefined;
  return { name, value: line.slice(colon + 1).trim() };
}

/** Blocks in input order. Throws a value-free Error on a damaged block. */
export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const type = match[1] ?? '';
    const headers = new Map<string, string>();
    const body: string[] = [];
    for (const line of (match[2] ?? '').split(/\r?\n/)) {
      const header = body.length === 0 ? headerOf(line) : undefined;
      if (header) headers.set(header.name, header.value);
      else body.push(line.trim());
    }
    const base64 = body.join('');
    if (!BASE64.test(base64) || base64.length === 0) {
      throw new Error(`PEM block "${type}" does not contain valid base64`);
    }
    blocks.push({ type, headers, der: Buffer.from(base64, 'base64'), text: match[0] });
  }
  return blocks;
}

export function toPem(type: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}
