// Where kvsync's time and memory go, from the files `npm run bench -- --profile` writes:
//   node bench/profile-summary.ts <dir>     (a bench/results/*-profile-<N> directory)
// CPU: self time by package (node_modules/<name>, node:internal, kvsync's own dist/) and by
// function. Heap: self size by constructor (heap snapshot node name), the biggest first.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export function summariseCpu(profile: CpuProfile, top = 15): string {
  const totalUs = profile.endTime - profile.startTime;
  const perSampleUs = totalUs / Math.max(1, profile.samples.length);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const us = (node.hitCount ?? 0) * perSampleUs;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const busy = totalUs - idle;
  const table = (title: string, rows: Map<string, number>) =>
    [
      `${title} (self time, % of busy)`,
      ...[...rows.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(
          ([name, us]) =>
            `  ${pct(us, busy).padStart(6)}  ${(us / 1e6).toFixed(1).padStart(6)} s  ${name}`,
        ),
    ].join('\n');
  return [
    `profile ${(totalUs / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${pct(busy, totalUs)})`,
    table('by package', byPackage),
    table('by function', byFunction),
  ].join('\n');
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summariseHeap(heap: HeapSnapshot, top = 25): string {
  const fields = heap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = heap.snapshot.meta.node_types[0];
  const bySize = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt]!] ?? '?';
    const size = heap.nodes[i + sizeAt]!;
    total += size;
    // Strings and code are grouped by type; objects by constructor name.
    const name =
      type === 'object' || type === 'closure' || type === 'native'
        ? `${type} ${heap.strings[heap.nodes[i + nameAt]!]}`
        : `(${type})`;
    const entry = bySize.get(name) ?? { size: 0, count: 0 };
    entry.size += size;
    entry.count += 1;
    bySize.set(name, entry);
  }
  return [
    `heap snapshot: ${(total / 2 ** 20).toFixed(1)} MiB in ${(heap.nodes.length / width).toLocaleString('en-US')} objects`,
    ...[...bySize.entries()]
      .sort((a, b) => b[1].size - a[1].size)
      .slice(0, top)
      .map(
        ([name, { size, count }]) =>
          `  ${pct(size, total).padStart(6)}  ${(size / 2 ** 20).toFixed(1).padStart(6)} MiB  ${count.toLocaleString('en-US').padStart(9)}  ${name.slice(0, 100)}`,
      ),
  ].join('\n');
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node: (runtime)';
  const own = /\/(dist|src)\/(.+)$/.exec(url);
  return own ? `kvsync ${own[1]}/${own[2]!.split('/')[0]}` : url;
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^.*\/(dist|src)\//, '$1/');
}

function pct(part: number, whole: number): string {
  return `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;
}

async function main(dir: string): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const file = path.join(dir, name);
    if (name.endsWith('.cpuprofile')) {
      console.log(
        `== ${name}\n${summariseCpu(JSON.parse(await readFile(file, 'utf8')) as CpuProfile)}\n`,
      );
    } else if (name.endsWith('.heapsnapshot')) {
      console.log(
        `== ${name}\n${summariseHeap(JSON.parse(await readFile(file, 'utf8')) as HeapSnapshot)}\n`,
      );
    }
  }
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/profile-summary.ts <profile directory>');
    process.exit(2);
  }
  await main(dir);
}
