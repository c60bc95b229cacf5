/**
 * The simulator's event queue: a binary min-heap ordered by time, then by the order events were
 * scheduled. The sequence number makes simultaneous events run first-scheduled-first, so a run
 * never depends on how a heap happens to break ties.
 *
 * @example
 * ```ts
 * import { EventQueue } from 'loadwise/sim';
 * const q = new EventQueue<string>();
 * q.push(5, 'b');
 * q.push(1, 'a');
 * q.push(5, 'c');
 * q.pop(); // 'a'
 * q.pop(); // 'b' (scheduled before 'c' at the same time)
 * q.lastTime; // 5
 * ```
 */
export class EventQueue<E> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: E[] = [];
  private nextSeq = 0;
  /** Time of the event {@link EventQueue.pop} returned last (0 before the first). */
  lastTime = 0;

  /** Events waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Schedules `item` at `time` (a number that is not NaN). */
  push(time: number, item: E): void {
    if (time !== time) throw new RangeError('EventQueue: event time is NaN');
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    const seq = this.nextSeq++;
    let i = items.length;
    times.push(time);
    seqs.push(seq);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
  }

  /** Time of the earliest event, or `Infinity` when empty. */
  peekTime(): number {
    return this.items.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  /** Removes and returns the earliest event (ties: the first scheduled), or `undefined`. */
  pop(): E | undefined {
    const items = this.items;
    const n = items.length;
    if (n === 0) return undefined;
    const top = items[0]!;
    const times = this.times;
    this.lastTime = times[0]!;
    const seqs = this.seqs;
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const last = items.pop()!;
    const size = n - 1;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        let c = l;
        if (r < size && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!))) c = r;
        const ct = times[c]!;
        if (ct > lastTime || (ct === lastTime && seqs[c]! > lastSeq)) break;
        times[i] = ct;
        seqs[i] = seqs[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      items[i] = last;
    }
    return top;
  }
}
