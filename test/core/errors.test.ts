import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  InvalidWeightError,
  LoadwiseError,
  NoTargetError,
  PowerOfTwoChoices,
  RoundRobin,
  WeightedRoundRobin,
} from '../../src/index.js';

function caught(fn: () => unknown): LoadwiseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LoadwiseError) return err;
    throw err;
  }
  throw new Error('expected a throw');
}

describe('errors', () => {
  it('name the bad value and carry a stable code and class name', () => {
    const e = caught(() => new WeightedRoundRobin([{ id: 'a', weight: Number.NaN }]));
    expect(e).toBeInstanceOf(InvalidWeightError);
    expect(e.name).toBe('InvalidWeightError');
    expect(e.code).toBe('ERR_INVALID_WEIGHT');
    expect(e.message).toContain('NaN');
    expect(e.message).toContain('"a"');
    expect(caught(() => new WeightedRoundRobin([{ id: 'b', weight: -0 }])).message).toContain('-0');
  });

  it('LoadwiseError.is recognises errors from another copy of the library by brand', () => {
    const foreign = Object.create(Object.getPrototypeOf(new NoTargetError('x', 0)) as object) as object;
    expect(LoadwiseError.is(foreign)).toBe(true);
    expect(LoadwiseError.is(new Error('x'))).toBe(false);
    expect(LoadwiseError.is(null)).toBe(false);
    expect(LoadwiseError.is({ code: 'ERR_NO_TARGET' })).toBe(false);
  });

  it('PowerOfTwoChoices rejects choices that are not an integer >= 2, naming the option', () => {
    for (const choices of [1, 0, -2, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '3']) {
      const e = caught(() => new PowerOfTwoChoices(['a', 'b'], { choices: choices as number }));
      expect(e).toBeInstanceOf(InvalidOptionError);
      expect((e as InvalidOptionError).option).toBe('choices');
      expect(e.message).toContain('choices');
    }
  });

  it('rejects options that are not an object, and unknown option names', () => {
    expect((caught(() => new RoundRobin(['a'], 5 as never)) as InvalidOptionError).option).toBe('options');
    const e = caught(() => new RoundRobin(['a'], { choices: 2 } as never)) as InvalidOptionError;
    expect(e.option).toBe('choices');
    expect(e.message).toContain('seed, random, now');
    expect((caught(() => new RoundRobin(['a'], { now: 'x' } as never)) as InvalidOptionError).option).toBe('now');
  });

  it('rejects a pick input that is neither a key nor a request object', () => {
    const lb = new RoundRobin(['a']);
    expect(caught(() => lb.pick(7 as never)).code).toBe('ERR_INVALID_OPTION');
    expect(caught(() => lb.pick(null as never)).code).toBe('ERR_INVALID_OPTION');
    expect(lb.pick()).toBe('a');
  });
});
