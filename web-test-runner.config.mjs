// Web Test Runner: the element tests in Debian's Chromium, against a real
// @livestate/server that the live-server plugin starts and stops.
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter, summaryReporter } from '@web/test-runner';
import { liveStateServerPlugin } from './packages/elements/test/live-server-plugin.mjs';

/** Ends the run with a plain `N passed, N failed` line that CI can read. */
function countingReporter() {
  return {
    stop({ sessions }) {
      let passed = 0;
      let failed = 0;
      const count = (suite) => {
        for (const test of suite.tests) test.passed ? passed++ : test.skipped || failed++;
        for (const child of suite.suites) count(child);
      };
      for (const session of sessions) {
        if (session.testResults) count(session.testResults);
        if (!session.passed && !session.testResults) failed++;
      }
      // After WTR's own closing lines, so that this is the run's last line.
      process.once('exit', () => console.log(`browser: ${passed} passed, ${failed} failed`));
    },
  };
}

export default {
  files: ['packages/elements/test/**/*.test.ts'],
  nodeResolve: true,
  rootDir: fileURLToPath(new URL('.', import.meta.url)),
  testsFinishTimeout: 120_000,
  testFramework: { config: { timeout: 20_000 } },
  plugins: [
    esbuildPlugin({
      ts: true,
      target: 'es2022',
      tsconfig: fileURLToPath(new URL('./packages/elements/test/tsconfig.json', import.meta.url)),
    }),
    liveStateServerPlugin(),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      },
    }),
  ],
  reporters: [defaultReporter(), summaryReporter(), countingReporter()],
};
