// Type-aware rules everywhere; workflow code additionally may not import anything that
// does I/O (Node built-ins, mysql2, the worker/client/activity SDK packages).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'child_process', 'net', 'http', 'https', 'os', 'crypto', 'dns', 'tls', 'stream', 'worker_threads', 'cluster', 'readline', 'zlib', 'process', 'events', 'timers'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.venv/**', '.data/**', '.build/**', 'scratch/**', 'dist/**', 'coverage/**', 'cli/bin.js', 'jest.config.js', 'eslint.config.mjs', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'workflow code must be deterministic: no Node built-ins' })),
            { name: 'mysql2', message: 'workflow code does no I/O' },
            { name: 'mysql2/promise', message: 'workflow code does no I/O' },
            { name: '@temporalio/activity', message: 'activities run outside workflows' },
            { name: '@temporalio/client', message: 'workflows do not start workflows through a client' },
            { name: '@temporalio/worker', message: 'the worker package is not for workflow code' },
          ],
          patterns: [{ group: ['../activities/*', '../activities/**', '../workers/**', '../registry/**', '../api/**'], allowTypeImports: true, message: 'only `import type` of activities; no I/O modules' }],
        },
      ],
    },
  },
);
