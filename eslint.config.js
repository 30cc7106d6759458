// Lint is a cheap guard for the design rules: time and randomness are
// injected (src/time, src/util/ids.ts), so lease expiry and schedulers can be
// tested with a manual clock instead of sleeps.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const rawTimeAndRandom = [
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Use the injected Clock (src/time/clock.ts).' },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use the injected Clock (src/time/clock.ts).' },
  { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Use the injected IdSource (src/util/ids.ts).' },
  { selector: "CallExpression[callee.name='setTimeout']", message: 'Use clock.sleep() or the Clock timer helpers.' },
  { selector: "CallExpression[callee.name='setInterval']", message: 'Use clock.sleep() loops.' },
  { selector: "MemberExpression[object.name='performance'][property.name='now']", message: 'Use the injected Clock (clock.monotonic()).' },
];
// The timers module is a clock too; setImmediate (yielding a turn) is not.
const rawTimerImports = ['node:timers', 'node:timers/promises', 'timers', 'timers/promises'].map((name) => ({
  name,
  importNames: ['setTimeout', 'setInterval', 'scheduler'],
  message: 'Use the injected Clock (src/time/clock.ts); tests use test/support/wall-clock.ts.',
}));

// The folders of src/, lowest first. A folder imports only folders before it,
// so the folder graph is acyclic (docs/architecture.md); `npm run lint` also
// runs madge --circular for cycles between files.
const layers = ['time', 'util', 'store', 'layout', 'records', 'lease', 'manifest', 'runner', 'gossip', 'node', 'status', 'observer', 'cli', 'demo'];
const layerZones = layers.map((layer, index) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: layer === 'time' ? [] : rawTimerImports,
        patterns: layers.slice(index + 1).map((above) => ({
          regex: `^\\.{1,2}/(\\.\\./)*${above}/`,
          message: `src/${layer} sits below src/${above} in the folder layers (eslint.config.js): move the shared part down instead.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.replay/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Type-aware rules for the product code: a promise nobody awaits loses its
    // error (an unhandled rejection ends the process), a switch over a union
    // must name every member, and only errors are thrown.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/time/system-clock.ts', 'src/util/ids.ts'],
    rules: { 'no-restricted-syntax': ['error', ...rawTimeAndRandom] },
  },
  ...layerZones,
  {
    // Tests run on the manual clock; the few that need the wall clock (real
    // processes, real sockets) get it from test/support, where it is visible.
    files: ['test/**/*.ts'],
    ignores: ['test/support/**'],
    rules: {
      'no-restricted-syntax': ['error', ...rawTimeAndRandom],
      'no-restricted-imports': ['error', { paths: rawTimerImports }],
    },
  },
  {
    // The observer's page script runs in the browser.
    files: ['static/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', EventSource: 'readonly', fetch: 'readonly', performance: 'readonly', requestAnimationFrame: 'readonly', cancelAnimationFrame: 'readonly', CustomEvent: 'readonly' },
    },
  },
  {
    files: ['bin/**/*.js', 'test/**/*.mjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
  },
);
