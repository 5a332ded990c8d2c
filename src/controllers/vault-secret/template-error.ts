// Template errors name the target key and a line:column in the template. They are built only
// from the template's own text (names, function names): never from a value.

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  /** The Secret key whose template failed ('' when parsed without one). */
  readonly keyName: string;
  readonly line: number;
  readonly column: number;
  /** The message without the key and position prefix. */
  readonly reason: string;

  constructor(keyName: string, position: Position, reason: string) {
    const where = keyName ? `template for key "${keyName}"` : 'template';
    super(`${where}, line ${position.line} column ${position.column}: ${reason}`);
    this.keyName = keyName;
    this.line = position.line;
    this.column = position.column;
    this.reason = reason;
  }
}

export interface Position {
  readonly line: number; // 1-based
  readonly column: number; // 1-based, in UTF-16 code units
}

export function positionAt(source: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest candidate within a typo's reach (about a third of the word), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
