// kvsync's own Key Vault reader against independent Key Vault implementations: one table of cases
// (cases.ts), run against every backend that can be had here, and the backends compared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultBudget } from '../../src/keyvault/budget.ts';
import { createSecretReader } from '../../src/keyvault/secret-reader.ts';
import type { VaultReader } from '../../src/keyvault/types.ts';
import { lowkeyBackend, type ConformanceBackend } from './backends.ts';
import { conformanceCases, type CaseContext, type Observation } from './cases.ts';
import { fakeBackend } from './fake-backend.ts';
import { findLowkeyJar } from './lowkey-vault.ts';

interface BackendDefinition {
  readonly name: string;
  /** Why this backend cannot run here, or undefined when it can. */
  readonly unavailable: string | undefined;
  start(): Promise<ConformanceBackend>;
}

const lowkeyJar = await findLowkeyJar();
const definitions: BackendDefinition[] = [
  {
    name: 'lowkey-vault',
    unavailable: 'unavailable' in lowkeyJar ? lowkeyJar.unavailable : undefined,
    start: async () => {
      const backend = await lowkeyBackend((lowkeyJar as { jar: string }).jar);
      process.stderr.write(
        `conformance: Lowkey Vault ready in ${(backend.startupMs / 1000).toFixed(1)} s\n`,
      );
      return backend;
    },
  },
  { name: 'fake-key-vault', unavailable: undefined, start: fakeBackend },
];

/** case name -> backend name -> what the backend showed. */
const observed = new Map<string, Map<string, Observation>>();

for (const definition of definitions) {
  if (definition.unavailable !== undefined) {
    process.stderr.write(`conformance: ${definition.name} skipped: ${definition.unavailable}\n`);
  }
  describe.skipIf(definition.unavailable !== undefined)(
    `Key Vault conformance: ${definition.name}`,
    () => {
      let backend: ConformanceBackend | undefined;
      let context: CaseContext;

      beforeAll(async () => {
        backend = await definition.start();
        const reader: VaultReader = createSecretReader({
          vaultUrl: backend.vaultUrl,
          credential: backend.credential,
          budget: createVaultBudget(),
          clientOptions: backend.clientOptions,
        });
        let counter = 0;
        context = { backend, reader, name: (prefix) => `${prefix}-${(counter += 1)}` };
      });

      afterAll(async () => {
        await backend?.stop();
      });

      it.each(conformanceCases)('$name', async (testCase) => {
        const observation = await testCase.run(context);
        const byBackend = observed.get(testCase.name) ?? new Map<string, Observation>();
        byBackend.set(definition.name, observation);
        observed.set(testCase.name, byBackend);
        expect(observation).toEqual(testCase.expected);
      });
    },
  );
}

const runnable = definitions.filter((d) => d.unavailable === undefined);
describe.skipIf(runnable.length < 2)('Key Vault conformance: backends agree', () => {
  it('every backend showed the same observation in every case', () => {
    const differences: string[] = [];
    for (const [caseName, byBackend] of observed) {
      const [first, ...rest] = [...byBackend.entries()];
      for (const [backendName, observation] of rest) {
        if (first && JSON.stringify(observation) !== JSON.stringify(first[1])) {
          differences.push(
            `${caseName}: ${first[0]} ${JSON.stringify(first[1])} vs ${backendName} ${JSON.stringify(observation)}`,
          );
        }
      }
    }
    expect(differences).toEqual([]);
  });
});
