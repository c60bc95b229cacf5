/**
 * Runs catalogue cases in a worker thread, so that the test's watchdog can end a case that
 * never returns (a synchronous hang cannot be interrupted in the thread that runs it). Answers
 * one message per case, in order: a case that hangs is the one after the last answer.
 */
import { parentPort } from 'node:worker_threads';
import { catalogue } from './catalogue.js';
import type { CaseResult } from './harness.js';
import { errorText } from './twins.js';

export interface CaseMessage {
  readonly i: number;
  readonly r: CaseResult;
  readonly ms: number;
}

const port = parentPort!;
const cases = catalogue();

port.on('message', (m: { from: number; to: number }) => {
  void (async () => {
    for (let i = m.from; i < m.to; i++) {
      const c = cases[i]!;
      const t0 = performance.now();
      let r: CaseResult;
      try {
        r = c.async ? await c.run() : (c.run() as CaseResult);
      } catch (err) {
        r = { pass: false, why: `the harness threw: ${errorText(err)}`, act: '-' };
      }
      port.postMessage({ i, r, ms: performance.now() - t0 } satisfies CaseMessage);
    }
  })();
});
port.postMessage({ ready: cases.length });
