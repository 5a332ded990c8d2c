// Pure: an ESO refreshInterval (a Go duration like "1h0m0s", "90s", "1.5h") -> kvsync's
// refreshInterval (whole hours, minutes and seconds within its bounds, or "0").
import { parseDuration } from '../api/vault-secret.ts';
import { refreshIntervalBounds } from '../api/vault-secret-schema.ts';
import type { Findings } from './fields.ts';

const goUnitMs = new Map([
  ['ns', 1e-6],
  ['us', 1e-3],
  ['µs', 1e-3],
  ['ms', 1],
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
]);
const goDuration = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)/;

/** Milliseconds of a Go duration, or undefined when it is not one (or is negative). */
export function goDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  let rest = text;
  let ms = 0;
  if (rest === '') return undefined;
  while (rest !== '') {
    const match = goDuration.exec(rest);
    if (!match) return undefined;
    ms += Number(match[1]) * (goUnitMs.get(match[3] ?? '') ?? 0);
    rest = rest.slice(match[0].length);
  }
  return ms;
}

function formatSeconds(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = [
    hours ? `${hours}h` : '',
    minutes ? `${minutes}m` : '',
    seconds ? `${seconds}s` : '',
  ];
  return parts.join('') || '0';
}

/** ESO's refreshInterval (default 1h) as kvsync's; out-of-range values are clamped with a note. */
export function refreshIntervalOf(text: string | undefined, findings: Findings): string {
  if (text === undefined) return '1h';
  const ms = goDurationMs(text);
  if (ms === undefined) {
    findings.problem(`refreshInterval "${text}" is not a duration`);
    return '1h';
  }
  if (ms === 0) return '0';
  const min = parseDuration(refreshIntervalBounds.min);
  const max = parseDuration(refreshIntervalBounds.max);
  const clamped = Math.min(max, Math.max(min, Math.ceil(ms / 1000) * 1000));
  const converted = formatSeconds(clamped / 1000);
  if (clamped !== ms) {
    findings.note(
      `refreshInterval ${text} became ${converted} (kvsync takes whole seconds from ${refreshIntervalBounds.min} to ${refreshIntervalBounds.max}; rotation in seconds comes from Key Vault events)`,
    );
  }
  return converted;
}
