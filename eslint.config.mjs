import js from '@eslint/js';
import * as espree from 'espree';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Runs inside Zabbix (Duktape): ES5 only, with the globals Zabbix gives a webhook script.
    files: ['config/integrations/zabbix/*.js'],
    languageOptions: {
      parser: espree,
      ecmaVersion: 5,
      sourceType: 'script',
      parserOptions: { ecmaFeatures: { globalReturn: true } },
      globals: { value: 'readonly', HttpRequest: 'readonly', Zabbix: 'readonly' },
    },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
  {
    // Runs inside ServiceNow as a business rule (the global scope's ES5 engine), with the globals an instance gives it.
    files: ['config/integrations/servicenow/*.js'],
    languageOptions: {
      parser: espree,
      ecmaVersion: 5,
      sourceType: 'script',
      globals: { current: 'readonly', previous: 'readonly', gs: 'readonly', GlideRecord: 'readonly', GlideDateTime: 'readonly', GlideCertificateEncryption: 'readonly', sn_ws: 'readonly' },
    },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { args: 'none' }] },
  },
  {
    // The console's script runs in the browser.
    files: ['src/console/assets/static/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
);
