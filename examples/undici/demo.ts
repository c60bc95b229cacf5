/**
 * `npm run example:undici`: LoadwiseDispatcher in front of three local backends (shares, a
 * streaming response holding its lease, a target added and one killed), then undici's
 * BalancedPool and the dispatcher through the same outage (nodejs/undici#4839). About a second;
 * every server and pool is closed before it exits.
 */
import { BalancedPool, fetch, request, type Dispatcher } from 'undici';
import { LeastConnections, RoundRobin, type Balancer } from '../../src/index.js';
import { startBackends, type Backend } from './backends.js';
import { LoadwiseDispatcher, type UrlTarget } from './dispatcher.js';

const target = (b: Backend): UrlTarget => ({ id: b.name, url: b.url });

/** `n` sequential GETs to `http://service/` (any origin will do); how many of each answer. */
async function drive(dispatcher: Dispatcher, n: number): Promise<string> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let answer: string;
    try {
      answer = await (await request('http://service/', { dispatcher })).body.text();
    } catch (error) {
      answer = (error as { code?: string }).code === 'ERR_NO_TARGET' ? 'no target' : 'error';
    }
    seen.set(answer, (seen.get(answer) ?? 0) + 1);
  }
  return [...seen].sort().map(([k, v]) => `${k} ${v}`).join(', ');
}

const active = (lb: Balancer<UrlTarget>): string => lb.stats().map((s) => `${s.id} ${s.active}`).join(', ');

async function tour(): Promise<void> {
  const [a, b, c] = await startBackends(['a', 'b', 'c']);
  const lb = new LeastConnections([target(a!), target(b!)], { passive: true });
  const dispatcher = new LoadwiseDispatcher(lb);
  try {
    console.log(`least connections over a, b:          ${await drive(dispatcher, 20)}`);
    const streaming = await fetch('http://service/stream', { dispatcher });
    console.log(`a body still streaming, open leases:   ${active(lb)}`);
    console.log(`meanwhile 10 more requests:            ${await drive(dispatcher, 10)}`);
    a!.finishStreams();
    b!.finishStreams();
    await streaming.text();
    console.log(`body read to the end, open leases:     ${active(lb)}`);
    lb.add(target(c!));
    console.log(`c added at run time:                   ${await drive(dispatcher, 30)}`);
    await b!.kill();
    console.log(`b killed (passive health):             ${await drive(dispatcher, 30)}  → b is ${lb.stats()[1]!.state}`);
  } finally {
    await dispatcher.close();
    await Promise.all([a, b, c].map((x) => x!.close()));
  }
}

/** Both backends up for 20 requests, down for 30, then `restore` back; the next 100 requests. */
async function outage(name: string, make: (bs: Backend[]) => Dispatcher, restore: 'a' | 'both', pauseMs: number): Promise<void> {
  const bs = await startBackends(['a', 'b']);
  const dispatcher = make(bs);
  try {
    await drive(dispatcher, 20);
    await Promise.all(bs.map((x) => x.kill()));
    await drive(dispatcher, 30);
    await Promise.all((restore === 'a' ? bs.slice(0, 1) : bs).map((x) => x.restart()));
    await new Promise((r) => setTimeout(r, pauseMs));
    const back = restore === 'a' ? 'a back, b down' : 'both back    ';
    console.log(`${name.padEnd(40)} ${back}  next 100: ${await drive(dispatcher, 100)}`);
  } finally {
    await dispatcher.destroy();
    await Promise.all(bs.map((x) => x.close()));
  }
}

await tour();
console.log('\nafter both upstreams were down for 30 requests (nodejs/undici#4839):');
const failTimeoutMs = 100;
const loadwise = (bs: Backend[]): Dispatcher =>
  new LoadwiseDispatcher(new RoundRobin(bs.map(target), { passive: { maxFails: 1, failTimeoutMs } }));
for (const restore of ['a', 'both'] as const) {
  await outage('BalancedPool { connections: 1 }', (bs) => new BalancedPool(bs.map((x) => x.url), { connections: 1 }), restore, 0);
  await outage('BalancedPool (default options)', (bs) => new BalancedPool(bs.map((x) => x.url)), restore, 0);
  await outage(`LoadwiseDispatcher (failTimeoutMs ${failTimeoutMs})`, loadwise, restore, failTimeoutMs);
}
