import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cooldowns, retryAfterMs } from '../../src/fetch/cooldown.js';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

describe('retryAfterMs', () => {
  it('reads delay-seconds as milliseconds', () => {
    expect(retryAfterMs('120', NOW)).toBe(120_000);
    expect(retryAfterMs('0', NOW)).toBe(0);
    expect(retryAfterMs('  7 ', NOW)).toBe(7_000);
    expect(retryAfterMs('0007', NOW)).toBe(7_000);
    expect(retryAfterMs('9999999999', NOW)).toBe(9_999_999_999_000);
  });

  it('any delay-seconds of up to 10 digits reads as n × 1000 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999 }), (n) => {
        expect(retryAfterMs(String(n), NOW)).toBe(n * 1000);
      }),
    );
  });

  it('reads an HTTP-date as the time left until it, in the three formats RFC 9110 names', () => {
    expect(retryAfterMs('Mon, 15 Jan 2024 12:00:30 GMT', NOW)).toBe(30_000);
    expect(retryAfterMs('Monday, 15-Jan-24 12:01:00 GMT', NOW)).toBe(60_000);
    expect(retryAfterMs('Mon Jan 15 12:00:05 2024', NOW)).toBe(5_000);
    expect(retryAfterMs('Mon Jan  5 12:00:05 2024', Date.UTC(2024, 0, 5, 12, 0, 0))).toBe(5_000);
  });

  it('an asctime-date (no zone) is GMT whatever the local time zone is', () => {
    const saved = process.env['TZ'];
    try {
      for (const zone of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
        process.env['TZ'] = zone;
        expect(retryAfterMs('Mon Jan 15 12:00:05 2024', NOW), zone).toBe(5_000);
        expect(retryAfterMs('Mon, 15 Jan 2024 12:00:05 GMT', NOW), zone).toBe(5_000);
      }
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
  });

  it('an HTTP-date in the past (or now) is 0, never negative', () => {
    expect(retryAfterMs('Mon, 15 Jan 2024 11:59:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs('Mon, 15 Jan 2024 12:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:00 GMT', NOW)).toBe(0);
  });

  it.each(['', '   ', 'soon', 'abc', '-1', '1.5', '+5', '12abc', '0x10', '1e3', '12345678901', 'NaN', 'Infinity', '5 seconds'])(
    'the garbage %j is undefined',
    (value) => {
      expect(retryAfterMs(value, NOW)).toBeUndefined();
    },
  );

  it('an absent header is undefined', () => {
    expect(retryAfterMs(null, NOW)).toBeUndefined();
  });
});

/** A clock the test moves by hand. */
function fakeClock(start = 1_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('Cooldowns', () => {
  it('nothing cooling: active() and soonestS() are undefined', () => {
    const c = new Cooldowns(fakeClock().now, 60_000);
    expect(c.active()).toBeUndefined();
    expect(c.soonestS()).toBeUndefined();
  });

  it('add() caps the span at maxMs and says what it applied', () => {
    const clock = fakeClock();
    const c = new Cooldowns(clock.now, 10_000);
    expect(c.add('a', 3_000)).toBe(3_000);
    expect(c.add('b', 10_000)).toBe(10_000);
    expect(c.add('c', 999_999)).toBe(10_000);
    clock.advance(10_000 - 1);
    expect(c.active()).toEqual(['b', 'c']);
    clock.advance(1);
    expect(c.active()).toBeUndefined();
  });

  it('a cooldown ends exactly at its end time (end ≤ now is over)', () => {
    const clock = fakeClock();
    const c = new Cooldowns(clock.now, 60_000);
    c.add('a', 5_000);
    clock.advance(4_999);
    expect(c.active()).toEqual(['a']);
    clock.advance(1);
    expect(c.active()).toBeUndefined();
    expect(c.soonestS()).toBeUndefined();
  });

  it('a longer cooldown already running is kept; a longer new one replaces a shorter', () => {
    const clock = fakeClock();
    const c = new Cooldowns(clock.now, 60_000);
    c.add('a', 30_000);
    clock.advance(1_000);
    c.add('a', 5_000); // ends at +6 s, before the running one's +30 s
    clock.advance(10_000);
    expect(c.active()).toEqual(['a']);
    c.add('a', 40_000); // now ends at +51 s
    clock.advance(30_000);
    expect(c.active()).toEqual(['a']);
    clock.advance(10_000);
    expect(c.active()).toBeUndefined();
  });

  it('expired ids are forgotten, others stay', () => {
    const clock = fakeClock();
    const c = new Cooldowns(clock.now, 60_000);
    c.add('short', 1_000);
    c.add('long', 5_000);
    clock.advance(2_000);
    expect(c.active()).toEqual(['long']);
    expect(c.soonestS()).toBe(3);
  });

  it('soonestS() is the soonest end in whole seconds, rounded up, at least 1', () => {
    const clock = fakeClock();
    const c = new Cooldowns(clock.now, 60_000);
    c.add('a', 2_500);
    c.add('b', 7_000);
    expect(c.soonestS()).toBe(3);
    clock.advance(500);
    expect(c.soonestS()).toBe(2);
    clock.advance(1);
    expect(c.soonestS()).toBe(2);
    clock.advance(1_998); // 1 ms left
    expect(c.soonestS()).toBe(1);
    clock.advance(1); // a is over: b has 4.5 s left
    expect(c.soonestS()).toBe(5);
  });

  it('soonestS() is at least 1 even for a tiny span, and ignores ended cooldowns', () => {
    const clock = fakeClock();
    const c = new Cooldowns(clock.now, 60_000);
    c.add('a', 1);
    expect(c.soonestS()).toBe(1);
    clock.advance(1);
    expect(c.soonestS()).toBeUndefined();
  });

  it('soonestS() = max(1, ceil(ms left / 1000)) for any span and elapsed time (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120_000 }), fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 1, max: 60_000 }), (ms, elapsed, maxMs) => {
        const clock = fakeClock();
        const c = new Cooldowns(clock.now, maxMs);
        const span = c.add('a', ms);
        expect(span).toBe(Math.min(ms, maxMs));
        clock.advance(elapsed);
        const left = span - elapsed;
        expect(c.soonestS()).toBe(left > 0 ? Math.max(1, Math.ceil(left / 1000)) : undefined);
        expect(c.active()).toEqual(left > 0 ? ['a'] : undefined);
      }),
    );
  });
});
