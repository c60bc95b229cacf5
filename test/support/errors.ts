/** Assertions on what loadwise throws. */
import { expect } from 'vitest';
import { InvalidWeightError, LoadwiseError } from '../../src/index.js';

/** What `fn` throws; undefined when it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** `fn` throws an InvalidWeightError (a LoadwiseError coded ERR_INVALID_WEIGHT) whose message matches `message` (the bound it states). */
export function expectInvalidWeight(fn: () => unknown, message: RegExp): void {
  const caught = thrown(fn);
  expect(caught).toBeInstanceOf(InvalidWeightError);
  expect(LoadwiseError.is(caught)).toBe(true);
  expect((caught as InvalidWeightError).code).toBe('ERR_INVALID_WEIGHT');
  expect((caught as Error).message).toMatch(message);
}
