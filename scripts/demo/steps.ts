// Numbered steps with their duration, and details indented under them. A step that throws ends
// the demo with a message naming it, so a non-zero exit always says what did not happen.

export class StepFailed extends Error {
  override readonly name = 'StepFailed';
}

export interface Steps {
  run<T>(title: string, action: () => Promise<T>): Promise<T>;
  /** A detail line under the current step. */
  detail(line: string): void;
}

export function numberedSteps(total: number, write: (line: string) => void): Steps {
  let current = 0;
  return {
    async run(title, action) {
      current += 1;
      const label = `${String(current).padStart(String(total).length)}/${total}`;
      write(`\n${label}  ${title}`);
      const started = performance.now();
      try {
        const result = await action();
        write(`       done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        return result;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new StepFailed(`step ${label} "${title}" did not happen: ${reason}`, {
          cause: error,
        });
      }
    },
    detail(line) {
      write(`       ${line}`);
    },
  };
}

/** Throws with `message` unless `condition` holds: how steps check what they promised. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
