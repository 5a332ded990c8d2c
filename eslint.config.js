import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'charts/', 'deploy/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // client-node's index loads every generated API group and model (tens of MiB): kvsync's own
    // code imports types from it and values from the few modules it uses (slim-client-node.ts).
    // Nor undici (about 25 MiB of RSS): kube-http.ts talks node:https (lazy-undici.ts).
    files: ['src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@kubernetes/client-node',
              allowTypeImports: true,
              message:
                'Import values from @kubernetes/client-node/dist/<module>.js, or call the API through src/runtime/kube-http.ts.',
            },
            {
              name: 'undici',
              allowTypeImports: true,
              message: 'Call the Kubernetes API through src/runtime/kube-http.ts (node:https).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['scripts/**', 'bench/**', 'test/support/cluster-cli.ts'],
    rules: { 'no-console': 'off' },
  },
);
